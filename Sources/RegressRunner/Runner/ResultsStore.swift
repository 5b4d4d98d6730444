#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// The results directory of a run, as fstests keeps results/: `results/<timestamp>/<test>.<fs>/` holds the
/// step log, the kernel log, the fsck output and the verdict; `results/latest` points at the newest run;
/// `results/times.json` keeps each test's last run time, for slowdown warnings and for -j to start the
/// slowest tests first (fstests' check.time).
public final class ResultsStore: @unchecked Sendable {
    public let root: String
    public let runDirectory: String
    private var times: [String: Double]
    private let lock = Mutex()

    public init(root: String, now: Date = Date()) throws {
        self.root = root
        let time = UTCTime(now)
        let stamp = "\(time.date)T\(time.time(separator: "-"))"
        var name = stamp
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        var suffix = 1
        while fm.fileExists(atPath: root + "/" + name) { suffix += 1; name = stamp + "-\(suffix)" }
        runDirectory = root + "/" + name
        try fm.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let latest = root + "/latest"
        try? fm.removeItem(atPath: latest)
        try? fm.createSymbolicLink(atPath: latest, withDestinationPath: name)
        times = (try? JSONDecoder().decode([String: Double].self,
                                           from: Data(contentsOf: URL(fileURLWithPath: root + "/times.json")))) ?? [:]
    }

    /// The last recorded run time of a test case, if any.
    public func lastSeconds(_ id: String) -> Double? {
        lock.lock(); defer { lock.unlock() }
        return times[id]
    }

    /// A warning when a test became much slower than its history: twice as slow and at least 5 s more.
    public func slowdown(_ result: TestResult) -> String? {
        guard result.verdict == .pass, let before = lastSeconds(result.id) else { return nil }
        guard result.seconds > 2 * before, result.seconds - before > 5 else { return nil }
        return "\(result.id) took \(formatSeconds(result.seconds))s, \(formatSeconds(before))s last time"
    }

    /// Writes the case's files and returns the result with its directory filled in.
    public func save(_ result: TestResult) -> TestResult {
        var result = result
        // With -I N the same case runs N times: `<id>`, then `<id>.2`, `<id>.3`…
        var directory = runDirectory + "/" + result.id
        var iteration = 1
        lock.lock()
        while FileManager.default.fileExists(atPath: directory) {
            iteration += 1
            directory = runDirectory + "/" + result.id + ".\(iteration)"
        }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        lock.unlock()
        result.resultsDirectory = directory
        write(result.log.joined(separator: "\n") + "\n", to: directory + "/log")
        if !result.kernelWarnings.isEmpty { write(result.kernelWarnings.joined(separator: "\n") + "\n", to: directory + "/kernel-warnings") }
        if let fsck = result.fsckOutput { write(fsck, to: directory + "/fsck") }
        let verdict = ([result.verdict.rawValue] + result.reasons).joined(separator: "\n") + "\n"
        write(verdict, to: directory + "/verdict")
        for case .crashState(let failure) in result.evidence {
            if let reproducer = failure.reproducer, reproducer.reproduced { write(reproducer.text, to: directory + "/" + reproducer.fileName) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let data = try? encoder.encode(result) { try? data.write(to: URL(fileURLWithPath: directory + "/result.json")) }
        return result
    }

    /// Records the run times of passing cases (a failing run's time says little about the test).
    public func recordTimes(_ results: [TestResult]) {
        lock.lock()
        for result in results where result.verdict == .pass { times[result.id] = result.seconds }
        let snapshot = times
        lock.unlock()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let data = try? encoder.encode(snapshot) { try? data.write(to: URL(fileURLWithPath: root + "/times.json"), options: .atomic) }
    }

    private func write(_ text: String, to path: String) {
        try? text.data(using: .utf8)?.write(to: URL(fileURLWithPath: path))
    }
}
