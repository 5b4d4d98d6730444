import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// A test that hangs is killed at its timeout, reported `not ok … timeout`, and leaves nothing behind —
/// and what the results directory stores is, word for word, what the report says (also when interrupted) —
/// also when it hangs inside the kernel on regress's own emulated disk, the hardest case: the test's
/// process waits on a FUSE request that only its own (killed) thread could answer.
final class TimeoutIntegrationTests: IntegrationTestCase {
    func testAHangingTestTimesOutAndLeavesNothing() throws {
        _ = try define("hangs", """
        summary: far too slow for its timeout: O_DSYNC writes of 4k on the emulated disk, then a power cut
        filesystems: ext4
        size: 2g
        timeout: 2
        steps:
        f: pwrite -D -b 4k 0 1g
        power-cut
        verify
        """)
        let started = Date()
        let outcome = try regress(["run", "-q", "--tests-dir", testsDirectory, "--workdir", workDirectory,
                                   "--results", directory + "/results", "--format", "json", "--output", directory + "/report.json"])
        let seconds = Date().timeIntervalSince(started)

        XCTAssertEqual(outcome.status, 1, "a timeout is a failure: \(outcome.standardError)")
        XCTAssertLessThan(seconds, 30, "the run must end soon after the 2 s timeout")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/report.json"))) as? [String: Any]
        let result = try XCTUnwrap((report?["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(result["verdict"] as? String, "fail")
        let reasons = result["reasons"] as? [String] ?? []
        XCTAssertEqual(reasons.first, "timeout after 2s: killed", "\(reasons)")
        XCTAssertEqual(Self.loopDevices(backedUnder: directory), [])
        XCTAssertEqual(Self.mountPoints(under: directory), [], "no filesystem or FUSE mount may remain")
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? [], [], "work areas left behind")
        try assertStoredVerdictIsTheReported(result)
    }

    /// SIGINT in the middle of a slow test: the report says error, interrupted; the stored verdict says the same.
    func testAnInterruptedTestIsStoredAsReported() throws {
        _ = try define("slow", """
        summary: slow O_DSYNC writes, interrupted half way
        filesystems: ext4
        size: 2g
        steps:
        f: pwrite -D -b 4k 0 1g
        verify
        """)
        let binary = try XCTUnwrap(Self.regressExecutable)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "-q", "--tests-dir", testsDirectory, "--workdir", workDirectory,
                             "--results", directory + "/results", "--format", "json", "--output", directory + "/report.json"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Long enough for the case's child to be writing; the parent then kills it and reports.
        Thread.sleep(forTimeInterval: 3)
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 128 + SIGINT, "an interrupted run exits 128+signal")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/report.json"))) as? [String: Any]
        let result = try XCTUnwrap((report?["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(result["verdict"] as? String, "error")
        XCTAssertEqual((result["reasons"] as? [String])?.first, "interrupted by signal \(SIGINT)")
        XCTAssertEqual(Self.loopDevices(backedUnder: directory), [])
        XCTAssertEqual(Self.mountPoints(under: directory), [])
        try assertStoredVerdictIsTheReported(result)
    }

    /// `results/<run>/<case>/verdict` is the verdict, then one reason a line: word for word the report's.
    private func assertStoredVerdictIsTheReported(_ reported: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        let stored = try String(contentsOfFile: directory + "/results/latest/\(reported["id"] as? String ?? "?")/verdict", encoding: .utf8)
        let expected = ([reported["verdict"] as? String ?? "?"] + (reported["reasons"] as? [String] ?? [])).joined(separator: "\n") + "\n"
        XCTAssertEqual(stored, expected, "the stored verdict must be the reported one", file: file, line: line)
    }
}
