/// What went wrong with one crash state, in the order a state is checked: rebuilt on the disk, mounted (log
/// recovery runs), its files verified, unmounted, fsck'ed. Each stage's finding keeps its own data, so that
/// the decision, explore's failure signature and the reproducer's match read fields, not wording.
public enum CrashStateProblem: Equatable, Codable, Sendable, CustomStringConvertible {
    /// The state could not be put on the disk (the write log or the disk failed): the machine's doing, not
    /// the filesystem's.
    case rebuildFailed(error: String)
    /// The mount failed: log recovery could not make a filesystem of the state.
    case unmountable(error: String)
    /// It mounted, but its root could not be opened.
    case rootUnopenable(error: String)
    /// A file did not hold what it was owed: missing, unreadable, the wrong size or the wrong bytes.
    case verify(result: VerifyResult)
    /// The files held, but the unmount failed.
    case unmountFailed(error: String)
    /// The read-only fsck rejected the state: its whole output.
    case fsck(output: String)

    /// The file a failed verify names.
    public var file: String? {
        if case .verify(let result) = self { return result.file }
        return nil
    }

    /// `verify f: the file is missing`, `does not mount: …`, `fsck: <its first finding>`: one line.
    public var description: String {
        switch self {
        case .rebuildFailed(let error): return "cannot rebuild the state: \(error)"
        case .unmountable(let error): return "does not mount: \(error)"
        case .rootUnopenable(let error): return "cannot open the mount: \(error)"
        case .verify(let result): return Decision.describe(result).first ?? "verify \(result.file): failed"
        case .unmountFailed(let error): return "unmount: \(error)"
        case .fsck(let output):
            // The first line names the tool and the device; the first finding follows it.
            let lines = output.split(separator: "\n").dropFirst()
            return "fsck: " + (lines.first(where: { !$0.isEmpty }).map(String.init) ?? "failed")
        }
    }
}
