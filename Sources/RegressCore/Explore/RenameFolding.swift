/// A shrinking pass between delta debugging and the ranges: a rename that only carries a file to the name
/// later steps use cannot be dropped by delta debugging (those steps would name a file that does not
/// exist), but it can be folded away: drop `rename A B` and call the file A in the steps after it.
public enum RenameFolding {
    /// Each workload with one rename folded away, the last rename first (later steps depend on fewer).
    public static func candidates(_ steps: [WorkloadStep]) -> [[WorkloadStep]] {
        steps.indices.reversed().compactMap { index -> [WorkloadStep]? in
            guard case .rename(let from, let to) = steps[index].operation else { return nil }
            func rename(_ name: String) -> String {
                name == to ? from : name.hasPrefix(to + "/") ? from + name.dropFirst(to.count) : name
            }
            var folded = Array(steps[..<index])
            for step in steps[(index + 1)...] {
                folded.append(WorkloadStep(step.operation.renamingFiles(rename), mayRunOutOfSpace: step.mayRunOutOfSpace))
            }
            return folded
        }
    }

    /// Folds renames away while `stillFails`, at most `budget` calls.
    public static func minimize(_ steps: [WorkloadStep], budget: Int = 20,
                                stillFails: ([WorkloadStep]) throws -> Bool) rethrows -> (steps: [WorkloadStep], tries: Int) {
        var current = steps, tries = 0
        var folded = true
        while folded {
            folded = false
            for candidate in candidates(current) {
                guard tries < budget else { return (current, tries) }
                tries += 1
                if try stillFails(candidate) {
                    current = candidate
                    folded = true
                    break
                }
            }
        }
        return (current, tries)
    }
}

extension WorkloadOperation {
    /// The same operation on renamed files (every file or directory name it holds passed through `rename`).
    func renamingFiles(_ rename: (String) -> String) -> WorkloadOperation {
        switch self {
        case .write(let file, let offset, let length, let pattern, let direct):
            return .write(file: rename(file), offset: offset, length: length, pattern: pattern, direct: direct)
        case .truncate(let file, let size): return .truncate(file: rename(file), size: size)
        case .allocate(let file, let offset, let length, let keep): return .allocate(file: rename(file), offset: offset, length: length, keepSize: keep)
        case .punch(let file, let offset, let length): return .punch(file: rename(file), offset: offset, length: length)
        case .zero(let file, let offset, let length, let keep): return .zero(file: rename(file), offset: offset, length: length, keepSize: keep)
        case .collapse(let file, let offset, let length): return .collapse(file: rename(file), offset: offset, length: length)
        case .insert(let file, let offset, let length): return .insert(file: rename(file), offset: offset, length: length)
        case .reflink(let file, let source, let sourceOffset, let offset, let length):
            return .reflink(file: rename(file), source: rename(source), sourceOffset: sourceOffset, offset: offset, length: length)
        case .dedupe(let file, let source, let sourceOffset, let offset, let length, let differs):
            return .dedupe(file: rename(file), source: rename(source), sourceOffset: sourceOffset, offset: offset, length: length, differs: differs)
        case .fsync(let file): return .fsync(rename(file))
        case .fdatasync(let file): return .fdatasync(rename(file))
        case .mkdir(let name): return .mkdir(rename(name))
        case .rename(let from, let to): return .rename(from: rename(from), to: rename(to))
        case .link(let from, let to): return .link(from: rename(from), to: rename(to))
        case .unlink(let name): return .unlink(rename(name))
        case .fill(let file, let size): return .fill(file: rename(file), size: size)
        case .verify(let name): return .verify(name.map(rename))
        case .sync, .syncfs, .remount, .powerCut, .lyingCache, .dropWrites, .clearFaults: return self
        }
    }
}
