import XCTest
@testable import RegressCore

/// The second half of explore's shrinking: smaller, rounder numbers once no step can go.
final class RangeShrinkingTests: XCTestCase {
    func testSmallerValuesAreSimplestFirstAndNeverLarger() {
        XCTAssertEqual(RangeShrinking.smaller(100_000, aligned: false, least: 1), [1, 4096, 50_000, 98_304])
        XCTAssertEqual(RangeShrinking.smaller(40960, aligned: true, least: 4096), [4096, 20480])
        XCTAssertEqual(RangeShrinking.smaller(12288, aligned: true, least: 0), [0, 4096])
        XCTAssertEqual(RangeShrinking.smaller(4096, aligned: true, least: 4096), [])
        XCTAssertEqual(RangeShrinking.smaller(0, aligned: false, least: 0), [])
        XCTAssertEqual(RangeShrinking.smaller(3, aligned: false, least: 1), [1])
    }

    func testSimplificationsKeepAlignmentWhereTheKernelNeedsIt() {
        let collapse = WorkloadStep(.collapse(file: "a", offset: 8192, length: 12288))
        for simpler in RangeShrinking.simplifications(of: collapse) {
            guard case .collapse(_, let offset, let length) = simpler.operation else { return XCTFail("\(simpler)") }
            XCTAssertTrue(offset % 4096 == 0 && length % 4096 == 0 && length > 0, simpler.line)
        }
        let write = WorkloadStep(.write(file: "a", offset: 5000, length: 70000, pattern: 7, direct: false), mayRunOutOfSpace: true)
        let simpler = RangeShrinking.simplifications(of: write)
        XCTAssertEqual(simpler.first?.line, "a: pwrite -S 0x7 5000 1 allow ENOSPC", "the boldest first, the expectation kept")
        XCTAssertTrue(simpler.contains { $0.line == "a: pwrite -S 0x7 4k 70000 allow ENOSPC" }, "an offset rounded down to a block")
        XCTAssertEqual(RangeShrinking.simplifications(of: WorkloadStep(.sync)), [])
    }

    func testShrinksUntilTheFailureGoes() {
        // Fails while the write still covers byte 9000 and the truncate leaves the file at least 8k.
        let steps = [
            WorkloadStep(.write(file: "a", offset: 1000, length: 100_000, pattern: 1, direct: false)),
            WorkloadStep(.truncate(file: "a", size: 300_000)),
            WorkloadStep(.fsync("a")),
        ]
        func fails(_ steps: [WorkloadStep]) -> Bool {
            guard case .write(_, let offset, let length, _, _) = steps[0].operation,
                  case .truncate(_, let size) = steps[1].operation else { return false }
            return offset <= 9000 && offset + length > 9000 && size >= 8192
        }
        let outcome = RangeShrinking.minimize(steps, stillFails: fails)
        XCTAssertTrue(outcome.complete)
        XCTAssertTrue(fails(outcome.steps))
        XCTAssertEqual(outcome.steps[0].line, "a: pwrite -S 0x1 0 12k")
        XCTAssertEqual(outcome.steps[1].line, "a: truncate 8k")
        XCTAssertEqual(outcome.steps[2], steps[2])
        // Each number is as small as the candidates go: no single simplification still fails.
        for index in outcome.steps.indices {
            for simpler in RangeShrinking.simplifications(of: outcome.steps[index]) {
                var candidate = outcome.steps
                candidate[index] = simpler
                XCTAssertFalse(fails(candidate), simpler.line)
            }
        }
    }

    func testTheBudgetBoundsTheCalls() {
        let steps = [WorkloadStep(.write(file: "a", offset: 1 << 20, length: 1 << 20, pattern: 1, direct: false))]
        var calls = 0
        let outcome = RangeShrinking.minimize(steps, budget: 1) { _ in calls += 1; return true }
        XCTAssertEqual(calls, 1)
        XCTAssertEqual(outcome.tries, 1)
        XCTAssertEqual(outcome.steps[0].line, "a: pwrite -S 0x1 1m 1", "the one call's change is kept")
        XCTAssertFalse(outcome.complete)
    }
}

/// Folding a rename away: the steps after it call the file by its old name.
final class RenameFoldingTests: XCTestCase {
    func testARenameIsFoldedIntoTheStepsAfterIt() {
        let steps = [WorkloadStep(.punch(file: "d", offset: 0, length: 1)), WorkloadStep(.dropWrites), WorkloadStep(.rename(from: "d", to: "a")),
                     WorkloadStep(.fsync("a")), WorkloadStep(.powerCut), WorkloadStep(.verify(nil))]
        let candidates = RenameFolding.candidates(steps)
        XCTAssertEqual(candidates.count, 1)
        XCTAssertEqual(candidates[0].map(\.line), ["d: fpunch 0 1", "drop-writes 0 0", "d: fsync", "power-cut", "verify"])
        XCTAssertNil(Workload(filesystem: .ext4, seed: 0, index: 0, steps: candidates[0]).problem)
        // Kept only while the workload still fails.
        XCTAssertEqual(RenameFolding.minimize(steps) { _ in false }.steps, steps)
        let folded = RenameFolding.minimize(steps) { $0.count >= 5 }
        XCTAssertEqual(folded.steps, candidates[0])
        XCTAssertEqual(folded.tries, 1)
    }

    func testADirectoryRenameMovesTheNamesBeneathIt() {
        let steps = [WorkloadStep(.mkdir("d0")), WorkloadStep(.rename(from: "d0", to: "d1")),
                     WorkloadStep(.write(file: "d1/a", offset: 0, length: 1, pattern: 1, direct: false)),
                     WorkloadStep(.reflink(file: "b", source: "d1/a", sourceOffset: 0, offset: 0, length: 4096))]
        XCTAssertEqual(RenameFolding.candidates(steps)[0].map(\.line), ["mkdir d0", "d0/a: pwrite -S 0x1 0 1", "b: reflink d0/a 0 0 4k"])
    }
}
