import XCTest
@testable import RegressCore

/// A crash state after one of the test's own power cuts: its reproducer runs through that power cut, which
/// loses the writes in flight then by itself; the cut drops only what the state lacks after it.
final class CrashStateCutAfterPowerCutTests: XCTestCase {
    func testWritesInFlightAtTheTestsOwnPowerCutAreNotDropped() throws {
        let w = CrashStatePlan.Record(kind: .write), f = CrashStatePlan.Record(kind: .flush)
        let restart = CrashStatePlan.Record(kind: .restart)
        // Step 1 writes and flushes; step 2 writes (in flight) and cuts the power; step 3 writes twice and flushes.
        let records = [w, f, w, restart, w, w, f]
        let ranges = [0, 0, 1, 0, 2, 3, 0].enumerated().map { index, mib in
            ByteRange(offset: UInt64(mib) << 20, length: records[index].kind == .write ? 4096 : 0)
        }
        let positions = [0, 2, 4, 7]
        let plan = CrashStatePlan(records: records)
        XCTAssertEqual(plan.epochs.map(\.writes), [[0], [2], [4, 5]])
        let cut = try XCTUnwrap(CrashStateCut(plan: plan, records: records, ranges: ranges, state: .init(epoch: 2, writes: [1]), positions: positions))
        XCTAssertEqual(cut.lastStep, 2)
        XCTAssertEqual(cut.dropRanges, [ByteRange(offset: 2 << 20, length: 4096)], "only the write the state left out after the cut")
        XCTAssertEqual(cut.dropBefore, 2)
        // A state of the epoch in flight at the cut still drops its own left-out writes.
        let atTheCut = try XCTUnwrap(CrashStateCut(plan: plan, records: records, ranges: ranges, state: .init(epoch: 1, writes: []), positions: positions))
        XCTAssertEqual(atTheCut.dropRanges, [ByteRange(offset: 1 << 20, length: 4096)])
    }
}
