/// Turns a reproducer, as posted (a script, a mail, a patch with the script in it, an fstests test), into a
/// test file: the front end finds the script and reads it as the shell would, each command becomes
/// operations, and the operations become header lines and steps through the command table
/// (`StepRendering`). Every input line is accounted for (`lines`): translated, ignored on purpose, or
/// untranslated with the reason. The test ends with `verify`, a remount and `verify` again, because a
/// reproducer's own check is usually a person reading its output.
public struct ReproducerImporter {
    public struct Output {
        /// The test file; nil when none of the reproducer's file operations became a step (a test that
        /// exercises nothing must not be written: it could only ever say ok).
        public var text: String?
        public var lines: [ImportLine]
        /// How many steps change a file (data operations of the command table).
        public var dataSteps: Int
        /// The account of the golden output's lines (empty without one), numbered as in that file.
        public var goldenLines: [ImportLine] = []
        public var untranslated: [ImportLine] { lines.filter { if case .untranslated = $0.disposition { return true } else { return false } } }
        public var untranslatedGoldenLines: [ImportLine] { goldenLines.filter { if case .untranslated = $0.disposition { return true } else { return false } } }
    }

    public init() {}

    /// The one filesystem among the words of an input's name (split at `/`, `-`, `_`, `.`), if exactly one.
    static func filesystemNamed(by name: String) -> String? {
        let words = Set(name.lowercased().split(whereSeparator: { "/-_.".contains($0) }).map(String.init))
        let named = ["btrfs", "xfs", "ext4"].filter(words.contains)
        return named.count == 1 ? named[0] : nil
    }

    /// `inputPath`: where the input was read from, whose words may name the filesystem. `goldenOutput`:
    /// what the reproducer prints when the bug is fixed (an fstests test's `.out`).
    public func importScript(_ source: String, name: String, inputPath: String? = nil, goldenOutput: String? = nil) -> Output {
        let frontEnd = ImportFrontEnd(source, goldenOutput: goldenOutput)
        var header: [String] = [], steps: [String] = []
        for line in frontEnd.renderedLines {
            guard StepRendering.isHeaderLine(line) else { steps.append(line); continue }
            // A key appears once: the first fix a test names is the one it guards, the first mkfs options
            // the ones its filesystem is made with (`requires:` lines are merged below).
            let key = line.prefix { $0 != ":" }
            if key != "requires" && header.contains(where: { $0.hasPrefix(key + ":") }) { continue }
            if !header.contains(line) { header.append(line) }
        }
        let parser = TestParser(path: name, name: name)
        var files = FileTracker()
        let parsed = steps.compactMap { try? parser.parseStep($0, lineNumber: 1, files: &files) }
        let dataSteps = parsed.filter { $0.spec.category == .data }.count
        guard dataSteps > 0 else { return Output(text: nil, lines: frontEnd.lines, dataSteps: 0, goldenLines: frontEnd.goldenLines) }

        if !header.contains(where: { $0.hasPrefix("filesystems:") }) {
            // Nothing in it named the filesystem: the input's name may (fstests' tests/btrfs/159, a
            // file saved as btrfs-fsync-bug.sh); else every filesystem, so the test runs wherever it applies.
            header.insert("filesystems: " + (ReproducerImporter.filesystemNamed(by: inputPath ?? name) ?? "btrfs xfs ext4"), at: 0)
        }
        // One `requires:` line (a key may appear once): what fstests' `_require_*` asked for, and what the steps use.
        var required = header.filter { $0.hasPrefix("requires:") }.flatMap { $0.dropFirst("requires:".count).split(separator: " ").map(String.init) }
        header.removeAll { $0.hasPrefix("requires:") }
        if parsed.contains(where: { $0.name == "reflink" }) { required.append("reflink") }
        else if parsed.contains(where: { $0.name == "dedupe" }) { required.append("dedupe") }
        if !required.isEmpty { header.append("requires: " + required.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: " ")) }
        var lines = ["# Imported by `regress import` from \(name). Review before committing:",
                     header.contains { $0.hasPrefix("fix:") } ? "# the summary and groups are for a person to write; the fix is the one the source names."
                                                              : "# the summary, groups and the fix it guards are for a person to write.",
                     "summary: imported reproducer \(name)",
                     "groups: auto imported"] + header
        lines.append("")
        lines.append("steps:")
        lines += steps
        lines.append("# Added by the import: the data must be right, also after a clean remount.")
        lines += ["verify", "remount", "verify"]
        return Output(text: lines.joined(separator: "\n") + "\n", lines: frontEnd.lines, dataSteps: dataSteps, goldenLines: frontEnd.goldenLines)
    }
}
