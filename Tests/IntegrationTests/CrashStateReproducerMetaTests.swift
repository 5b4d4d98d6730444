import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// Meta-tests of `--crash-states` end to end (issue 11.3 and 11.5), through the command line as a user runs
/// it: a disk that breaks its promises in each way real drives do — a lying cache on one flush, a flush
/// reordered with the writes after it, a write dropped in an epoch — is found on btrfs, ext4 and xfs, the
/// crash state is named (epoch, writes applied), a reproducer of at most 5 steps is written beside the
/// case's log, and `regress run` of that file fails the same way without any search. An honest disk says ok
/// and gets no reproducer.
final class CrashStateReproducerMetaTests: IntegrationTestCase {
    private static let filesystems: [FilesystemKind] = [.btrfs, .ext4, .xfs]

    /// The workload every fault is injected into: a file fsynced under the fault, then another file fsynced
    /// honestly. Only a crash state at the honest fsync shows that the first fsync's data never became durable.
    private static func workload(_ summary: String, fault on: String, _ off: String) -> String {
        """
        summary: \(summary)
        filesystems: btrfs ext4 xfs
        steps:
        f: pwrite -S 0xaa 0 64k
        \(on)
        f: fsync
        \(off)
        g: pwrite -S 0xbb 0 4k
        g: fsync
        """
    }

    private var common: [String] {
        ["run", "--tests-dir", testsDirectory, "--workdir", workDirectory, "--results", directory + "/results", "-q"]
    }

    /// Runs the search on every filesystem, then each reproducer it wrote, and checks both.
    /// `fault`: the test's own fault step, which the shrunk reproducer keeps unless it loses the writes
    /// with a drop of their disk ranges instead.
    private func assertFoundAndReproduced(_ name: String, _ text: String, fault: String, file: StaticString = #filePath, line: UInt = #line) throws {
        _ = try define(name, text)
        let search = try regress(common + ["--crash-states=8", "--crash-states-limit", "400", name])
        XCTAssertEqual(search.status, 1, "the search must fail the case: " + search.standardError, file: file, line: line)
        let runDirectory = try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/results/latest")
        for fs in Self.filesystems {
            let caseDirectory = directory + "/results/" + runDirectory + "/\(name).\(fs.rawValue)"
            let result = try JSONDecoder().decode(TestResult.self, from: Data(contentsOf: URL(fileURLWithPath: caseDirectory + "/result.json")))
            let failures = result.evidence.compactMap { if case .crashState(let failure) = $0 { return failure } else { return nil } }
            let failure = try XCTUnwrap(failures.first, "\(name).\(fs): no crash state failed: " + Self.explain(result), file: file, line: line)
            // The state is named: its epoch, the writes of it applied, the step it cut, what went wrong.
            XCTAssertTrue(failure.description.hasPrefix("crash state epoch \(failure.epoch) + "), "\(failure)", file: file, line: line)
            XCTAssertTrue(failure.step.hasPrefix("'g: fsync'"), "the honest fsync's epoch: \(failure)", file: file, line: line)
            XCTAssertEqual(failure.problem.file, "f", "\(failure)", file: file, line: line)
            let reproducer = try XCTUnwrap(failure.reproducer, "\(name).\(fs): no reproducer: " + Self.explain(result), file: file, line: line)
            XCTAssertTrue(reproducer.reproduced, "\(name).\(fs): \(reproducer.description)\n" + Self.explain(result), file: file, line: line)
            XCTAssertLessThanOrEqual(reproducer.steps, 5, "\(name).\(fs): shrunk to\n\(reproducer.text)", file: file, line: line)
            XCTAssertTrue(reproducer.text.contains("\n\(fault)\n") || reproducer.text.contains("\ndrop-writes "),
                          "\(name).\(fs): the fault or a drop must remain:\n\(reproducer.text)", file: file, line: line)
            XCTAssertTrue(result.reasons.contains { $0.contains("reproducer crash-state-1.test (\(reproducer.steps) steps, fails when run)") },
                          "the reasons say where the reproducer is: \(result.reasons)", file: file, line: line)
            XCTAssertTrue(result.log.contains { $0.hasPrefix("crash state reproducer crash-state-1.test: fails when run") }, Self.explain(result),
                          file: file, line: line)

            // The file as written, run as any test: it fails, on the file the state lost, without a search.
            let path = caseDirectory + "/crash-state-1.test"
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), reproducer.text, file: file, line: line)
            let rerun = try regress(["run", "--workdir", workDirectory, "--results", directory + "/rerun", "-q", path])
            XCTAssertEqual(rerun.status, 1, "\(path) must fail when run:\n\(reproducer.text)\n" + rerun.standardError, file: file, line: line)
            let rerunDirectory = directory + "/rerun/latest/crash-state-1.test.\(fs.rawValue)"
            let verdict = try String(contentsOfFile: rerunDirectory + "/verdict", encoding: .utf8)
            XCTAssertTrue(verdict.hasPrefix("fail\nverify f:"), "\(path) fails on f:\n\(verdict)", file: file, line: line)
            XCTAssertFalse(try String(contentsOfFile: rerunDirectory + "/log", encoding: .utf8).contains("crash states:"),
                           "the reproducer needs no search", file: file, line: line)
        }
    }

    func testALyingCacheOnOneFlushIsFoundAndReproduced() throws {
        try assertFoundAndReproduced("lying-fsync", Self.workload("one fsync on a lying cache", fault: "lying-cache on", "lying-cache off"),
                                     fault: "lying-cache on")
    }

    func testAReorderedFlushIsFoundAndReproduced() throws {
        try assertFoundAndReproduced("reordered-fsync", Self.workload("one fsync whose flushes the disk reorders",
                                                                     fault: "reorder-flushes on", "reorder-flushes off"),
                                     fault: "reorder-flushes on")
    }

    func testAWriteDroppedInAnEpochIsFoundAndReproduced() throws {
        try assertFoundAndReproduced("dropped-fsync", Self.workload("the disk drops the writes of one fsync",
                                                                   fault: "drop-writes 0 0", "clear-faults"),
                                     fault: "drop-writes 0 0")
    }

    /// A failure no run of the steps can bring back (here a file changed behind the model's back during
    /// the search's run only, as a flaky allocation would differ) gets no reproducer file: the case says so.
    func testAStateThatARunDoesNotReproduceIsSaidSoAndGetsNoFile() throws {
        let test = try define("tampered", """
        summary: a file changed behind the model's back after its fsync
        filesystems: ext4
        steps:
        f: pwrite -S 0xaa 0 64k
        f: fsync
        g: pwrite -S 0xbb 0 4k
        g: fsync
        """)
        let afterStep: (Int, String) -> Void = { index, mountPoint in
            guard index == 1 else { return }
            let fd = open(mountPoint + "/f", O_WRONLY)
            guard fd >= 0 else { return }
            let bytes = [UInt8](repeating: 0x55, count: 4096)
            _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            fsync(fd)
            close(fd)
        }
        let result = try XCTUnwrap(run(test, on: [.ext4], options: options { $0.crashStates = 0; $0.crashStateShrinkRuns = 3 },
                                       afterStep: afterStep).first)
        XCTAssertEqual(result.verdict, .fail, Self.explain(result))
        let failure = try XCTUnwrap(result.evidence.lazy.compactMap { if case .crashState(let failure) = $0 { return failure } else { return nil } }.first,
                                    Self.explain(result))
        XCTAssertTrue(failure.problem.description.hasPrefix("verify f: bytes 0..4095"), "\(failure)")
        let reproducer = try XCTUnwrap(failure.reproducer, Self.explain(result))
        XCTAssertFalse(reproducer.reproduced, reproducer.text)
        XCTAssertEqual(reproducer.runs, 1, "one run of the whole candidate, no shrink of a candidate that passes")
        XCTAssertTrue(result.reasons.contains { $0.contains("; no reproducer: a test of ") && $0.contains("did not fail when run") }, "\(result.reasons)")
        XCTAssertTrue(result.log.contains { $0.hasPrefix("crash state reproducer crash-state-1.test: did not reproduce, \(reproducer.steps) steps, 1 runs in ") },
                      Self.explain(result))
        let store = try ResultsStore(root: directory + "/results")
        let saved = store.save(result)
        XCTAssertFalse(FileManager.default.fileExists(atPath: try XCTUnwrap(saved.resultsDirectory) + "/crash-state-1.test"),
                       "no file that passes is handed out")
    }

    /// No false positive and no reproducer: the same kind of workload on an honest disk says ok.
    func testAnHonestDiskSaysOkAndGetsNoReproducer() throws {
        _ = try define("honest", """
        summary: writes and fsyncs on an honest disk
        filesystems: btrfs ext4 xfs
        steps:
        f: pwrite -S 0xaa 0 64k
        f: fsync
        g: pwrite -S 0xbb 0 4k
        g: fsync
        """)
        let run = try regress(common + ["--crash-states=8", "--crash-states-limit", "400", "honest"])
        XCTAssertEqual(run.status, 0, run.standardError)
        for fs in Self.filesystems {
            let caseDirectory = directory + "/results/latest/honest.\(fs.rawValue)"
            let log = try String(contentsOfFile: caseDirectory + "/log", encoding: .utf8)
            XCTAssertTrue(log.contains(" checked, 0 failed"), log)
            XCTAssertFalse(FileManager.default.fileExists(atPath: caseDirectory + "/crash-state-1.test"))
        }
    }

    /// The reordered flush on the emulated disk itself, without a search: the writes after the fsync's first
    /// flush reach the media, those before it do not. On btrfs that is its superblock without the log tree it
    /// points to, which no mount can read (a lying cache, which loses both, leaves a mountable filesystem
    /// without the file); ext4 and xfs lose the file's data. With the fault off the same steps pass.
    func testAPowerCutAfterAReorderedFlushLosesWhatItAcknowledged() throws {
        let text = """
        summary: an fsync whose flush the disk reorders, then a power cut
        filesystems: btrfs ext4 xfs
        steps:
        f: pwrite -S 0xaa 0 64k
        reorder-flushes on
        f: fsync
        power-cut
        verify f
        """
        let faulty = try define("reordered-cut", text)
        for result in run(faulty, on: Self.filesystems) {
            if result.filesystem == .btrfs {
                XCTAssertEqual(result.verdict, .error, Self.explain(result))
                XCTAssertTrue(result.reasons.contains { $0.hasPrefix("power-cut: recovery failed: mount") }, Self.explain(result))
            } else {
                XCTAssertEqual(result.verdict, .fail, Self.explain(result))
                XCTAssertTrue(result.reasons.contains { $0.hasPrefix("verify f:") }, Self.explain(result))
            }
        }
        let honest = try define("ordered-cut", text.replacingOccurrences(of: "reorder-flushes on", with: "reorder-flushes off"))
        for result in run(honest, on: Self.filesystems) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
        }
    }
}
