/// What `regress explore` found and shrank, written as the tests.d file it hands the user: the smallest
/// workload that still fails the same way, under a header naming the filesystem, the seed, the original
/// workload and how it was shrunk.
public struct ExploreFinding: Sendable {
    public var original: Workload
    public var shrunk: Workload
    public var fault: InjectedFault?
    public var signature: FailureSignature
    /// The first reasons of the shrunk workload's failing run.
    public var reasons: [String]
    /// Whether the failure shows without the crash-state search (`regress run FILE`), or only with it.
    public var needsCrashStates: Bool
    /// Predicate calls of delta debugging and of the later passes (renames folded, ranges shrunk), and the
    /// runs they cost (a candidate that breaks a rule of the workload is refused without running).
    public var deltaDebuggingTries: Int
    public var rangeTries: Int
    public var runs: Int
    public var operations: Int

    public init(original: Workload, shrunk: Workload, fault: InjectedFault?, signature: FailureSignature, reasons: [String],
                needsCrashStates: Bool, deltaDebuggingTries: Int, rangeTries: Int, runs: Int, operations: Int) {
        self.original = original
        self.shrunk = shrunk
        self.fault = fault
        self.signature = signature
        self.reasons = reasons
        self.needsCrashStates = needsCrashStates
        self.deltaDebuggingTries = deltaDebuggingTries
        self.rangeTries = rangeTries
        self.runs = runs
        self.operations = operations
    }

    /// The file's name in the output directory: the workload's, which names filesystem, seed and index.
    public var fileName: String { original.name }

    public var text: String {
        let fs = original.filesystem.rawValue
        var comment = [
            "Found by `regress explore --fs \(fs) --seed \(original.seed) --ops \(operations)\(fault.map { " --inject-fault \($0.rawValue)" } ?? "")`:",
            "workload \(original.index) of seed \(original.seed) on \(fs), \(original.steps.count) steps, shrunk to \(shrunk.steps.count)",
            "(delta debugging: \(deltaDebuggingTries) tries; renames and ranges: \(rangeTries) tries; \(runs) runs).",
            "It fails with \(signature):",
        ]
        comment += reasons.prefix(3).map { "  " + $0.split(whereSeparator: \.isNewline).joined(separator: " ") }
        comment.append(needsCrashStates ? "Only the crash-state search shows it: regress run --crash-states FILE"
                                        : "Reproduce: regress run FILE")
        return shrunk.text(comment: comment)
    }
}
