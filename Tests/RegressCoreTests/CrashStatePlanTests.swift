import XCTest
@testable import RegressCore

/// The crash-state enumeration: epochs from a write log, the faults' effect on them, the states chosen.
final class CrashStatePlanTests: XCTestCase {
    let w = CrashStatePlan.Record(kind: .write), f = CrashStatePlan.Record(kind: .flush)

    func testFlushesCutTheLogIntoEpochsWithTheirDurablePrefix() {
        let plan = CrashStatePlan(records: [w, w, f, w, f, w])
        XCTAssertEqual(plan.epochs.map(\.writes), [[0, 1], [3], [5]])
        XCTAssertEqual(plan.epochs.map(\.end), [2, 4, nil])
        XCTAssertEqual(plan.epochs.map(\.durablePrefix), [[], [0, 1], [0, 1, 3]])
        XCTAssertEqual(plan.logIndices(of: .init(epoch: 2, writes: [0])), [0, 1, 3, 5])
        XCTAssertEqual(plan.logIndices(of: .init(epoch: 1, writes: [])), [0, 1])
    }

    func testAnIgnoredFlushIsNoBoundaryAndADroppedWriteNeverLands() {
        var ignored = f
        ignored.ignored = true
        var dropped = w
        dropped.dropped = true
        let plan = CrashStatePlan(records: [w, ignored, w, dropped, f, w, f])
        XCTAssertEqual(plan.epochs.map(\.writes), [[0, 2], [5]])
        XCTAssertEqual(plan.epochs[1].durablePrefix, [0, 2])
    }

    func testRecordsAfterAPowerCutAreLeftOut() {
        var late = w
        late.afterPowerCut = true
        var lateFlush = f
        lateFlush.afterPowerCut = true
        let plan = CrashStatePlan(records: [w, f, w, late, lateFlush])
        XCTAssertEqual(plan.epochs.map(\.writes), [[0], [2]])
    }

    /// The writes in flight at a power cut give crash states but never land; the log goes on after the
    /// restart with the next disk's writes, over the prefix durable at the cut.
    func testAPowerCutEndsAnEpochWhoseWritesNeverLand() {
        var late = w
        late.afterPowerCut = true
        let restart = CrashStatePlan.Record(kind: .restart)
        let plan = CrashStatePlan(records: [w, f, w, w, late, restart, w, f, w])
        XCTAssertEqual(plan.epochs.map(\.writes), [[0], [2, 3], [6], [8]])
        XCTAssertEqual(plan.epochs.map(\.end), [1, 5, 7, nil])
        XCTAssertEqual(plan.epochs.map(\.durablePrefix), [[], [0], [0], [0, 6]])
        // A cut right after a flush: no epoch of its own.
        XCTAssertEqual(CrashStatePlan(records: [w, f, restart, w]).epochs.map(\.writes), [[0], [3]])
    }

    func testStatesArePrefixesThenSinglesThenRandomSubsetsUpToTheLimit() {
        let plan = CrashStatePlan(records: Array(repeating: w, count: 30) + [f, w, w, f])
        let (states, skipped) = plan.states(epochs: [0, 1], randomSubsets: 5, limit: 1000, seed: 1)
        XCTAssertEqual(states.prefix(2), [.init(epoch: 0, writes: []), .init(epoch: 1, writes: [])])
        XCTAssertEqual(states[2], .init(epoch: 0, writes: [0]))
        // Epoch 1 has two writes: besides the empty set and the singles, only {0, 1} is left.
        XCTAssertEqual(states.filter { $0.epoch == 1 }.count, 4)
        XCTAssertEqual(states.filter { $0.epoch == 0 }.count, 1 + 30 + 5)
        XCTAssertEqual(Set(states).count, states.count, "no state twice")
        XCTAssertEqual(skipped, 0)
        let (limited, cut) = plan.states(epochs: [0, 1], randomSubsets: 5, limit: 10, seed: 1)
        XCTAssertEqual(limited.count, 10)
        XCTAssertEqual(cut, states.count - 10)
        XCTAssertEqual(Array(limited.prefix(2)), Array(states.prefix(2)), "the prefixes come first")
        XCTAssertTrue(Set(limited).isSubset(of: Set(states)))
    }

    func testALimitSpreadsTheStatesOverEveryEpoch() {
        let plan = CrashStatePlan(records: Array(repeating: [w, f], count: 100).flatMap { $0 })
        let (states, skipped) = plan.states(epochs: Array(0..<100), randomSubsets: 0, limit: 10, seed: 1)
        XCTAssertEqual(states.map(\.epoch), [0, 11, 22, 33, 44, 55, 66, 77, 88, 99])
        XCTAssertEqual(skipped, 190)
    }

    func testTheSameSeedGivesTheSameStatesAndAnotherSeedOthers() {
        let plan = CrashStatePlan(records: Array(repeating: w, count: 40) + [f])
        let a = plan.states(epochs: [0], randomSubsets: 20, limit: 100, seed: 7).states
        XCTAssertEqual(a, plan.states(epochs: [0], randomSubsets: 20, limit: 100, seed: 7).states)
        XCTAssertNotEqual(a, plan.states(epochs: [0], randomSubsets: 20, limit: 100, seed: 8).states)
        XCTAssertTrue(a.allSatisfy { $0.writes == $0.writes.sorted() && ($0.writes.last ?? 0) < 40 })
    }

    func testAStepOwesTheDurableContentBeforeItOrTheContentAfterIt() {
        var before = ContentModel()
        before.apply(.write(file: "a", byte: 1, range: ByteRange(offset: 0, length: 4096), durable: false))
        before.apply(.makeDurable(file: "a"))
        before.apply(.write(file: "b", byte: 2, range: ByteRange(offset: 0, length: 4096), durable: false))
        var after = before
        after.apply(.write(file: "a", byte: 3, range: ByteRange(offset: 0, length: 8192), durable: false))
        after.apply(.makeDurable(file: "a"))
        let expected = Dictionary(uniqueKeysWithValues: CrashExpectation.expected(before: before, after: after).map { ($0.file, $0.expected) })
        XCTAssertTrue(CrashExpectation.expected(before: before, after: after).allSatisfy { $0.alternatives.isEmpty })
        XCTAssertEqual(expected["a"], .either(old: before.content(of: "a"), new: after.content(of: "a")!))
        XCTAssertEqual(expected["b"], .either(old: nil, new: after.content(of: "b")!))
        // A file durable before the step and left alone by it is owed exactly.
        let unchanged = CrashExpectation.expected(before: after, after: after).first { $0.file == "a" }!
        XCTAssertEqual(unchanged.expected, .exact(after.content(of: "a")!))
    }

    func testARenamedNameIsPendingUntilASyncOrAnFsyncOfIt() {
        var pending = CrashExpectation.pendingNames([], after: [.rename(from: "g", to: "h"), .link(from: "f", to: "d/l")])
        XCTAssertEqual(pending, ["g", "h", "d/l"])
        pending = CrashExpectation.pendingNames(pending, after: [.rename(from: "d", to: "e")])
        XCTAssertEqual(pending, ["g", "h", "d", "e/l", "e"])
        XCTAssertEqual(CrashExpectation.pendingNames(pending, after: [.makeDurable(file: "h")]), ["g", "d", "e/l", "e"])
        XCTAssertEqual(CrashExpectation.pendingNames(pending, after: [.makeAllDurable]), [])
        // A pending name's file may be missing: it is owed no durable content.
        var model = ContentModel()
        model.apply(.write(file: "g", byte: 1, range: ByteRange(offset: 0, length: 4096), durable: true))
        model.apply(.rename(from: "g", to: "h"))
        let owed = CrashExpectation.expected(before: model, after: model, pendingNames: ["h"])
        XCTAssertEqual(owed.first?.expected, .either(old: nil, new: model.content(of: "h")!))
    }

    /// rename foo bar, then a new foo, then fsync foo: a crash before the fsync's commit may show the old
    /// file under foo (the rename was not durable yet). tests.d/rename-then-new-file-fsync found it.
    func testANameRenamedAwayMayStillShowItsOldFile() {
        var before = ContentModel()
        before.apply(.write(file: "foo", byte: 0xf1, range: ByteRange(offset: 0, length: 16384), durable: false))
        before.apply(.makeAllDurable)
        let changes: [ModelChange] = [.rename(from: "foo", to: "bar"), .create(file: "foo"),
                                      .write(file: "foo", byte: 0xba, range: ByteRange(offset: 0, length: 16384), durable: false)]
        for change in changes { before.apply(change) }
        let pending = CrashExpectation.pendingNames([], after: changes)
        var after = before
        after.apply(.makeDurable(file: "foo"))
        let foo = CrashExpectation.expected(before: before, after: after, pendingNames: pending).first { $0.file == "foo" }!
        XCTAssertEqual(foo.expected, .either(old: nil, new: after.content(of: "foo")!))
        XCTAssertEqual(foo.alternatives, [.exact(before.content(of: "bar")!)])
    }

    func testAPositionFallsBetweenTheSnapshotsAroundIt() {
        let positions = [10, 15, 15, 30]
        XCTAssertNil(CrashExpectation.window(of: 9, in: positions))
        XCTAssertEqual(CrashExpectation.window(of: 12, in: positions)?.before, 0)
        XCTAssertEqual(CrashExpectation.window(of: 12, in: positions)?.after, 1)
        XCTAssertEqual(CrashExpectation.window(of: 20, in: positions)?.before, 2)
        XCTAssertEqual(CrashExpectation.window(of: 40, in: positions)?.after, 3)
    }
}
