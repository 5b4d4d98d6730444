/// One thing found while running a case that bears on its verdict. The case's child process and the parent
/// that supervises it each add evidence; `Decision` alone turns it into a verdict and reasons.
public enum Evidence: Equatable, Codable, Sendable {
    /// A step's outcome was not what the test expects (an errno at FILE:LINE:COL, or success where one was required).
    case stepFailed(StepFailure)
    /// What `verify` found in a file: a failure when it is missing, unreadable, of the wrong size, or has
    /// bytes lost or corrupted; a passed one is the record that the file was checked.
    case verified(VerifyResult)
    /// Alarming kernel log lines (WARNING, BUG, Oops, lockdep, KASAN…) about the case's devices.
    case kernelLog([String])
    /// The read-only fsck's complaint, its whole output.
    case fsckFailed(String)
    /// `--crash-states`: a state the write log allows that the filesystem did not survive.
    case crashState(CrashStateFailure)
    /// The case cannot run here (the filesystem lacks a feature, a tool or root is missing): planned, not run.
    case notApplicable(String)
    /// A step needs what this machine cannot put under the filesystem; the steps before it ran.
    case missingBackend(CommandSpec.Requirement, step: String, at: SourceLocation, why: String)
    /// The machine failed the case, not the filesystem under test: device, mkfs, mount, remount, recovery.
    case environment(String)
    /// Every step ran and none of them changed a file: the case exercised nothing.
    case noDataOperation
    /// The case's process ended without handing back a result.
    case processEnded(ProcessEnd)
    case timedOut(seconds: Int, stuckInKernel: String?)
    case interrupted(signal: Int32)
    /// Never started: the run was interrupted first.
    case notRun(signal: Int32)
    case cleanupFailed([String])
    /// The known-issues file expects this failure: reported as xfail.
    case knownIssue(String)
    /// Informational: where a failed case's image was kept for a post-mortem.
    case imageKept(String)

    public enum ProcessEnd: Equatable, Codable, Sendable {
        case exited(Int32), signaled(Int32), stillRunning
    }
}

/// A step whose outcome was not what the test expects.
public struct StepFailure: Equatable, Codable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var step: String
    public var got: Errno?
    public var expected: String
    /// For failures that are not an errno (a dedupe that found different data is EBADE, so most are).
    public var detail: String?
    /// For a check step that found something else than the test says (`foo has 3 extents`): what it found.
    public var found: String?

    public init(location: SourceLocation, step: String, got: Errno?, expected: String, detail: String? = nil, found: String? = nil) {
        self.location = location
        self.step = step
        self.got = got
        self.expected = expected
        self.detail = detail
        self.found = found
    }

    /// `fsync file1: ENOSPC, expected success`; for a check, `foo has 3 extents, expected 1`.
    public var description: String {
        if let found { return "\(found), expected \(expected)" }
        let gotText = got.map(\.name) ?? "success"
        return "\(step): \(gotText), expected \(expected)" + (detail.map { " (\($0))" } ?? "")
    }
}
