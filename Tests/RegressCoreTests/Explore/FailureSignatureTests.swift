import XCTest
@testable import RegressCore

/// "Fails the same way": what lets a shrunk workload stand for the one explore found.
final class FailureSignatureTests: XCTestCase {
    let here = SourceLocation(file: "t", line: 3)

    func result(_ evidence: [Evidence]) -> TestResult { TestResult(test: "t", filesystem: .btrfs, evidence: evidence) }

    func lost(_ file: String) -> Evidence {
        var verification = VerifyResult(file: file, expectedSize: 4096, foundSize: nil)
        verification.mismatches = []
        return .verified(verification)
    }

    func crash(_ problem: CrashStateProblem) -> Evidence {
        .crashState(CrashStateFailure(epoch: 2, writesApplied: [1], writesInEpoch: 4, step: "'f: fsync' at t:3:1", problem: problem))
    }

    func missing(_ file: String) -> CrashStateProblem { .verify(result: VerifyResult(file: file, expectedSize: 4096, foundSize: nil)) }

    func fsck(_ finding: String) -> CrashStateProblem { .fsck(output: "btrfs check /dev/loop9\n" + finding) }

    func testKindsOfProblem() {
        XCTAssertEqual(FailureSignature(result([lost("f")])).problems, [.lostData])
        XCTAssertEqual(FailureSignature(result([crash(missing("f"))])).problems, [.lostData],
                       "a crash state that lost a file and a verify that did are the same broken promise")
        XCTAssertEqual(FailureSignature(result([crash(.unmountable(error: "EUCLEAN"))])).problems, [.unmountable])
        XCTAssertEqual(FailureSignature(result([crash(fsck("bad tree block"))])).problems, [.fsck])
        XCTAssertEqual(FailureSignature(result([.fsckFailed("x\nbad")])).problems, [.fsck])
        XCTAssertEqual(FailureSignature(result([.kernelLog(["WARNING: at fs/btrfs"])])).problems, [.kernelWarning])
        let step = StepFailure(location: here, step: "fsync f", got: .ENOSPC, expected: "success")
        XCTAssertEqual(FailureSignature(result([.stepFailed(step)])).problems, [.unexpectedOutcome(command: "fsync", got: "ENOSPC")],
                       "the command, not its file: shrinking renames nothing, but the file is not the failure")
        let noError = StepFailure(location: here, step: "dedupe b", got: nil, expected: "EBADE")
        XCTAssertEqual(FailureSignature(result([.stepFailed(noError)])).problems, [.unexpectedOutcome(command: "dedupe", got: "success")])
        var passed = VerifyResult(file: "g", expectedSize: 0, foundSize: 0)
        passed.allowedSizes = nil
        XCTAssertEqual(FailureSignature(result([.verified(passed)])), FailureSignature(verdict: .pass, problems: []))
    }

    func testTheSameWay() {
        var corrupted = VerifyResult(file: "f", expectedSize: 4096, foundSize: 4096)
        corrupted.unlistedMismatches = 1
        let original = FailureSignature(result([crash(.verify(result: corrupted)), lost("f")]))
        XCTAssertEqual(original.verdict, .fail)
        // Fewer kinds, the same verdict: the same way.
        XCTAssertTrue(original.isReproduced(by: FailureSignature(result([lost("g")]))))
        XCTAssertTrue(original.isReproduced(by: FailureSignature(result([crash(missing("g"))]))))
        // Passing is not failing the same way; nor is an error of the machine.
        XCTAssertFalse(original.isReproduced(by: FailureSignature(result([]))))
        XCTAssertFalse(original.isReproduced(by: FailureSignature(result([.environment("mkfs failed"), lost("f")]))))
        // A new kind is another failure: the candidate slipped (an offset made invalid now gets EINVAL).
        let slipped = StepFailure(location: here, step: "fcollapse f", got: .EINVAL, expected: "success")
        XCTAssertFalse(original.isReproduced(by: FailureSignature(result([.stepFailed(slipped), lost("f")]))))
        XCTAssertFalse(original.isReproduced(by: FailureSignature(result([crash(.unmountable(error: "EIO"))]))))
        XCTAssertFalse(original.isReproduced(by: FailureSignature(result([lost("f"), .fsckFailed("x\nbad")]))))
        // An errno failure stays itself: the same command must get the same errno.
        let enospc = FailureSignature(result([.stepFailed(StepFailure(location: here, step: "fsync a", got: .ENOSPC, expected: "success"))]))
        XCTAssertTrue(enospc.isReproduced(by: FailureSignature(result([.stepFailed(StepFailure(location: here, step: "fsync b", got: .ENOSPC, expected: "success"))]))))
        XCTAssertFalse(enospc.isReproduced(by: FailureSignature(result([.stepFailed(StepFailure(location: here, step: "fsync a", got: .EIO, expected: "success"))]))))
        XCTAssertFalse(enospc.isReproduced(by: FailureSignature(result([.stepFailed(StepFailure(location: here, step: "pwrite a", got: .ENOSPC, expected: "success"))]))))
    }

    func testFsckThatCouldNotRunIsTheMachines() {
        let flake = FailureSignature(result([crash(fsck("ERROR: could not check mount status: No such device or address"))]))
        XCTAssertEqual(flake.problems, [.fsckCouldNotRun])
        XCTAssertTrue(flake.isEnvironmental)
        XCTAssertFalse(FailureSignature(result([crash(fsck("ERROR: could not check mount status: x")), lost("f")])).isEnvironmental)
        XCTAssertFalse(FailureSignature(result([crash(fsck("bad tree block 30408704"))])).isEnvironmental)
    }

    func testATimeoutIsItsOwnKind() {
        let timeout = FailureSignature(result([.timedOut(seconds: 60, stuckInKernel: nil)]))
        XCTAssertEqual(timeout.verdict, .fail)
        XCTAssertFalse(timeout.isReproduced(by: FailureSignature(result([lost("f")]))))
    }

    func testAnUnreadableFileInACrashStateIsUnreadable() {
        var unreadable = VerifyResult(file: "f", expectedSize: 4096, foundSize: nil)
        unreadable.readError = .EIO
        XCTAssertEqual(FailureSignature(result([crash(.verify(result: unreadable))])).problems, [.unreadable])
        XCTAssertEqual(FailureSignature(result([crash(.rootUnopenable(error: "EIO"))])).problems, [.otherCrashState])
        XCTAssertEqual(FailureSignature(result([crash(.unmountFailed(error: "EBUSY"))])).problems, [.otherCrashState])
    }
}
