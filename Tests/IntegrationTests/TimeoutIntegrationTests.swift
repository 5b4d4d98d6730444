import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// A test that hangs is killed at its timeout, reported `not ok … timeout`, and leaves nothing behind —
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
    }
}
