/// A fault `regress explore --inject-fault` puts into every workload, for meta-tests that prove the search
/// finds what it exists to find: the emulated disk made to break a promise the way a real drive can.
public enum InjectedFault: String, CaseIterable, Sendable {
    /// The disk's cache lies during one fsync (`lying-cache on` before it, `off` after it): the fsync is
    /// acknowledged but nothing it flushed is kept, so its file is not durable although the model says so.
    case lyingFsync = "lying-fsync"
    /// The disk drops every write of one fsync (`drop-writes 0 0` before it, `clear-faults` after it):
    /// acknowledged and readable, never durable, so the file fsynced is lost at the power cut.
    case droppedFsync = "dropped-fsync"

    /// The steps put before and after the fsync.
    var around: (before: WorkloadOperation, after: WorkloadOperation) {
        switch self {
        case .lyingFsync: return (.lyingCache(true), .lyingCache(false))
        case .droppedFsync: return (.dropWrites, .clearFaults)
        }
    }

    /// `workload` with the fault in it. The fsync chosen is the first of a file in the top directory that
    /// has something to make durable (a lie about a clean file loses nothing); a workload without one gets
    /// a write and an fsync of a new file before its power cut.
    public func inject(into workload: Workload) -> Workload {
        var workload = workload
        var state = WorkloadState(filesystem: workload.filesystem)
        var site: Int?
        for (index, step) in workload.steps.enumerated() {
            switch step.operation {
            case .fsync(let name), .fdatasync(let name):
                let file = state.model.files[name]
                if !name.contains("/"), !step.mayRunOutOfSpace, let file, file.content != file.durable { site = index }
            default: break
            }
            if site != nil { break }
            if state.problem(with: step) == nil { state.apply(step) }
        }
        if site == nil {
            let name = ["lie", "lie1", "lie2"].first(where: state.isUnbound) ?? "lie3"
            let cut = workload.steps.firstIndex { $0.operation == .powerCut } ?? workload.steps.count
            workload.steps.insert(contentsOf: [WorkloadStep(.write(file: name, offset: 0, length: 64 << 10, pattern: 0x5a, direct: false)),
                                               WorkloadStep(.fsync(name))], at: cut)
            site = cut + 1
        }
        workload.steps.insert(WorkloadStep(around.after), at: site! + 1)
        workload.steps.insert(WorkloadStep(around.before), at: site!)
        return workload
    }
}
