import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressRunner
import RegressCore

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run tests on fresh loop devices and report their verdicts.",
        discussion: """
        With no test names, runs every selected test of tests.d on every filesystem it applies to. Each test \
        runs in a process of its own, on a loop device of its own, with a timeout; a run leaves no mount, loop \
        device or image behind, and starts by removing what a killed run left.
        """
    )

    @OptionGroup var location: TestsLocation
    @OptionGroup var filter: SelectionOptions
    @OptionGroup(title: "Kernel under test (a VM)") var virtualMachine: VirtualMachineOptions

    @Argument(help: "Tests to run (names in tests.d, or paths to test files).")
    var tests: [String] = []

    @Option(help: "Report format: human, tap, ktap, junit, json or kcidb.")
    var format: String = "human"

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report to a file; the terminal then gets the human report.", valueName: "file"))
    var output: String?

    @Option(name: .customLong("report"), help: ArgumentHelp("Also write a report in FORMAT to FILE (repeatable): one run, every format a farm wants.", valueName: "format=file"))
    var extraReports: [String] = []

    @Option(name: .customLong("workdir"), help: ArgumentHelp("Where images and mount points are made (a private directory per test).", valueName: "dir"))
    var workDirectory: String = "/var/tmp/regress"

    @Option(name: .customLong("results"), help: ArgumentHelp("The results directory (logs, kernel log, fsck output, verdicts, run times); default: results/ beside tests.d.", valueName: "dir"))
    var resultsDirectory: String?

    @Option(name: .customShort("j"), help: ArgumentHelp("Run this many tests at once, each on its own loop device.", valueName: "n"))
    var jobs: Int = 1

    @Option(name: .customShort("I"), help: ArgumentHelp("Run the selection this many times.", valueName: "n"))
    var iterations: Int = 1

    @Option(name: .customLong("random"), help: ArgumentHelp("Run in a random order; `--random` alone picks a seed and prints it.", valueName: "seed"))
    var randomSeed: UInt64?

    @Option(help: ArgumentHelp("Seconds a test may take unless it says otherwise (its `timeout:`).", valueName: "seconds"))
    var timeout: Int = 300

    @Option(name: .customLong("known-issues"), help: ArgumentHelp("Failures to report as xfail: `TEST[.FS] reason` a line.", valueName: "file"))
    var knownIssues: String?

    @Option(name: .customLong("scratch-dev"), help: ArgumentHelp("Run on this block device instead of loop images (fstests' SCRATCH_DEV). Refused if mounted, in use, the root disk, or if it carries a filesystem or partition table (see --force).", valueName: "device"))
    var scratchDevice: String?

    @Flag(help: "With --scratch-dev: overwrite a device that carries a filesystem or partition table.")
    var force = false

    @Flag(name: .customShort("n"), help: "Dry run: print what would run and why anything would be skipped.")
    var dryRun = false

    @Flag(help: "Put the emulated disk under every test, not only those with power cuts or faults.")
    var alwaysEmulate = false

    @Flag(help: "Keep the image of every failed test in <workdir>/kept for a post-mortem (mount it with -o loop).")
    var keepFailed = false

    @Option(name: .customLong("power-cut-backend"), help: ArgumentHelp("Cut power with this backend: emulated, log-writes or flakey (default: the most faithful one this machine offers).", valueName: "backend"))
    var powerCutBackend: PowerCutBackend?

    static let defaultCrashStateSubsets = 20
    @Option(name: .customLong("crash-states"), help: ArgumentHelp("Run on the emulated disk with its write log and check every crash state at each flush: the durable prefix, each single write of the epoch, and N seeded random subsets of it (`--crash-states` alone: 20).", valueName: "N"))
    var crashStates: Int?

    @Option(name: .customLong("crash-states-limit"), help: ArgumentHelp("Check at most this many crash states a test; the rest are counted as skipped.", valueName: "n"))
    var crashStatesLimit: Int = 2000

    @Option(name: .customLong("crash-states-seed"), help: ArgumentHelp("The seed of the random subsets.", valueName: "seed"))
    var crashStatesSeed: UInt64 = 0

    @Option(name: .customLong("crash-state-reproducers"), help: ArgumentHelp("Turn this many failing crash states of a case into tests.d files (crash-state-N.test in its results directory), each run to confirm it and shrunk; 0: none.", valueName: "n"))
    var crashStateReproducers: Int = 1

    @Option(name: .customLong("crash-state-shrink-runs"), help: ArgumentHelp("Runs a reproducer may take to be confirmed and shrunk.", valueName: "n"))
    var crashStateShrinkRuns: Int = 40

    @Option(name: .customLong("crash-states-jobs"), help: ArgumentHelp("Check this many crash states at once (default: the cores, shared among the -j tests).", valueName: "n"))
    var crashStatesJobs: Int?

    @Flag(name: .shortAndLong, help: "No progress lines on standard error.")
    var quiet = false

    @OptionGroup var kcidb: KCIDBOptions

    func validate() throws {
        guard ReportFormat(rawValue: format) != nil else {
            throw ValidationError("unknown format '\(format)' (known: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        for report in extraReports {
            let parts = report.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, ReportFormat(rawValue: String(parts[0])) != nil, !parts[1].isEmpty else {
                throw ValidationError("--report takes FORMAT=FILE with FORMAT one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")), e.g. ktap=results/run.ktap")
            }
        }
        guard jobs >= 1, jobs <= 64 else { throw ValidationError("-j must be 1 to 64") }
        guard iterations >= 1 else { throw ValidationError("-I must be at least 1") }
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 second") }
        if let crashStates, crashStates < 0 { throw ValidationError("--crash-states=N needs N >= 0") }
        guard crashStatesLimit >= 1 else { throw ValidationError("--crash-states-limit must be at least 1") }
        guard crashStateReproducers >= 0 else { throw ValidationError("--crash-state-reproducers must be at least 0") }
        guard crashStateShrinkRuns >= 1 else { throw ValidationError("--crash-state-shrink-runs must be at least 1") }
        if let crashStatesJobs, crashStatesJobs < 1 || crashStatesJobs > 64 { throw ValidationError("--crash-states-jobs must be 1 to 64") }
        if scratchDevice != nil && jobs > 1 { throw ValidationError("--scratch-dev is one device: it cannot run with -j \(jobs)") }
        if force && scratchDevice == nil { throw ValidationError("--force only applies to --scratch-dev") }
    }

    func run() throws {
        if let kernel = virtualMachine.kernel { runInVirtualMachine(kernel) }
        let reportFormat = ReportFormat(rawValue: format)!
        if let scratchDevice {
            // Checked before anything else: a refused device is left exactly as it was.
            do { try ScratchDevice.check(scratchDevice, force: force) } catch { fail("\(error)") }
        }
        let library = location.library()
        var cases = filter.cases(from: loadTests(library, names: tests))
        if let seed = randomSeed {
            cases = SeededOrder.shuffle(cases, seed: seed)
            if !quiet { printError("random order, seed \(seed) (repeat with --random=\(seed))") }
        }
        cases = Array(repeating: cases, count: iterations).flatMap { $0 }
        let known = knownIssues.map { path in
            do { return try KnownIssues(text: readTextFile(path), path: path) } catch { fail("\(error)") }
        } ?? KnownIssues()

        if dryRun {
            var out = ""
            for testCase in cases {
                out += testCase.skipReason.map { "skip  \(testCase.id): \($0)\n" } ?? "run   \(testCase.id)\n"
            }
            StandardStream.output.write(out.data(using: .utf8)!)
            return
        }

        let reclaimed = Cleanup(workDirectory: workDirectory).reclaimAbandoned()
        if reclaimed.total > 0 && !quiet { printError("removed what a killed run left: \(reclaimed.summary)") }

        var options = Suite.Options()
        options.jobs = jobs
        options.defaultTimeout = timeout
        options.timeoutScale = virtualMachine.effectiveTimeoutScale
        options.caseOptions.workDirectory = workDirectory
        options.caseOptions.alwaysEmulate = alwaysEmulate
        options.caseOptions.scratchDevice = scratchDevice
        options.caseOptions.keepFailedImages = keepFailed
        options.caseOptions.powerCutBackend = powerCutBackend
        options.caseOptions.crashStates = crashStates
        options.caseOptions.crashStatesLimit = crashStatesLimit
        options.caseOptions.crashStatesSeed = crashStatesSeed
        options.caseOptions.crashStateReproducers = crashStateReproducers
        options.caseOptions.crashStateShrinkRuns = crashStateShrinkRuns
        // The machine's cores are shared among the tests run at once.
        options.caseOptions.crashStatesJobs = crashStatesJobs ?? max(1, Processors.online / jobs)
        options.knownIssues = known
        // Beside tests.d (the checkout's results/, as fstests keeps results/ in its tree), wherever regress runs from.
        let resultsRoot = resultsDirectory ?? URL(fileURLWithPath: library.directory).deletingLastPathComponent().path + "/results"
        let store: ResultsStore
        do { store = try ResultsStore(root: resultsRoot) } catch { fail("\(resultsRoot): cannot create the results directory: \(String(describing: error))") }
        options.results = store
        if jobs > 1 && randomSeed == nil {
            // The slowest first, so that the last test to finish is a short one (fstests' check.time idea).
            cases = cases.enumerated().sorted { a, b in
                let ta = store.lastSeconds(a.element.id) ?? 0, tb = store.lastSeconds(b.element.id) ?? 0
                return ta != tb ? ta > tb : a.offset < b.offset
            }.map(\.element)
        }

        installSignalHandlers()
        let progress = Progress(enabled: !quiet)
        let started = Date()
        let startTimes = StartTimes()
        let ran = Suite(options: options).run(cases, onEvent: startTimes.recording(progress.show))
        let results = startTimes.stamp(ran, origin: ThisMachine.origin(kernel: kernelRelease(), shard: filter.shard, regress: .thisBuild))
        progress.finish()
        store.recordTimes(results)
        if !quiet { results.compactMap(store.slowdown).forEach { printError("slower than before: " + $0) } }

        var run = RunSummary(results: results, seconds: Date().timeIntervalSince(started), kernel: kernelRelease())
        run.farm = kcidb.identity
        run.regress = .thisBuild
        for report in extraReports {
            let parts = report.split(separator: "=", maxSplits: 1).map(String.init)
            guard FileManager.default.createFile(atPath: parts[1], contents: ReportFormat(rawValue: parts[0])!.render(run).data(using: .utf8)) else {
                fail("\(parts[1]): cannot write the report")
            }
        }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: reportFormat.render(run).data(using: .utf8)) else {
                fail("\(output): cannot write the report")
            }
            StandardStream.output.write(ReportFormat.human.render(run).data(using: .utf8)!)
        } else {
            StandardStream.output.write(reportFormat.render(run).data(using: .utf8)!)
        }
        if Suite.interruptedBySignal != 0 { throw ExitCode(128 + Suite.interruptedBySignal) }
        throw ExitCode(exitStatus(results))
    }
}

/// The test-selection flags shared by `run` and `list`.
struct SelectionOptions: ParsableArguments {
    @Option(name: .customShort("g"), help: ArgumentHelp("Only tests in this group (repeatable).", valueName: "group"))
    var groups: [String] = []

    @Option(name: .customShort("x"), help: ArgumentHelp("Leave out tests in this group (repeatable).", valueName: "group"))
    var excludedGroups: [String] = []

    @Option(name: .customShort("E"), help: ArgumentHelp("Leave out the tests listed in this file (TEST or TEST.FS a line).", valueName: "file"))
    var excludeFile: String?

    @Option(name: .customLong("fs"), help: ArgumentHelp("Filesystems to run on, comma-separated (btrfs,xfs,ext4).", valueName: "list"))
    var filesystems: String?

    @Option(help: ArgumentHelp("Run only shard I of N (1-based): a stable split of the selection over N machines.", valueName: "I/N"))
    var shard: String?

    func validate() throws {
        if let shard {
            let parts = shard.split(separator: "/")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else {
                throw ValidationError("--shard takes I/N with 1 <= I <= N, e.g. 2/4")
            }
        }
        if let filesystems {
            for name in filesystems.split(separator: ",") where FilesystemKind(rawValue: String(name)) == nil {
                throw ValidationError("--fs: unknown filesystem '\(name)' (known: btrfs, xfs, ext4)")
            }
        }
    }

    var selection: Selection {
        var selection = Selection()
        selection.groups = groups
        selection.excludedGroups = excludedGroups
        if let excludeFile {
            selection.excludedTests = Selection.parseExcludeList(readTextFile(excludeFile))
        }
        if let shard {
            let parts = shard.split(separator: "/").compactMap { Int($0) }
            selection.shard = (parts[0], parts[1])
        }
        return selection
    }

    /// The selected tests, expanded to one case per filesystem, in name order.
    func cases(from tests: [TestDefinition]) -> [TestCase] {
        var planner = Planner()
        if let filesystems {
            planner.filesystems = filesystems.split(separator: ",").compactMap { FilesystemKind(rawValue: String($0)) }
        }
        let selection = self.selection
        return selection.filter(planner.plan(tests.filter(selection.includes)))
    }
}

/// 0 passed, 1 a failure, 125 nothing could run (all skipped, or the environment broke), as git bisect run reads it.
func exitStatus(_ results: [TestResult]) -> Int32 {
    if results.contains(where: { $0.verdict == .fail }) { return ExitStatus.failed }
    if results.contains(where: { $0.verdict == .error }) { return ExitStatus.couldNotRun }
    if results.allSatisfy({ $0.verdict == .skip }) { return ExitStatus.couldNotRun }
    return ExitStatus.passed
}

func kernelRelease() -> String {
    var uts = utsname()
    uname(&uts)
    return "Linux " + withUnsafeBytes(of: uts.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
}

/// SIGINT, SIGTERM, SIGHUP: the suite notices, kills its tests' processes, cleans up, and reports.
func installSignalHandlers() {
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
        signal(signalNumber) { received in Suite.interruptedBySignal = received }
    }
}

func printError(_ line: String) {
    StandardStream.error.write((line + "\n").data(using: .utf8)!)
}
