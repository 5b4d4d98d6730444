import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// A power cut on a machine without the backend a case asks for: the steps before the cut still run, a
/// failure there is still `not ok`, and otherwise the case is skipped at the cut with the backend named.
/// The whole test is never skipped before its first step.
final class PowerCutBackendIntegrationTests: IntegrationTestCase {
    static let text = """
    summary: a write, an fsync, then a power cut
    filesystems: ext4
    size: 64m
    steps:
    f: pwrite -S 0xab 0 64k
    f: fsync
    verify f
    power-cut
    verify f
    """

    private func forcing(_ backend: PowerCutBackend) -> CaseOptions { options { $0.powerCutBackend = backend } }

    func testWithoutTheBackendTheStepsBeforeTheCutRunAndTheCaseIsSkippedThere() throws {
        let test = try define("cut", Self.text)
        guard let result = run(test, on: [.ext4], options: forcing(.flakey)).first else { return }
        if let why = PowerCutBackends.whyUnavailable(.flakey) {
            XCTAssertEqual(result.verdict, .skip, Self.explain(result))
            XCTAssertEqual(result.reasons, ["'power-cut' at \(test.path):8:1 needs \(CommandSpec.Requirement.powerCut): --power-cut-backend flakey: \(why); the steps before it ran and passed"])
            XCTAssertEqual(result.verifications.map(\.passed), [true], "the verify before the cut ran")
            XCTAssertTrue(result.log.contains { $0.contains("f: pwrite -S 0xab 0 64k -> ok") }, Self.explain(result))
        } else {
            // A machine with device-mapper: the cut goes through dm-flakey and the fsynced data survives it.
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertEqual(result.verifications.map(\.passed), [true, true])
        }
    }

    func testAFailureBeforeTheMissingBackendIsStillAFailure() throws {
        let test = try define("fails-first", """
        summary: a step fails before the power cut
        filesystems: ext4
        size: 64m
        steps:
        f: pwrite 0 4k
        f: fcollapse 0 1 expect EINVAL
        f: truncate 8k expect ENOSPC
        power-cut
        """)
        guard let result = run(test, on: [.ext4], options: forcing(.logWrites)).first else { return }
        XCTAssertEqual(result.verdict, .fail, Self.explain(result))
        XCTAssertEqual(result.stepFailures.map(\.location.line), [7])
        XCTAssertEqual(result.reasons.first, "truncate f: success, expected ENOSPC at \(test.path):7:1")
    }
}
