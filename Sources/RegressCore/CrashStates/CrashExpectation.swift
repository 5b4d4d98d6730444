/// What a crash state owes each file (issue 11): the epoch it cuts ended during one step, so every file must
/// hold, block by block, what was durable before that step or what it held after it. Data and size made
/// durable before the step must be there; a file never made durable may be missing. The same promise a
/// power cut has (`ContentModel.powerCut`), taken at every flush instead of once.
public enum CrashExpectation {
    /// What one file is owed: `expected`, or for a name whose binding is not durable yet, any of
    /// `alternatives` (the files whose names were in flux: the name may still show one of them).
    public struct Owed: Equatable, Sendable {
        public var file: String
        public var expected: ContentModel.Expected
        public var alternatives: [ContentModel.Expected] = []
    }

    /// `before`: the model before the step (its durable content is what must survive); `after`: the model
    /// after it; `pendingNames`: names given or taken away before the step that nothing made durable yet (a
    /// file under such a name may be missing, or be one of the files whose names were in flux, as the
    /// name was before the rename). Files the step removed are not checked: whether their name survives
    /// is not promised.
    public static func expected(before: ContentModel, after: ContentModel, pendingNames: Set<String> = []) -> [Owed] {
        let old = before.files, new = after.files
        let inFlux: [ContentModel.Expected] = pendingNames.sorted().compactMap { name in
            guard let state = old[name], let durable = state.durable else { return nil }
            return durable == state.content ? .exact(durable) : .either(old: durable, new: state.content)
        }
        return after.fileNames.map { file in
            let pending = pendingNames.contains(file)
            let durable = pending ? nil : old[file]?.durable
            let content = new[file]!.content
            return Owed(file: file, expected: durable == content ? .exact(content) : .either(old: durable, new: content),
                        alternatives: pending ? inFlux : [])
        }
    }

    /// The model takes names to be as durable as the file they name, which a power cut at the end of a test
    /// may take for granted but a crash state at every flush may not: a rename or a link reaches the disk
    /// with the next sync, or an fsync of the file. Returns the names still pending after a step's changes.
    public static func pendingNames(_ pending: Set<String>, after changes: [ModelChange]) -> Set<String> {
        var pending = pending
        for change in changes {
            switch change {
            case .rename(let from, let to):
                // A directory's rename moves every name beneath it.
                for name in pending where name.hasPrefix(from + "/") { pending.remove(name); pending.insert(to + name.dropFirst(from.count)) }
                // Both names are in flux: the old one may still name the file, the new one may not yet.
                pending.insert(from)
                pending.insert(to)
            case .link(_, let to): pending.insert(to)
            case .makeDurable(let file): pending.remove(file)
            case .makeAllDurable: pending.removeAll()
            case .remove(let file): pending.insert(file)
            case .write, .allocate, .truncate, .clone, .create, .makeDataDurable, .makeRangeDurable, .exchange, .powerCut, .adopt:
                break
            }
        }
        return pending
    }

    /// The snapshot pair a log position falls between: `positions[k]` is the log length when snapshot k was
    /// taken (ascending). Returns (k, k+1) for the last k with positions[k] <= position, or (k, k) past the last.
    public static func window(of position: Int, in positions: [Int]) -> (before: Int, after: Int)? {
        guard let k = positions.lastIndex(where: { $0 <= position }) else { return nil }
        return (k, min(k + 1, positions.count - 1))
    }
}
