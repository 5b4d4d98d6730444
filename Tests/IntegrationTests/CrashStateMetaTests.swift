import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// Meta-tests of `--crash-states` (issue 11): the search must find a disk that breaks its promises, name the
/// crash state that shows it, and find nothing on a disk that keeps them. The faults here lose nothing the
/// running test can see (no power cut): only the crash states show what a power cut at a flush would lose.
final class CrashStateMetaTests: IntegrationTestCase {
    private func crashStates(_ subsets: Int = 8) -> CaseOptions {
        options { $0.crashStates = subsets; $0.crashStatesLimit = 400 }
    }

    private func crashFailures(_ result: TestResult) -> [CrashStateFailure] {
        result.evidence.compactMap { if case .crashState(let failure) = $0 { return failure } else { return nil } }
    }

    /// One fsync while the disk's cache lies, then an honest one of another file.
    static let lyingFsync = """
        summary: one fsync on a lying cache
        filesystems: btrfs ext4 xfs
        steps:
        f: pwrite -S 0xaa 0 64k
        lying-cache on
        f: fsync
        lying-cache off
        g: pwrite -S 0xbb 0 4k
        g: fsync
        """

    /// A file fsynced while the disk lies about its cache; then another file's fsync, honoured. The lie
    /// lets the first file's writes land after the flush that claimed them: the crash states of the honoured
    /// fsync's epoch that leave them out lose a file the model says was durable.
    func testALyingCacheOnOneFsyncIsFound() throws {
        let test = try define("lying-fsync", Self.lyingFsync)
        for result in run(test, on: [.btrfs, .ext4, .xfs]) {
            XCTAssertEqual(result.verdict, .pass, "the lie is invisible without a power cut: " + Self.explain(result))
        }
        for result in run(test, on: [.btrfs, .ext4, .xfs], options: crashStates()) {
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            let failure = try XCTUnwrap(crashFailures(result).first, Self.explain(result))
            XCTAssertEqual(failure.problem.file, "f", "\(failure)")
            XCTAssertTrue(failure.step.hasPrefix("'g: fsync'"), "the honoured fsync's epoch: \(failure)")
            XCTAssertTrue(result.reasons.contains { $0.hasPrefix("crash state epoch \(failure.epoch) + ") && $0.contains("verify f:") }, "\(result.reasons)")
        }
    }

    /// Every write of one fsync is dropped (acknowledged, readable, never durable): any crash state after
    /// it lacks what the fsync promised.
    func testWritesDroppedInAnEpochAreFound() throws {
        let test = try define("dropped-fsync", """
        summary: the disk drops the writes of one fsync
        filesystems: ext4 xfs
        steps:
        f: pwrite -S 0xaa 0 64k
        drop-writes 0 0
        f: fsync
        clear-faults
        g: pwrite -S 0xbb 0 4k
        g: fsync
        """)
        for result in run(test, on: [.ext4, .xfs], options: crashStates()) {
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            let failure = try XCTUnwrap(crashFailures(result).first, Self.explain(result))
            XCTAssertTrue(failure.description.hasPrefix("crash state epoch \(failure.epoch) + "), "\(failure)")
        }
    }

    /// No false positives: the same workloads on an honest disk, and a few more, pass on every filesystem.
    func testAnHonestDiskPassesEveryCrashState() throws {
        let test = try define("honest", """
        summary: writes, fsyncs, a rename, a truncate and a sync on an honest disk
        filesystems: btrfs ext4 xfs
        steps:
        f: pwrite -S 0xaa 0 64k
        f: fsync
        g: pwrite -S 0xbb 0 128k
        g: fsync
        g: truncate 8k
        rename g h
        sync
        f: pwrite -S 0xcc 4k 4k
        f: fdatasync
        """)
        for result in run(test, on: [.btrfs, .ext4, .xfs], options: crashStates()) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertTrue(result.log.contains { $0.hasPrefix("crash states: ") && $0.contains(" checked, 0 failed") }, Self.explain(result))
            XCTAssertFalse(result.log.contains { $0.hasPrefix("crash states: 0 checked") }, "the search must check states: " + Self.explain(result))
        }
    }

    /// No false positives on the tests of tests.d either (each passes on this kernel): small ones on all three
    /// filesystems, and the seed test (its 8000 flushes cut to 40 states spread over them).
    func testTestsOfTestsDPassEveryCrashState() throws {
        let library = TestLibrary(directory: Self.packageRoot + "/tests.d")
        for name in ["rename-then-new-file-fsync", "punch-partial-block-fsync", "truncate-shrink-grow-fsync", "link-then-fsync-other-file"] {
            for result in run(try library.load(name), on: [.btrfs, .xfs, .ext4], options: crashStates(4)) {
                XCTAssertEqual(result.verdict, .pass, Self.explain(result))
                XCTAssertTrue(result.log.contains { $0.hasPrefix("crash states: ") && $0.contains(" checked, 0 failed") }, Self.explain(result))
            }
        }
        let seed = run(try library.load("nocow-reflink"), on: [.btrfs], options: options { $0.crashStates = 2; $0.crashStatesLimit = 40 })
        for result in seed {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            // Every one of the 40 states is checked, or has the image of one that was.
            let counts = try XCTUnwrap(result.crashStates, Self.explain(result))
            XCTAssertEqual(counts.failed, 0, Self.explain(result))
            XCTAssertEqual(counts.checked + counts.identical, 40, Self.explain(result))
        }
    }

    /// The command line: `--crash-states` alone (a test name after it, not a number) turns the search on
    /// with its default; the lying-cache test fails through it; a bad value is one line and exit status 2.
    func testTheCommandLineRunsTheSearchAndRefusesABadValue() throws {
        _ = try define("lying-fsync", Self.lyingFsync.replacingOccurrences(of: "filesystems: btrfs ext4 xfs", with: "filesystems: ext4"))
        let common = ["run", "--tests-dir", testsDirectory, "--workdir", workDirectory, "--results", directory + "/results", "-q"]
        // Without -q, for the progress line on the terminal; the human report to a file, as the terminal gets it.
        let report = directory + "/run.txt"
        let found = try regress(common.filter { $0 != "-q" } + ["--report", "human=" + report, "--crash-states", "lying-fsync"])
        XCTAssertEqual(found.status, 1, found.standardError)
        let counted = try NSRegularExpression(pattern: #"\(([1-9][0-9]*) crash states, ([1-9][0-9]*) failed\)"#)
        let progress = try XCTUnwrap(found.standardError.split(separator: "\n").first { $0.contains("lying-fsync.ext4") }, found.standardError)
        XCTAssertNotNil(counted.firstMatch(in: String(progress), range: NSRange(progress.startIndex..., in: progress)), String(progress))
        let human = try String(contentsOfFile: report, encoding: .utf8)
        let line = try XCTUnwrap(human.split(separator: "\n").first { $0.hasPrefix("FAIL   lying-fsync.ext4") }, human)
        XCTAssertNotNil(counted.firstMatch(in: String(line), range: NSRange(line.startIndex..., in: line)), String(line))
        let log = try String(contentsOfFile: directory + "/results/latest/lying-fsync.ext4/log", encoding: .utf8)
        XCTAssertTrue(log.contains("crash states: ") && log.contains(" failed, "), log)
        XCTAssertTrue(log.contains("crash state epoch "), log)

        let bad = try regress(common + ["--crash-states=-1", "lying-fsync"])
        XCTAssertEqual(bad.status, 2, bad.standardError)
        XCTAssertEqual(bad.standardError.split(separator: "\n").count, 1, bad.standardError)
        XCTAssertTrue(bad.standardError.contains("--crash-states"), bad.standardError)
    }
}
