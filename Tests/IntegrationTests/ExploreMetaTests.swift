import Foundation
import XCTest
@testable import RegressCore

/// Meta-tests of `regress explore` (issue 11.4), through the binary as a user runs it: with a fault injected
/// into every workload it must find it, shrink it to a test of at most 5 steps, and that test must fail under
/// a plain `regress run`; on an honest disk a few workloads on each filesystem must find nothing. The long
/// runs (hundreds of workloads, the 60-second btrfs run) are `bench/explore`.
final class ExploreMetaTests: IntegrationTestCase {
    private var output: String { directory + "/found" }
    private var common: [String] { ["--workdir", workDirectory, "--output", output, "-q"] }

    func testAnInjectedLyingFsyncIsFoundAndShrunkToATestThatFails() throws {
        let found = try regress(["explore", "--fs", "btrfs", "--seed", "1", "--ops", "8", "--time", "60",
                                 "--inject-fault", "lying-fsync"] + common)
        XCTAssertEqual(found.status, 1, "explore must find the lying fsync: " + found.standardError)
        let files = try FileManager.default.contentsOfDirectory(atPath: output)
        XCTAssertEqual(files, ["explore-btrfs-1-0"], "the first workload has the fault, and only one test is written")
        let path = output + "/" + (files.first ?? "")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let test = try TestParser(path: path, name: files[0]).parse(text)
        XCTAssertLessThanOrEqual(test.steps.count, 5, text)
        XCTAssertTrue(test.steps.contains { $0.command == .lyingCache(true) }, "the fault is what fails: \(text)")
        XCTAssertEqual(test.steps.suffix(2).map(\.name), ["power-cut", "verify"], text)
        XCTAssertTrue(text.contains("--fs btrfs --seed 1 --ops 8 --inject-fault lying-fsync"), "the header names how it was found: \(text)")
        XCTAssertTrue(text.contains("Reproduce: regress run FILE"), text)

        let rerun = try regress(["run", "--workdir", workDirectory, "--results", directory + "/results", "-q", path])
        XCTAssertEqual(rerun.status, 1, "the written test must fail when run: " + rerun.standardError)
    }

    func testAnHonestDiskGivesNoFailureOnAnyFilesystem() throws {
        for fs in ["btrfs", "xfs", "ext4"] {
            // Not quiet: the closing line says how many crash states were checked.
            let clean = try regress(["explore", "--fs", fs, "--seed", "7", "--ops", "12", "--workloads", "3", "--time", "600"] + common.filter { $0 != "-q" })
            XCTAssertEqual(clean.status, 0, "\(fs): a false positive, or the machine failed: " + clean.standardError)
            // The states each workload's result counted, added up: never none for a workload that ran.
            let total = try NSRegularExpression(pattern: #"3 workloads, ([1-9][0-9]*) crash states checked"#)
            XCTAssertNotNil(total.firstMatch(in: clean.standardError, range: NSRange(clean.standardError.startIndex..., in: clean.standardError)),
                            "\(fs): " + clean.standardError)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "nothing found, nothing written")
    }

    func testBadInputIsOneLineAndStatus2() throws {
        for arguments in [["--fs", "zfs"], ["--fs", "btrfs", "--inject-fault", "nope"], ["--fs", "xfs", "--ops", "0"]] {
            let bad = try regress(["explore"] + arguments + common)
            XCTAssertEqual(bad.status, 2, bad.standardError)
            XCTAssertEqual(bad.standardError.split(separator: "\n").count, 1, bad.standardError)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }
}
