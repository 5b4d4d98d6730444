import XCTest
@testable import RegressCore

/// The pure part of turning a failing crash state into a tests.d file: where to cut and what to drop
/// (CrashStateCut), the test text a choice of pieces makes (CrashStateReproducer), and how to tell that a
/// run failed the same way.
final class CrashStateReproducerTests: XCTestCase {
    let w = CrashStatePlan.Record(kind: .write), f = CrashStatePlan.Record(kind: .flush)
    var lie: CrashStatePlan.Record { var record = f; record.ignored = true; return record }
    func r(_ offset: UInt64, _ length: UInt64 = 4096) -> ByteRange { ByteRange(offset: offset, length: length) }

    static let lyingTest = """
        summary: one fsync on a lying cache
        steps:
        f: pwrite -S 0xaa 0 64k
        lying-cache on
        f: fsync
        lying-cache off
        g: pwrite -S 0xbb 0 4k
        g: fsync
        """

    /// The log of `lyingTest` as a disk would see it: the mount's write and flush, the lied-to fsync's data and
    /// journal writes, the honest fsync's data write and flush, then a superblock write and its flush.
    var records: [CrashStatePlan.Record] { [w, f, w, w, lie, w, f, w, f] }
    var ranges: [ByteRange] { [r(0), r(0, 0), r(1 << 20, 64 << 10), r(8 << 20), r(0, 0), r(2 << 20), r(0, 0), r(64 << 10), r(0, 0)] }
    /// The log length after the mount and after each of the six steps.
    let positions = [2, 2, 2, 5, 5, 5, 9]

    func testAReorderedFlushIsNoBoundary() {
        var reordered = f
        reordered.reordered = true
        let plan = CrashStatePlan(records: [w, reordered, w, f, w])
        XCTAssertEqual(plan.epochs.map(\.writes), [[0, 2], [4]])
        XCTAssertEqual(plan.epochs[1].durablePrefix, [0, 2])
    }

    func testTheCutEndsWithTheStepOfTheEpochsFlushAndDropsEveryWriteTheStateLacks() throws {
        let plan = CrashStatePlan(records: records)
        XCTAssertEqual(plan.epochs.map(\.writes), [[0], [2, 3, 5], [7]], "the lie merges the two fsyncs' epochs")
        let cut = try XCTUnwrap(CrashStateCut(plan: plan, records: records, ranges: ranges, state: .init(epoch: 1, writes: []), positions: positions))
        XCTAssertEqual(cut.lastStep, 5, "the honest fsync, during which the epoch ended")
        XCTAssertEqual(cut.dropBefore, 2, "before the lied-to fsync, which made the first write to lose")
        // The epoch's writes and the superblock written after its flush in the same step; merged where they touch.
        XCTAssertEqual(cut.dropRanges, [r(64 << 10), r(1 << 20, 64 << 10), r(2 << 20), r(8 << 20)])
        XCTAssertEqual(cut.inexact, [])
    }

    func testAKeptWriteThatTouchesADroppedRangeMakesTheCutInexact() throws {
        var ranges = self.ranges
        ranges[5] = r(8 << 20, 8192)   // the honest fsync's write overlaps the journal write the state keeps
        let plan = CrashStatePlan(records: records)
        let cut = try XCTUnwrap(CrashStateCut(plan: plan, records: records, ranges: ranges, state: .init(epoch: 1, writes: [1]), positions: positions))
        XCTAssertEqual(cut.dropRanges, [r(64 << 10), r(1 << 20, 64 << 10), r(8 << 20, 8192)])
        XCTAssertEqual(cut.inexact, ["1 write(s) the state kept touch the dropped ranges and are dropped too"])
    }

    func testAnEpochThatBeganDuringTheMountOrEndsAtTheUnmountIsNotExact() throws {
        // No flush after the mount's write until the first step's: the epoch began before any step.
        let records = [w, w, f, w]
        let ranges = [r(0), r(4096), r(0, 0), r(8192)]
        let plan = CrashStatePlan(records: records)
        let early = try XCTUnwrap(CrashStateCut(plan: plan, records: records, ranges: ranges, state: .init(epoch: 0, writes: [1]), positions: [1, 3]))
        XCTAssertEqual(early.lastStep, 0)
        XCTAssertEqual(early.inexact, ["the epoch begins during the mount, before any step: its first writes cannot be dropped"])
        // The last epoch has no flush before the power cut: the writes the state kept of it would be lost too.
        let late = try XCTUnwrap(CrashStateCut(plan: plan, records: records, ranges: ranges, state: .init(epoch: 1, writes: [0]), positions: [1, 3]))
        XCTAssertEqual(late.lastStep, 0)
        XCTAssertTrue(late.inexact.contains { $0.hasPrefix("the epoch's last flush comes after the last step") }, "\(late.inexact)")
    }

    func testRangesMergeWhereTheyOverlapOrTouch() {
        XCTAssertEqual(CrashStateCut.merged([r(8192), r(0), r(4096, 4096), r(100, 10), r(20000, 10)]), [r(0, 12288), r(20000, 10)])
        XCTAssertEqual(CrashStateCut.merged([]), [])
    }

    private func reproducer(_ text: String = lyingTest, cut: CrashStateCut, problem: CrashStateProblem = .verify(result: VerifyResult(file: "f", expectedSize: 65536, foundSize: nil))) throws -> CrashStateReproducer {
        let test = try TestParser(path: "tests.d/lying", name: "lying").parse(text)
        let failure = CrashStateFailure(epoch: 1, writesApplied: [], writesInEpoch: 3, step: "'g: fsync' at tests.d/lying:8:1", problem: problem)
        return CrashStateReproducer(test: test, filesystem: .ext4, failure: failure, cut: cut)
    }

    func testTheReproducerIsTheStepsUpToTheCutWithTheDropThenAPowerCutAndAVerify() throws {
        let cut = CrashStateCut(lastStep: 5, dropBefore: 2, dropRanges: [r(4096), r(1 << 20, 64 << 10)], inexact: [])
        let reproducer = try reproducer(cut: cut)
        XCTAssertEqual(reproducer.pieces, (0...5).map(CrashStateReproducer.Piece.step) + [.drop(r(4096)), .drop(r(1 << 20, 64 << 10))])
        XCTAssertEqual(reproducer.steps(reproducer.pieces), [
            "f: pwrite -S 0xaa 0 64k", "lying-cache on",
            "drop-writes 4096 4096 1048576 65536",
            "f: fsync", "lying-cache off", "g: pwrite -S 0xbb 0 4k", "g: fsync",
            "power-cut", "verify f",
        ])
        // A shrunk choice: the drop goes before the first chosen step at or after its place.
        XCTAssertEqual(reproducer.steps([.step(0), .step(2), .drop(r(1 << 20, 64 << 10))]),
                       ["f: pwrite -S 0xaa 0 64k", "drop-writes 1048576 65536", "f: fsync", "power-cut", "verify f"])
        XCTAssertEqual(reproducer.steps([.step(0), .step(2)]), ["f: pwrite -S 0xaa 0 64k", "f: fsync", "power-cut", "verify f"],
                       "no range chosen, no drop")
    }

    func testTheTestsOwnDropAndClearFaultsDoNotEndTheReproducersDrop() throws {
        let text = """
            summary: drops
            steps:
            f: pwrite 0 64k
            drop-writes 0 4k
            f: fsync
            clear-faults
            g: pwrite 0 4k
            g: fsync
            """
        let cut = CrashStateCut(lastStep: 5, dropBefore: 1, dropRanges: [r(1 << 20)], inexact: [])
        XCTAssertEqual(try reproducer(text, cut: cut).steps((0...5).map(CrashStateReproducer.Piece.step) + [.drop(r(1 << 20))]), [
            "f: pwrite 0 64k",
            "drop-writes 1048576 4096",
            "drop-writes 0 4096 1048576 4096",   // the test's own range, with the reproducer's
            "f: fsync",
            "clear-faults",
            "drop-writes 1048576 4096",          // set again after the test ends it
            "g: pwrite 0 4k", "g: fsync", "power-cut", "verify f",
        ])
    }

    func testTheTextIsATestThatParsesForTheOneFilesystemAndSaysWhatItReproduces() throws {
        let cut = CrashStateCut(lastStep: 5, dropBefore: 2, dropRanges: [r(4096)], inexact: ["a reason"])
        let reproducer = try reproducer("""
            summary: x
            size: 300m
            mkfs.ext4: -b 4096
            mount.ext4: data=journal
            requires: collapse
            timeout: 90
            steps:
            f: pwrite -S 0xaa 0 64k
            lying-cache on
            f: fsync
            lying-cache off
            g: pwrite -S 0xbb 0 4k
            g: fsync
            """, cut: cut)
        let text = reproducer.text([.step(0), .step(2), .drop(r(4096))])
        XCTAssertTrue(text.contains("#   crash state epoch 1 + no writes of 3 (during 'g: fsync' at tests.d/lying:8:1): verify f: the file is missing\n"), text)
        XCTAssertTrue(text.contains("# Not exact: a reason.\n"), text)
        let test = try TestParser(path: "crash-state-1.test", name: "crash-state-1.test").parse(text)
        XCTAssertEqual(test.filesystems, [.ext4])
        XCTAssertEqual(test.imageSize, 300 << 20)
        XCTAssertEqual(test.mkfsOptions[.ext4], ["-b", "4096"])
        XCTAssertEqual(test.mountOptions[.ext4], "data=journal")
        XCTAssertEqual(test.requires, [.collapse])
        XCTAssertEqual(test.timeoutSeconds, 90)
        XCTAssertEqual(test.steps.map(\.text), ["f: pwrite -S 0xaa 0 64k", "drop-writes 4096 4096", "f: fsync", "power-cut", "verify f"])
        XCTAssertTrue(test.needsEmulatedDisk)
    }

    func testAShrinkMayNotTurnAPowerCutIntoADiskThatLosesAcknowledgedWrites() throws {
        let text = """
            summary: an honest disk
            steps:
            f: pwrite 0 64k
            f: fsync
            g: pwrite 0 4k
            g: fsync
            """
        let drop = CrashStateReproducer.Piece.drop(r(1 << 20))
        let late = try reproducer(text, cut: CrashStateCut(lastStep: 3, dropBefore: 3, dropRanges: [r(1 << 20)], inexact: []))
        XCTAssertFalse(late.testHasFaults)
        XCTAssertTrue(late.isFaithful(late.pieces), "f made durable by an earlier step; the drop covers only the last step")
        XCTAssertFalse(late.isFaithful([.step(0), .step(1), drop]), "f's own fsync last: its promise is void in a crash during it")
        XCTAssertTrue(late.isFaithful([.step(0), .step(1)]), "without a drop it is a plain test")
        let early = try reproducer(text, cut: CrashStateCut(lastStep: 3, dropBefore: 0, dropRanges: [r(1 << 20)], inexact: []))
        XCTAssertFalse(early.isFaithful(early.pieces), "f's fsync, after the first lost write and before the last step, would lose what it acknowledged")
        // A test whose disk breaks its promises itself: any shrink is as faithful as the state was.
        let faulty = try reproducer(cut: CrashStateCut(lastStep: 5, dropBefore: 0, dropRanges: [r(1 << 20)], inexact: []))
        XCTAssertTrue(faulty.testHasFaults)
        XCTAssertTrue(faulty.isFaithful([.step(0), .step(2), drop]))
        XCTAssertTrue(faulty.text([.step(0), .step(2), drop]).contains("# The test's own disk breaks its promises"))
    }

    func testASignatureTellsWhetherARunFailedTheSameWay() {
        typealias Signature = CrashStateReproducer.Signature
        var corrupted = VerifyResult(file: "a/f", expectedSize: 4096, foundSize: 4096)
        corrupted.unlistedMismatches = 1
        XCTAssertEqual(Signature(problem: .verify(result: corrupted)), .verify(file: "a/f"))
        XCTAssertEqual(Signature(problem: .unmountable(error: "mount: EUCLEAN")), .mount)
        XCTAssertEqual(Signature(problem: .fsck(output: "e2fsck\nbad inode")), .fsck)
        XCTAssertNil(Signature(problem: .rebuildFailed(error: "EIO")), "a run cannot show a write log that could not be read")
        XCTAssertNil(Signature(problem: .unmountFailed(error: "EBUSY")))

        let missing = VerifyResult(file: "f", expectedSize: 65536, foundSize: nil)
        let other = VerifyResult(file: "g", expectedSize: 4096, foundSize: nil)
        let fine = VerifyResult(file: "f", expectedSize: 65536, foundSize: 65536)
        XCTAssertTrue(Signature.verify(file: "f").shows(in: [.verified(other), .verified(missing)]))
        XCTAssertFalse(Signature.verify(file: "f").shows(in: [.verified(other), .verified(fine)]), "another file's loss is another failure")
        XCTAssertTrue(Signature.mount.shows(in: [.environment("power-cut: recovery failed: mount: EUCLEAN")]))
        XCTAssertFalse(Signature.mount.shows(in: [.environment("mkfs: failed")]))
        XCTAssertTrue(Signature.fsck.shows(in: [.fsckFailed("e2fsck\nbad")]))
    }

    func testTheOutcomeSaysWhereTheReproducerIsOrWhyThereIsNone() {
        var failure = CrashStateFailure(epoch: 3, writesApplied: [], writesInEpoch: 6, step: "'g: fsync' at t:8:1",
                                        problem: .verify(result: VerifyResult(file: "f", expectedSize: 4096, foundSize: nil)))
        failure.reproducer = .init(fileName: "crash-state-1.test", text: "", steps: 5, reproduced: true, runs: 8, minimal: true, notes: [])
        XCTAssertEqual(failure.description, "crash state epoch 3 + no writes of 6 (during 'g: fsync' at t:8:1): verify f: the file is missing; reproducer crash-state-1.test (5 steps, fails when run)")
        failure.reproducer = .init(fileName: "crash-state-1.test", text: "", steps: 9, reproduced: false, runs: 1, minimal: false, notes: ["why"])
        XCTAssertTrue(failure.description.hasSuffix("; no reproducer: a test of 9 steps that loses the writes the state left out did not fail when run (why)"), failure.description)
    }
}
