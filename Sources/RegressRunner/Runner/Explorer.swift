#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// `regress explore` (issue 11.4): random workloads from `WorkloadGenerator`, each run as a case with the
/// crash-state search on, through the same `Suite` (a child process a case, -j, timeouts, clean-up) that
/// runs a tests.d file, until the time is up. The first failure is shrunk (`DeltaDebugging` over its
/// steps, `RenameFolding`, then `RangeShrinking` over their numbers) for as long as it fails the same way
/// (`FailureSignature`), and handed back as an `ExploreFinding`.
public final class Explorer {
    public struct Options: Sendable {
        public var filesystem: FilesystemKind
        public var seed: UInt64
        public var operations = 20
        /// Stop starting workloads after this many seconds.
        public var seconds = 60.0
        /// Stop after this many workloads (nil: only the time limits them).
        public var workloads: Int?
        public var fault: InjectedFault?
        /// `--bounded N`: every workload of N core operations (`BoundedWorkloads`) instead of random ones.
        public var bounded: Int?
        /// How the cases run: jobs, timeout, and the crash-state search's options (`caseOptions.crashStates`).
        public var suite = Suite.Options()
        /// Runs the shrinking may cost (candidates the workload's rules refuse cost none).
        public var shrinkRuns = 150
        public init(filesystem: FilesystemKind, seed: UInt64) {
            self.filesystem = filesystem
            self.seed = seed
        }
    }

    public enum Event {
        case workloadFinished(index: Int, TestResult, crashStates: Int)
        /// A workload failed once and not again: the machine's doing (a device gone under fsck…), not shrunk.
        case flaky(index: Int, TestResult)
        case shrinking(Workload, FailureSignature, crashStatesNeeded: Bool)
        case shrinkRun(steps: Int, failed: Bool, runs: Int)
    }

    public struct Outcome {
        public var workloads = 0
        public var crashStates = 0
        /// Workloads that failed, and failed the same way again.
        public var failures = 0
        /// Workloads that failed once and not the same way when run again.
        public var flaky = 0
        /// Cases the machine failed (verdict error), with their first reason.
        public var errors: [String] = []
        /// Why nothing could run here (not root, no mkfs…), or why the workloads that ran were skipped (no
        /// power-cut backend: no /dev/fuse) when all of them were.
        public var skipped: String?
        public var seconds = 0.0
        public var finding: ExploreFinding?
        /// With `--bounded`: the workloads the space holds, and the sequences its rules refused.
        public var space: (workloads: Int, refused: Int)?
    }

    let options: Options
    public init(options: Options) { self.options = options }

    private var interrupted: Bool { Suite.interruptedBySignal != 0 }

    public func run(onEvent: (Event) -> Void) -> Outcome {
        var outcome = Outcome()
        let started = monotonicSeconds()
        let generator = WorkloadGenerator(filesystem: options.filesystem, seed: options.seed, operations: options.operations)
        let bounded = options.bounded.map { BoundedWorkloads(filesystem: options.filesystem, length: $0) }
        if let bounded { outcome.space = (bounded.workloads.count, bounded.refused) }
        var index = 0, skips = 0
        var skipReason: String?
        while monotonicSeconds() - started < options.seconds, !interrupted {
            let limit = min(options.workloads ?? Int.max, bounded?.workloads.count ?? Int.max)
            let count = min(options.suite.jobs, limit - index)
            guard count > 0 else { break }
            let workloads = (index..<index + count).map { bounded?.workloads[$0] ?? generator.workload($0) }.map(withFault)
            index += count
            let cases = workloads.map(testCase)
            if let reason = cases.first?.skipReason {
                outcome.skipped = reason
                break
            }
            let results = Suite(options: options.suite).run(cases, onEvent: { _ in })
            var failing: [(Workload, TestResult)] = []
            for (workload, result) in zip(workloads, results) {
                guard !result.evidence.contains(where: { if case .notRun = $0 { return true } else { return false } }) else { continue }
                let states = result.crashStates?.checked ?? 0
                outcome.workloads += 1
                outcome.crashStates += states
                onEvent(.workloadFinished(index: workload.index, result, crashStates: states))
                switch result.verdict {
                case .fail: failing.append((workload, result))
                case .error: outcome.errors.append("\(workload.name): \(result.reasons.first ?? "error")")
                case .skip:
                    skips += 1
                    skipReason = skipReason ?? result.reasons.first
                default: break
                }
            }
            if interrupted { break }
            // A failure is shrunk only once it has happened twice the same way: a loop device that vanished
            // under fsck once is not a bug of the filesystem, and could not be shrunk anyway.
            for (workload, result) in failing where outcome.finding == nil && !interrupted {
                if FailureSignature(result).isEnvironmental {
                    outcome.flaky += 1
                    onEvent(.flaky(index: workload.index, result))
                    continue
                }
                let again = runOne(workload, crashStates: true)
                guard FailureSignature(result).isReproduced(by: FailureSignature(again)) else {
                    outcome.flaky += 1
                    onEvent(.flaky(index: workload.index, again))
                    continue
                }
                outcome.failures += 1
                outcome.finding = shrink(workload, failing: result, onEvent: onEvent)
            }
            if outcome.finding != nil { break }
            // A machine that fails every case (mkfs missing a feature, a full /var/tmp) finds no bug: stop.
            if outcome.errors.count >= 3 && outcome.errors.count == outcome.workloads { break }
            if skips >= 3 && skips == outcome.workloads { break }
        }
        if outcome.skipped == nil, outcome.workloads > 0, skips == outcome.workloads { outcome.skipped = skipReason }
        outcome.seconds = monotonicSeconds() - started
        return outcome
    }

    func withFault(_ workload: Workload) -> Workload {
        options.fault?.inject(into: workload) ?? workload
    }

    /// The workload as `regress run` plans its file: parsed from its text, one case on the filesystem.
    func testCase(_ workload: Workload) -> TestCase {
        do {
            let test = try workload.parse()
            return Planner(filesystems: [options.filesystem]).plan([test])[0]
        } catch {
            // The generator's output always parses (a unit test holds it to that); if it ever does not,
            // the case says why instead of running.
            let test = TestDefinition(name: workload.name, path: workload.name)
            return TestCase(test: test, filesystem: options.filesystem, skipReason: "the generated workload does not parse: \(error)")
        }
    }

    /// One case, alone, with or without the crash-state search.
    func runOne(_ workload: Workload, crashStates: Bool) -> TestResult {
        var suite = options.suite
        suite.jobs = 1
        if !crashStates { suite.caseOptions.crashStates = nil }
        return Suite(options: suite).run([testCase(workload)], onEvent: { _ in })[0]
    }

    /// Shrinks a failing workload to the smallest that still fails the same way. When the failure also
    /// shows without the crash-state search, it is shrunk that way (cheaper, and the file it gives fails
    /// under a plain `regress run`).
    func shrink(_ workload: Workload, failing: TestResult, onEvent: (Event) -> Void) -> ExploreFinding {
        let found = FailureSignature(failing)
        let plain = runOne(workload, crashStates: false)
        let plainSignature = FailureSignature(plain)
        let needsCrashStates = !found.isReproduced(by: plainSignature)
        let target = needsCrashStates ? found : plainSignature
        var last = needsCrashStates ? failing : plain
        var runs = 1
        onEvent(.shrinking(workload, target, crashStatesNeeded: needsCrashStates))

        func stillFails(_ steps: [WorkloadStep]) -> Bool {
            let candidate = Workload(filesystem: workload.filesystem, seed: workload.seed, index: workload.index, steps: steps)
            guard candidate.problem == nil, runs < options.shrinkRuns, !interrupted else { return false }
            runs += 1
            let result = runOne(candidate, crashStates: needsCrashStates)
            let same = target.isReproduced(by: FailureSignature(result))
            if same { last = result }
            onEvent(.shrinkRun(steps: steps.count, failed: same, runs: runs))
            return same
        }
        let steps = DeltaDebugging.minimize(workload.steps, budget: 2000, pinned: Workload.isFraming, stillFails: stillFails)
        let folded = RenameFolding.minimize(steps.items, stillFails: stillFails)
        let ranges = RangeShrinking.minimize(folded.steps, budget: 200, stillFails: stillFails)
        var shrunk = workload
        shrunk.steps = ranges.steps
        return ExploreFinding(original: workload, shrunk: shrunk, fault: options.fault, signature: target, reasons: last.reasons,
                              needsCrashStates: needsCrashStates, deltaDebuggingTries: steps.tries, rangeTries: folded.tries + ranges.tries,
                              runs: runs, operations: options.operations)
    }
}
