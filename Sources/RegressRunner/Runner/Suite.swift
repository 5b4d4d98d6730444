#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import Foundation

/// Runs test cases, each in a child process of its own (`regress __run-case`), up to `jobs` at once, each
/// with a timeout. A child that hangs is killed with its process group; what it left (mount, loop device,
/// FUSE mount, image) is found from its owner record and removed before the next test starts. Nothing of
/// one test is visible to the next: every case gets a fresh image and loop device.
public final class Suite {
    public struct Options: Sendable {
        public var jobs = 1
        public var defaultTimeout = 300
        /// A fixed timeout for every test (`--timeout`), over the test's own.
        public var timeoutOverride: Int?
        /// The regress binary that runs a case (normally the one running now).
        public var executable = "/proc/self/exe"
        public var execution = TestExecution.Options()
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
        let directory: String
    }

    /// Runs `cases` in the given order (the caller orders them) and returns results in that same order.
    public func run(_ cases: [TestCase], onEvent: (Event) -> Void) -> [TestResult] {
        var results = [TestResult?](repeating: nil, count: cases.count)
        var pending = Array(cases.indices)
        var running: [Running] = []
        let total = cases.count
        let scratch = NSTemporaryDirectory() + "regress-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        while !pending.isEmpty || !running.isEmpty {
            if Suite.interruptedBySignal != 0 {
                for job in running {
                    job.child.killGroup()
                    Cleanup(workDirectory: job.directory).abortEmulatedDisks(ownedBy: job.child.pid)
                    var result = finish(job, status: waitForEnd(job.child, seconds: 10))
                    result.verdict = .error
                    result.reasons.insert("interrupted by signal \(Suite.interruptedBySignal)", at: 0)
                    results[job.index] = result
                    onEvent(.finished(result, index: job.index, total: total))
                }
                running = []
                for index in pending {
                    var result = TestResult(test: cases[index].test.name, filesystem: cases[index].filesystem, verdict: .skip)
                    result.reasons = ["not run: interrupted by signal \(Suite.interruptedBySignal)"]
                    results[index] = result
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
                    let result = TestExecution(testCase, options: options.execution).run()
                    results[index] = result
                    onEvent(.finished(result, index: index, total: total))
                    continue
                }
                do {
                    running.append(try start(testCase, index: index, scratch: scratch))
                } catch {
                    var result = TestResult(test: testCase.test.name, filesystem: testCase.filesystem, verdict: .error)
                    result.reasons = ["cannot start the test's process: \(error)"]
                    results[index] = result
                    onEvent(.finished(result, index: index, total: total))
                }
            }
            // A short poll: a finished test's slot is refilled within 2 ms (quick tests take 50 ms), at the
            // cost of a few hundred waitpid calls a second.
            usleep(2_000)
            let now = monotonicSeconds()
            running.removeAll { job in
                let status = job.child.poll()
                var result: TestResult
                if status != .running {
                    result = finish(job, status: status)
                } else if now > job.deadline {
                    job.child.killGroup()
                    Cleanup(workDirectory: job.directory).abortEmulatedDisks(ownedBy: job.child.pid)
                    let end = waitForEnd(job.child, seconds: 10)
                    result = finish(job, status: end)
                    result.verdict = .fail
                    result.reasons.removeAll { $0.hasPrefix("the test's process") }
                    let limit = Int(job.deadline - job.started)
                    if end == .running {
                        result.reasons.insert("timeout after \(limit)s; the test's process is stuck in the kernel (state \(OwnerRecord.state(of: job.child.pid).map(String.init) ?? "?")) and could not be ended; its device is left for `regress cleanup`", at: 0)
                    } else {
                        result.reasons.insert("timeout after \(limit)s: killed", at: 0)
                    }
                } else {
                    return false
                }
                results[job.index] = result
                onEvent(.finished(result, index: job.index, total: total))
                return true
            }
        }
        return results.map { $0! }
    }

    private func start(_ testCase: TestCase, index: Int, scratch: String) throws -> Running {
        let resultPath = "\(scratch)/\(index).json"
        let outputPath = "\(scratch)/\(index).out"
        var arguments = ["__run-case", testCase.test.path, "--fs", testCase.filesystem.rawValue,
                         "--workdir", options.execution.workDirectory, "--result", resultPath]
        if options.execution.alwaysEmulate { arguments.append("--always-emulate") }
        if let device = options.execution.scratchDevice { arguments += ["--scratch-dev", device] }
        if options.execution.keepFailedImages { arguments.append("--keep-failed") }
        let child = try ChildProcess.start(options.executable, arguments, outputPath: outputPath)
        let timeout = options.timeoutOverride ?? testCase.test.timeoutSeconds ?? options.defaultTimeout
        let now = monotonicSeconds()
        return Running(testCase: testCase, index: index, child: child, started: now, deadline: now + Double(timeout),
                       resultPath: resultPath, outputPath: outputPath, directory: options.execution.workDirectory)
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

    /// Reads the child's result (or makes one if it died without writing it), then removes whatever the
    /// child left behind, which is normally nothing.
    private func finish(_ job: Running, status: ChildProcess.Status) -> TestResult {
        var result: TestResult
        if let data = FileManager.default.contents(atPath: job.resultPath),
           let decoded = try? JSONDecoder().decode(TestResult.self, from: data) {
            result = decoded
        } else {
            result = TestResult(test: job.testCase.test.name, filesystem: job.testCase.filesystem, verdict: .error)
            result.summary = job.testCase.test.summary
            switch status {
            case .exited(let code): result.reasons = ["the test's process exited \(code) without a result"]
            case .signaled(let signal): result.reasons = ["the test's process was killed by signal \(signal)"]
            case .running: result.reasons = ["the test's process did not end"]
            }
            result.seconds = monotonicSeconds() - job.started
        }
        if let output = try? String(contentsOfFile: job.outputPath, encoding: .utf8),
           !output.isEmpty {
            result.log.append("output of the test's process:")
            result.log += output.split(separator: "\n").map { "  " + $0 }
        }
        if status != .running {
            let leftovers = Cleanup(workDirectory: job.directory).reclaim(
                Cleanup(workDirectory: job.directory).abandonedDirectories(ownedBy: job.child.pid))
            if leftovers.total > 0 { result.log.append("clean-up after the test's process: \(leftovers.summary)") }
            if !leftovers.problems.isEmpty && result.verdict == .pass {
                result.verdict = .error
                result.reasons.append("clean-up failed: " + leftovers.problems.joined(separator: "; "))
            }
        }
        if let store = options.results { result = store.save(result) }
        return result
    }

    /// The child side: run one case in this process and write its result where the parent reads it.
    public static func runCase(testPath: String, filesystem: FilesystemKind, options: TestExecution.Options,
                               resultPath: String) throws {
        _ = regress_die_with_parent()
        let library = TestLibrary(directory: (testPath as NSString).deletingLastPathComponent)
        let test = try library.load(testPath)
        let testCase = TestCase(test: test, filesystem: filesystem, skipReason: Planner.skipReason(test, filesystem))
        let result = TestExecution(testCase, options: options).run()
        let data = try JSONEncoder().encode(result)
        try data.write(to: URL(fileURLWithPath: resultPath))
    }
}
