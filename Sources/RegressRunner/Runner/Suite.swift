#if canImport(Glibc)
import Glibc
#endif
import CLibMount
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RegressCore

/// Runs test cases, each in a child process of its own (`regress __run-case`), up to `jobs` at once, each
/// with a timeout. A child that hangs is killed with its process group; what it left (mount, loop device,
/// FUSE mount, image) is found from its owner record and removed before the next test starts. Nothing of
/// one test is visible to the next: every case gets a fresh image and loop device.
///
/// The boundary with a child is typed: the parent writes a `CaseRequest` (the parsed test, its filesystem,
/// the options) as JSON, the child writes back its `TestResult`. The parent adds its own evidence (timeout,
/// interrupt, clean-up, known issue), and only then is the result final: it is saved once, and reported.
public final class Suite {
    public struct Options: Sendable {
        public var jobs = 1
        public var defaultTimeout = 300
        /// A fixed timeout for every test (`--timeout`), over the test's own.
        public var timeoutOverride: Int?
        /// Every timeout is multiplied by this (`--timeout-scale`: a slow machine, a VM under TCG).
        public var timeoutScale = 1.0
        /// The regress binary that runs a case (normally the one running now).
        public var executable = "/proc/self/exe"
        public var caseOptions = CaseOptions()
        public var knownIssues = KnownIssues()
        public var results: ResultsStore?
        public init() {}
    }

    public enum Event {
        case started(TestCase, index: Int, total: Int)
        case finished(TestResult, index: Int, total: Int)
    }

    let options: Options
    public init(options: Options) { self.options = options }

    /// Set from a signal handler: stop starting tests, kill the running ones, clean up, report.
    nonisolated(unsafe) public static var interruptedBySignal: Int32 = 0

    private struct Running {
        let testCase: TestCase
        let index: Int
        let child: ChildProcess
        let started: Double
        let deadline: Double
        let resultPath: String
        let outputPath: String
    }

    /// Runs `cases` in the given order (the caller orders them) and returns results in that same order.
    public func run(_ cases: [TestCase], onEvent: (Event) -> Void) -> [TestResult] {
        var results = [TestResult?](repeating: nil, count: cases.count)
        var pending = Array(cases.indices)
        var running: [Running] = []
        let total = cases.count
        let scratch = FileManager.default.temporaryDirectory.path + "/regress-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        func finished(_ result: TestResult, _ index: Int) {
            let final = conclude(result)
            results[index] = final
            onEvent(.finished(final, index: index, total: total))
        }

        while !pending.isEmpty || !running.isEmpty {
            let signal = Suite.interruptedBySignal
            if signal != 0 {
                for job in running {
                    job.child.killGroup()
                    cleanup.abortEmulatedDisks(ownedBy: job.child.pid)
                    finished(collect(job, status: waitForEnd(job.child, seconds: 10), adding: [.interrupted(signal: signal)]), job.index)
                }
                running = []
                for index in pending {
                    results[index] = conclude(TestResult(test: cases[index].test.name, filesystem: cases[index].filesystem,
                                                         evidence: [.notRun(signal: signal)]))
                }
                pending = []
                break
            }
            // Start what the job slots allow; skips are decided without a child.
            while running.count < options.jobs, !pending.isEmpty {
                let index = pending.removeFirst()
                let testCase = cases[index]
                onEvent(.started(testCase, index: index, total: total))
                if testCase.skipReason != nil {
                    finished(CaseRunner(testCase, options: options.caseOptions).run(), index)
                    continue
                }
                do {
                    running.append(try start(testCase, index: index, scratch: scratch))
                } catch {
                    finished(TestResult(test: testCase.test.name, filesystem: testCase.filesystem,
                                        evidence: [.environment("cannot start the test's process: \(error)")]), index)
                }
            }
            // A short poll: a finished test's slot is refilled within 2 ms (quick tests take 50 ms), at the
            // cost of a few hundred waitpid calls a second.
            usleep(2_000)
            let now = monotonicSeconds()
            running.removeAll { job in
                let status = job.child.poll()
                if status != .running {
                    finished(collect(job, status: status), job.index)
                    return true
                }
                guard now > job.deadline else { return false }
                job.child.killGroup()
                cleanup.abortEmulatedDisks(ownedBy: job.child.pid)
                let end = waitForEnd(job.child, seconds: 10)
                let stuck = end == .running ? (OwnerRecord.state(of: job.child.pid).map(String.init) ?? "?") : nil
                finished(collect(job, status: end, adding: [.timedOut(seconds: Int(job.deadline - job.started), stuckInKernel: stuck)]), job.index)
                return true
            }
        }
        return results.map { $0! }
    }

    private var cleanup: Cleanup { Cleanup(workDirectory: options.caseOptions.workDirectory) }

    private func start(_ testCase: TestCase, index: Int, scratch: String) throws -> Running {
        let requestPath = "\(scratch)/\(index).request.json"
        let resultPath = "\(scratch)/\(index).json"
        let outputPath = "\(scratch)/\(index).out"
        let timeout = Int((Double(options.timeoutOverride ?? testCase.test.timeoutSeconds ?? options.defaultTimeout) * options.timeoutScale).rounded(.up))
        var caseOptions = options.caseOptions
        caseOptions.crashStatesSeconds = Double(timeout) / 2
        try JSONEncoder().encode(CaseRequest(testCase: testCase, options: caseOptions))
            .write(to: URL(fileURLWithPath: requestPath))
        let child = try ChildProcess.start(options.executable, ["__run-case", requestPath, resultPath], outputPath: outputPath)
        let now = monotonicSeconds()
        return Running(testCase: testCase, index: index, child: child, started: now, deadline: now + Double(timeout),
                       resultPath: resultPath, outputPath: outputPath)
    }

    /// Waits up to `seconds` for a killed child to be reaped. A child in uninterruptible sleep may never end.
    private func waitForEnd(_ child: ChildProcess, seconds: Double) -> ChildProcess.Status {
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            let status = child.poll()
            if status != .running { return status }
            usleep(20_000)
        }
        return .running
    }

    /// The child's result (or one saying how it ended without one), with the parent's evidence added, after
    /// removing whatever the child left behind, which is normally nothing.
    private func collect(_ job: Running, status: ChildProcess.Status, adding evidence: [Evidence] = []) -> TestResult {
        var result: TestResult
        if let data = FileManager.default.contents(atPath: job.resultPath),
           let decoded = try? JSONDecoder().decode(TestResult.self, from: data) {
            result = decoded
        } else {
            result = TestResult(test: job.testCase.test.name, filesystem: job.testCase.filesystem)
            result.summary = job.testCase.test.summary
            switch status {
            case .exited(let code): result.evidence.append(.processEnded(.exited(code)))
            case .signaled(let signal): result.evidence.append(.processEnded(.signaled(signal)))
            case .running: result.evidence.append(.processEnded(.stillRunning))
            }
            result.seconds = monotonicSeconds() - job.started
        }
        result.evidence += evidence
        if let output = try? String(contentsOfFile: job.outputPath, encoding: .utf8), !output.isEmpty {
            result.log.append("output of the test's process:")
            result.log += output.split(separator: "\n").map { "  " + $0 }
        }
        if status != .running {
            let leftovers = cleanup.reclaim(cleanup.abandonedDirectories(ownedBy: job.child.pid))
            if leftovers.total > 0 { result.log.append("clean-up after the test's process: \(leftovers.summary)") }
            if !leftovers.problems.isEmpty { result.evidence.append(.cleanupFailed(leftovers.problems)) }
        }
        return result
    }

    /// The last evidence (a known issue), then the result is final: saved once, then reported.
    private func conclude(_ result: TestResult) -> TestResult {
        var result = result
        if let known = options.knownIssues.evidence(for: result) { result.evidence.append(known) }
        return options.results?.save(result) ?? result
    }

    /// The child side: run the requested case in this process and write its result where the parent reads it.
    public static func runCase(requestPath: String, resultPath: String) throws {
        _ = regress_die_with_parent()
        let data = try Data(contentsOf: URL(fileURLWithPath: requestPath))
        let request = try JSONDecoder().decode(CaseRequest.self, from: data)
        let result = CaseRunner(request.testCase, options: request.options).run()
        try JSONEncoder().encode(result).write(to: URL(fileURLWithPath: resultPath))
    }
}
