/// After a power cut the model does not read what the files hold: it keeps, for each file, that every
/// block is old or new (and a name may be bound either way) until the test's own `verify` looks, so that
/// the steps after the cut run on the state recovery left, caches cold and inodes unread, as the script's
/// do. A step whose outcome, or whose effect on the model, depends on which it was is the exception: the
/// runner reads those files first (and says so in the step log).
extension ContentModel {
    /// The files to read before `step` can run, given what it promises.
    public func unresolved(before step: Step, promising promise: StepPromise) -> [String] {
        let unresolved = unresolvedAfterPowerCut
        guard !unresolved.isEmpty else { return [] }
        if case .verify = step.command { return [] }
        var needed: Set<String> = []
        for change in promise.changes {
            switch change {
            case .makeAllDurable, .powerCut:
                // What is durable after it is whatever the disk holds now: the model must know which.
                return unresolved
            case .makeDurable(let file), .makeDataDurable(let file), .makeRangeDurable(let file, _):
                needed.insert(file)
            case .exchange(let file, let other):
                needed.formUnion([file, other])
            case .write(let file, _, _, let durable):
                if durable { needed.insert(file) }
            case .allocate(let file, let flags, _):
                // Collapse and insert refuse a range past the end of file: the old and the new size differ there.
                if !flags.isDisjoint(with: [.collapseRange, .insertRange]) { needed.insert(file) }
            case .rename(let from, let to), .link(let from, let to):
                needed.formUnion([from, to].filter(isNameUncertain))
            case .remove(let file):
                if isNameUncertain(file) { needed.insert(file) }
            case .clone(_, let source, _, _, _):
                if isNameUncertain(source) { needed.insert(source) }
            case .create, .truncate, .adopt:
                break
            }
        }
        // Any step on a file that may be missing, or may be another file, behaves as the file it finds.
        if let file = step.file, isNameUncertain(file) { needed.insert(file) }
        // A mapping's stores stop at the end of file, which is the old or the new one.
        if step.spec.category == .mapping || isMappingStore(step.command), let file = step.file { needed.insert(file) }
        return unresolved.filter(needed.contains)
    }

    /// The name may be gone after the cut, or show another file than the model's.
    func isNameUncertain(_ name: String) -> Bool {
        if namesInFlux[name] != nil || renamesInFlux.contains(where: { $0.names.contains(name) }) { return true }
        if case .either(nil, _) = expected(for: name) { return true }
        return false
    }

    private func isMappingStore(_ command: Command) -> Bool {
        if case .mwrite = command { return true }
        if case .msync = command { return true }
        return false
    }
}
