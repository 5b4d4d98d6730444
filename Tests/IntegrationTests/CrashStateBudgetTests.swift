import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// The search's time budget (half the case's timeout, set by the suite): after ten states, if the rest
/// would not fit, every k-th state is checked and the others counted as skipped; with workers side by side.
final class CrashStateBudgetTests: IntegrationTestCase {
    func testABudgetTooSmallChecksEveryKthStateAndCountsTheRestSkipped() throws {
        let test = try define("budget", """
        summary: enough flushes for a few dozen states
        filesystems: ext4
        steps:
        f: pwrite -S 0xaa 0 64k
        f: fsync
        g: pwrite -S 0xbb 0 128k
        g: fsync
        f: pwrite -S 0xcc 4k 4k
        f: fdatasync
        """)
        let options = options { $0.crashStates = 8; $0.crashStatesLimit = 400; $0.crashStatesSeconds = 0.01; $0.crashStatesJobs = 2 }
        for result in run(test, on: [.ext4], options: options) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertTrue(result.log.contains { $0.hasPrefix("crash states: the time budget (0s, half the timeout) allows about 1 more") }, Self.explain(result))
            let counts = try XCTUnwrap(result.crashStates, Self.explain(result))
            XCTAssertGreaterThanOrEqual(counts.checked, 10, Self.explain(result))
            XCTAssertGreaterThan(counts.skipped, 0, Self.explain(result))
            XCTAssertEqual(counts.checked + counts.identical + counts.skipped, counts.planned, Self.explain(result))
        }
    }
}
