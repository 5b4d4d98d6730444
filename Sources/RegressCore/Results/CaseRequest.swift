/// One test on one filesystem, or the reason it cannot run here.
public struct TestCase: Codable, Sendable {
    public let test: TestDefinition
    public let filesystem: FilesystemKind
    /// Nil when the case can run; otherwise why not, in words a user can act on.
    public let skipReason: String?
    public init(test: TestDefinition, filesystem: FilesystemKind, skipReason: String?) {
        self.test = test
        self.filesystem = filesystem
        self.skipReason = skipReason
    }
    public var id: String { "\(test.name).\(filesystem.rawValue)" }
}

/// How a case runs: everything the parent decides and the child obeys. Adding a run option is adding it
/// here (and setting it from the command line); the parent/child boundary carries it unchanged.
public struct CaseOptions: Codable, Sendable {
    public var workDirectory = "/var/tmp/regress"
    /// Force the emulated disk under every test, not only those that need it.
    public var alwaysEmulate = false
    /// Run on this already-checked block device instead of a loop device over an image.
    public var scratchDevice: String?
    /// Keep the image of a test that fails, for a post-mortem (`<workdir>/kept/<test>.<fs>.<pid>.img`).
    public var keepFailedImages = false
    public var checkFilesystem = true
    public var checkKernelLog = true
    /// The power-cut backend to use (`--power-cut-backend`); nil picks the best the machine offers.
    public var powerCutBackend: PowerCutBackend?
    /// `--crash-states[=N]`: after the steps, check the crash states the write log allows at every flush,
    /// with up to N random subsets an epoch (nil: no search). Runs the case on the emulated disk.
    public var crashStates: Int?
    /// At most this many crash states a case (`--crash-states-limit`); the rest are counted as skipped.
    public var crashStatesLimit = 2000
    public var crashStatesSeed: UInt64 = 0
    /// The crash-state search's share of the case's time; the suite sets it to half the case's timeout.
    public var crashStatesSeconds: Double?
    /// How many failing crash states become tests.d reproducers (`crash-state-N.test`), and how many runs
    /// each may take to confirm and shrink it (CrashStateReproduction).
    public var crashStateReproducers = 1
    public var crashStateShrinkRuns = 40
    /// How many crash states are checked at once (nil: one a core).
    public var crashStatesJobs: Int?
    public init() {}
}

/// What can cut the power under a filesystem, from the most faithful to the coarsest.
public enum PowerCutBackend: String, Codable, Sendable, CaseIterable {
    /// regress's own FUSE disk: a volatile write cache modelled write by write, plus injected faults.
    case emulated
    /// device-mapper's log-writes target: every write and flush logged, replayed up to the last flush.
    case logWrites = "log-writes"
    /// device-mapper's flakey target: writes dropped from the cut on (fstests' _flakey_drop_and_remount).
    case flakey
}

/// The parent's request to a case's child process, as JSON in a file: the parsed test (the child does not
/// read the test file again), the filesystem, the options.
public struct CaseRequest: Codable, Sendable {
    public var testCase: TestCase
    public var options: CaseOptions
    public init(testCase: TestCase, options: CaseOptions) {
        self.testCase = testCase
        self.options = options
    }
}
