/// The verdict of one test on one filesystem, with the evidence behind it. Every report format is written
/// from these values alone; they are Codable so that a test's child process can hand them to its parent.
public struct TestResult: Codable, Sendable {
    public enum Verdict: String, Codable, Sendable {
        case pass, fail, skip, error
        /// A failure the known-issues file expects: reported, not hidden, and not a failure of the run.
        case xfail
    }

    public struct StepFailure: Codable, Sendable, CustomStringConvertible {
        public var location: SourceLocation
        public var step: String
        public var got: Errno?
        public var expected: String
        /// For failures that are not an errno (a dedupe that found different data is EBADE, so most are).
        public var detail: String?

        /// `fsync file1: ENOSPC, expected success`
        public var description: String {
            let gotText = got.map(\.name) ?? "success"
            return "\(step): \(gotText), expected \(expected)" + (detail.map { " (\($0))" } ?? "")
        }
    }

    public var test: String
    public var filesystem: FilesystemKind?
    public var verdict: Verdict
    /// One line each, most important first: the first unexpected errno, every verify mismatch, a kernel warning…
    public var reasons: [String] = []
    public var stepFailures: [StepFailure] = []
    public var verifications: [VerifyResult] = []
    /// Kernel log lines that turned the verdict (WARNING, BUG, Oops, lockdep, KASAN…).
    public var kernelWarnings: [String] = []
    public var fsckOutput: String?
    /// The step log: one line a step, with its result and time, plus the output of mkfs and fsck.
    public var log: [String] = []
    public var seconds: Double = 0
    public var summary: String = ""
    public var fix: String?
    /// Where the run's files for this test were saved, when a results directory was kept.
    public var resultsDirectory: String?

    /// `nocow-reflink.btrfs`: the flat slug that names the result in every report.
    public var id: String { filesystem.map { "\(test).\($0.rawValue)" } ?? test }

    public init(test: String, filesystem: FilesystemKind?, verdict: Verdict) {
        self.test = test
        self.filesystem = filesystem
        self.verdict = verdict
    }
}
