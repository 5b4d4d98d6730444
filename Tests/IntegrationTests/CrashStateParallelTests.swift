import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// Crash states checked side by side (several workers, each with its own disk and loop device, the
/// filesystem's copies mounted at once) must find exactly what one worker finds, state for state.
final class CrashStateParallelTests: IntegrationTestCase {
    private func failureLines(_ result: TestResult) -> [String] {
        result.log.filter { $0.hasPrefix("  crash state epoch ") || $0.hasPrefix("    the same image") }.map(Self.withoutDevices)
    }

    /// The loop device and the worker's mount point a message names are the worker's, not the state's.
    static func withoutDevices(_ line: String) -> String {
        var text = line
        for (pattern, replacement) in [("/dev/loop[0-9]+", "LOOP"), ("[^ ]*/crash-mnt-[0-9]+", "MOUNT")] {
            let expression = try! NSRegularExpression(pattern: pattern)
            text = expression.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: replacement)
        }
        return text
    }

    func testParallelStatesFindTheSameFailuresAsSequentialOnes() throws {
        let test = try define("lying-fsync", CrashStateMetaTests.lyingFsync)
        let filesystems: [FilesystemKind] = [.btrfs, .ext4, .xfs]
        let one = run(test, on: filesystems, options: options { $0.crashStates = 6; $0.crashStatesLimit = 200; $0.crashStatesJobs = 1 })
        let two = run(test, on: filesystems, options: options { $0.crashStates = 6; $0.crashStatesLimit = 200; $0.crashStatesJobs = 3 })
        for (sequential, parallel) in zip(one, two) {
            XCTAssertTrue(sequential.log.contains("crash states: 1 at once"), Self.explain(sequential))
            XCTAssertTrue(parallel.log.contains("crash states: 3 at once"), Self.explain(parallel))
            XCTAssertEqual(sequential.verdict, .fail, Self.explain(sequential))
            XCTAssertEqual(parallel.verdict, .fail, Self.explain(parallel))
            XCTAssertFalse(failureLines(sequential).isEmpty, Self.explain(sequential))
            let (a, b) = (failureLines(sequential), failureLines(parallel))
            XCTAssertEqual(b, a, parallel.id + ": only sequential: \(a.filter { !b.contains($0) }); only parallel: \(b.filter { !a.contains($0) })")
            XCTAssertNotNil(sequential.crashStates, Self.explain(sequential))
            XCTAssertEqual(parallel.crashStates, sequential.crashStates, parallel.id)
            let (c, d) = (sequential.reasons.map(Self.withoutDevices), parallel.reasons.map(Self.withoutDevices))
            XCTAssertEqual(d, c, parallel.id + ": only sequential: \(c.filter { !d.contains($0) }); only parallel: \(d.filter { !c.contains($0) })")
        }
    }

    /// `--crash-states-jobs` sets the workers (the log says how many); a bad value is one line and exit status 2.
    func testTheCommandLineSetsTheWorkersAndRefusesABadValue() throws {
        _ = try define("lying-fsync", CrashStateMetaTests.lyingFsync.replacingOccurrences(of: "filesystems: btrfs ext4 xfs", with: "filesystems: ext4"))
        let common = ["run", "--tests-dir", testsDirectory, "--workdir", workDirectory, "--results", directory + "/results", "-q"]
        let found = try regress(common + ["--crash-states=2", "--crash-states-jobs", "2", "lying-fsync"])
        XCTAssertEqual(found.status, 1, found.standardError)
        let log = try String(contentsOfFile: directory + "/results/latest/lying-fsync.ext4/log", encoding: .utf8)
        XCTAssertTrue(log.contains("crash states: 2 at once"), log)

        let bad = try regress(common + ["--crash-states", "--crash-states-jobs", "0", "lying-fsync"])
        XCTAssertEqual(bad.status, 2, bad.standardError)
        XCTAssertEqual(bad.standardError.split(separator: "\n").count, 1, bad.standardError)
        XCTAssertTrue(bad.standardError.contains("--crash-states-jobs"), bad.standardError)
    }
}
