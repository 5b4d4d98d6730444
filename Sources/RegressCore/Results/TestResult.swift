#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The outcome of one test on one filesystem: its evidence, from which the verdict and reasons follow, and
/// its log. Every report format is written from these values alone; they are Codable so that a case's
/// child process can hand them to its parent and a merge can read them back from JSON.
public struct TestResult: Codable, Sendable {
    public var test: String
    public var filesystem: FilesystemKind?
    public var evidence: [Evidence] = []
    /// The step log: one line a step, with its result and time, plus the output of mkfs and fsck.
    public var log: [String] = []
    public var seconds: Double = 0
    public var summary: String = ""
    public var fix: String?
    /// Where the run's files for this test were saved, when a results directory was kept.
    public var resultsDirectory: String?
    /// When the case started, RFC 3339 in UTC (`timestampString`): KCIDB's start_time. Nil in older reports.
    public var startTime: String?
    /// The kernel, machine and shard it ran on, so that shards' reports can be merged and checked. Nil in older reports.
    public var origin: ResultOrigin?
    /// What `--crash-states` checked; nil when no search ran (not asked for, or no emulated disk).
    public var crashStates: CrashStateSummary?

    public init(test: String, filesystem: FilesystemKind?, evidence: [Evidence] = []) {
        self.test = test
        self.filesystem = filesystem
        self.evidence = evidence
    }

    /// `nocow-reflink.btrfs`: the flat slug that names the result in every report.
    public var id: String { filesystem.map { "\(test).\($0.rawValue)" } ?? test }

    public var decision: Decision { Decision(evidence) }
    public var verdict: Verdict { decision.verdict }
    /// One line each, most important first: the first unexpected errno, every verify mismatch, a kernel warning…
    public var reasons: [String] { decision.reasons }

    // Views of the evidence, for the reports that list them apart.
    public var stepFailures: [StepFailure] {
        evidence.compactMap { if case .stepFailed(let failure) = $0 { return failure } else { return nil } }
    }
    public var verifications: [VerifyResult] {
        evidence.compactMap { if case .verified(let result) = $0 { return result } else { return nil } }
    }
    /// Kernel log lines that turned the verdict (WARNING, BUG, Oops, lockdep, KASAN…).
    public var kernelWarnings: [String] {
        evidence.flatMap { if case .kernelLog(let lines) = $0 { return lines } else { return [] } }
    }
    public var fsckOutput: String? {
        evidence.lazy.compactMap { if case .fsckFailed(let output) = $0 { return output } else { return nil } }.first
    }

    // The stored keys, then the decided ones, written for scripts and read by nobody (they follow from evidence).
    enum CodingKeys: String, CodingKey {
        case test, filesystem, evidence, log, seconds, summary, fix, resultsDirectory, startTime, origin, crashStates
        case verdict, reasons, stepFailures, verifications, kernelWarnings, fsckOutput
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        test = try container.decode(String.self, forKey: .test)
        filesystem = try container.decodeIfPresent(FilesystemKind.self, forKey: .filesystem)
        evidence = try container.decode([Evidence].self, forKey: .evidence)
        log = try container.decodeIfPresent([String].self, forKey: .log) ?? []
        seconds = try container.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
        summary = try container.decodeIfPresent(String.self, forKey: .summary) ?? ""
        fix = try container.decodeIfPresent(String.self, forKey: .fix)
        resultsDirectory = try container.decodeIfPresent(String.self, forKey: .resultsDirectory)
        startTime = try container.decodeIfPresent(String.self, forKey: .startTime)
        origin = try container.decodeIfPresent(ResultOrigin.self, forKey: .origin)
        crashStates = try container.decodeIfPresent(CrashStateSummary.self, forKey: .crashStates)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(test, forKey: .test)
        try container.encodeIfPresent(filesystem, forKey: .filesystem)
        try container.encode(evidence, forKey: .evidence)
        try container.encode(log, forKey: .log)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(summary, forKey: .summary)
        try container.encodeIfPresent(fix, forKey: .fix)
        try container.encodeIfPresent(resultsDirectory, forKey: .resultsDirectory)
        try container.encodeIfPresent(startTime, forKey: .startTime)
        try container.encodeIfPresent(origin, forKey: .origin)
        try container.encodeIfPresent(crashStates, forKey: .crashStates)
        let decision = self.decision
        try container.encode(decision.verdict, forKey: .verdict)
        try container.encode(decision.reasons, forKey: .reasons)
        try container.encode(stepFailures, forKey: .stepFailures)
        try container.encode(verifications, forKey: .verifications)
        try container.encode(kernelWarnings, forKey: .kernelWarnings)
        try container.encodeIfPresent(fsckOutput, forKey: .fsckOutput)
    }
}
