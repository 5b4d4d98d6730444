import CDiskModel
import Glibc
import XCTest

/// The emulated disk's model (Sources/CDiskModel) on a temp image: what a write, a flush, a power cut and
/// each fault do to what is readable and to what survives. The FUSE transport and the loop device over it
/// are covered by Tests/IntegrationTests (PowerCut, FaultVerdictMeta).
final class DiskModelTests: XCTestCase {
    private let block = Int(DISK_MODEL_BLOCK)

    func testAWriteIsReadableAtOnce() throws {
        let disk = try ScratchImage()
        XCTAssertEqual(disk.write(0x61, at: 8192, count: 100), 0)
        XCTAssertEqual(disk.read(at: 8190, count: 104), [0, 0] + [UInt8](repeating: 0x61, count: 100) + [0, 0])
    }

    func testWithoutAPowerCutTheImageKeepsEveryWrite() throws {
        let disk = try ScratchImage()
        disk.write(0x61, at: 0, count: 5000)
        XCTAssertEqual(disk.close(), 0)
        XCTAssertEqual(Array(disk.imageBytes()[0..<5001]), [UInt8](repeating: 0x61, count: 5000) + [0])
    }

    func testAPowerCutKeepsFlushedWritesAndLosesTheOthers() throws {
        let disk = try ScratchImage()
        disk.write(0x61, at: 0, count: block)
        disk.flush()
        disk.write(0x62, at: 0, count: block)        // overwrites a flushed block: rolled back to 0x61
        disk.write(0x63, at: 5 * block, count: block) // a never-flushed block: back to zeros
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.read(at: 0, count: 1), [0x62], "after the cut, reads still see every write")
        disk.flush()                                   // a flush after the cut makes nothing durable
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        XCTAssertEqual(Array(image[0..<block]), [UInt8](repeating: 0x61, count: block))
        XCTAssertEqual(Array(image[5 * block..<6 * block]), [UInt8](repeating: 0, count: block))
        XCTAssertEqual(image.filter { $0 != 0 }.count, block, "nothing else changed")
    }

    func testAPowerCutRollsBackExactlyTheUnflushedBlocks() throws {
        let disk = try ScratchImage(fill: 0x11)
        var durable = disk.imageBytes()
        var rng = SeededGenerator(seed: 7)
        for round in 0..<20 {
            let offset = Int.random(in: 0..<disk.size - 3 * block, using: &rng)
            let count = Int.random(in: 1...3 * block, using: &rng)
            let byte = UInt8(truncatingIfNeeded: round + 0x20)
            disk.write(byte, at: offset, count: count)
            if round % 3 == 0 {
                disk.flush()
                durable = disk.read(at: 0, count: disk.size)
            }
        }
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        XCTAssertNil(firstDifference(disk.imageBytes(), durable), "the image after the cut is the last flushed state")
    }

    func testSubBlockAndBlockCrossingWritesRollBackByteExactly() throws {
        let disk = try ScratchImage(fill: 0x11)
        disk.write(0x22, at: 100, count: 10)
        disk.flush()
        disk.write(0x33, at: 105, count: 10)              // overlaps the flushed bytes inside one block
        disk.write(0x44, at: block - 3, count: 2 * block) // crosses two block boundaries
        var expectedNow = [UInt8](repeating: 0x11, count: 4 * block)
        expectedNow.replaceSubrange(100..<110, with: repeatElement(0x22, count: 10))
        expectedNow.replaceSubrange(105..<115, with: repeatElement(0x33, count: 10))
        expectedNow.replaceSubrange(block - 3..<3 * block - 3, with: repeatElement(0x44, count: 2 * block))
        XCTAssertEqual(disk.read(at: 0, count: 4 * block), expectedNow)
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        var durable = [UInt8](repeating: 0x11, count: 4 * block)
        durable.replaceSubrange(100..<110, with: repeatElement(0x22, count: 10))
        XCTAssertEqual(Array(disk.imageBytes()[0..<4 * block]), durable)
    }

    func testZeroingIsAWriteOfZeros() throws {
        let disk = try ScratchImage(fill: 0x11)
        XCTAssertEqual(disk.zero(at: 10, count: 2 * block), 0)
        XCTAssertEqual(disk.read(at: 8, count: 4), [0x11, 0x11, 0, 0])
        XCTAssertEqual(disk.read(at: 2 * block + 8, count: 4), [0, 0, 0x11, 0x11])
        disk.flush()
        disk.zero(at: 3 * block, count: block) // not flushed: rolled back
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        XCTAssertEqual(Array(image[8..<12]), [0x11, 0x11, 0, 0], "the flushed zeroing is durable")
        XCTAssertEqual(Array(image[3 * block..<4 * block]), [UInt8](repeating: 0x11, count: block))
    }

    func testZeroingZerosChangesNothing() throws {
        let disk = try ScratchImage()
        disk.zero(at: 0, count: 64 * block)
        XCTAssertEqual(disk.statistics.undo_bytes, 0, "no undo entry for blocks that stay zero")
        XCTAssertEqual(disk.statistics.writes, 1)
    }

    func testALyingCacheMakesNothingDurableUntilAnHonestFlush() throws {
        let disk = try ScratchImage()
        disk_model_set_lying_cache(disk.model, 1)
        disk.write(0x61, at: 0, count: block)
        disk.flush()
        disk_model_set_lying_cache(disk.model, 0)
        disk.write(0x62, at: block, count: block) // the honest flush below covers this and the lie above
        disk.flush()
        disk_model_set_lying_cache(disk.model, 1)
        disk.write(0x63, at: 2 * block, count: block)
        disk.flush()
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        XCTAssertEqual(image[0], 0x61)
        XCTAssertEqual(image[block], 0x62)
        XCTAssertEqual(image[2 * block], 0, "acknowledged only by a lying flush")
    }

    func testDroppedWritesNeverBecomeDurableButLaterWritesToTheBlockDo() throws {
        let disk = try ScratchImage()
        disk_model_drop_writes(disk.model, UInt64(16 * block), UInt64(block))
        disk.write(0x63, at: 16 * block, count: block)
        XCTAssertEqual(disk.read(at: 16 * block, count: 1), [0x63], "a dropped write is readable")
        disk.write(0x64, at: 20 * block, count: 10) // outside the range: not dropped
        disk.flush()
        disk_model_clear_faults(disk.model)
        disk.write(0x65, at: 16 * block + 100, count: 10)
        disk.flush()
        XCTAssertEqual(disk.statistics.dropped_writes, 1)
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        var expected = [UInt8](repeating: 0, count: block)
        expected.replaceSubrange(100..<110, with: repeatElement(0x65, count: 10))
        XCTAssertEqual(Array(image[16 * block..<17 * block]), expected)
        XCTAssertEqual(image[20 * block], 0x64)
    }

    func testWritesFailWithTheErrnoOnceTheByteBudgetIsUsed() throws {
        let disk = try ScratchImage()
        XCTAssertEqual(disk_model_fail_writes(disk.model, ENOSPC, UInt64(8 * block), 0, UInt64(2 * block)), 0)
        XCTAssertEqual(disk.write(0x61, at: 8 * block, count: block), 0, "inside the range, before the budget")
        XCTAssertEqual(disk.write(0x61, at: 0, count: block), 0, "outside the range, but counts")
        XCTAssertEqual(disk.write(0x62, at: 9 * block, count: 10), -ENOSPC)
        XCTAssertEqual(disk.write(0x62, at: 0, count: 10), 0, "outside the range: still accepted")
        XCTAssertEqual(disk.read(at: 9 * block, count: 1), [0], "a failed write leaves no trace")
        XCTAssertEqual(disk.statistics.failed_writes, 1)
        disk_model_clear_faults(disk.model)
        XCTAssertEqual(disk.write(0x62, at: 9 * block, count: 10), 0)
        XCTAssertEqual(disk_model_fail_writes(disk.model, -1, 0, 0, 0), -EINVAL)
    }

    func testWritesPastTheEndFail() throws {
        let disk = try ScratchImage(size: 64 * 1024)
        XCTAssertEqual(disk.write(0x61, at: 64 * 1024 - 1, count: 2), -ENOSPC)
        XCTAssertEqual(disk.write(0x61, at: 64 * 1024 - 1, count: 1), 0)
        var buffer = [UInt8](repeating: 0, count: 10)
        XCTAssertEqual(disk_model_read(disk.model, &buffer, UInt64(64 * 1024 - 2), 10), 2, "reads are clipped")
    }

    func testStatisticsCountRequestsAndTheUndoLog() throws {
        let disk = try ScratchImage(fill: 0x11)
        disk.write(0x61, at: 0, count: 3 * block)
        disk.write(0x62, at: 0, count: 10)
        _ = disk.read(at: 0, count: 100)
        var stats = disk.statistics
        XCTAssertEqual(stats.writes, 2)
        XCTAssertEqual(stats.write_bytes, UInt64(3 * block + 10))
        XCTAssertEqual(stats.reads, 1)
        XCTAssertEqual(stats.read_bytes, 100)
        XCTAssertEqual(stats.undo_reads, 1, "the durable content of a write's three blocks is read at once")
        XCTAssertGreaterThanOrEqual(stats.undo_bytes, UInt64(3 * block))
        disk.flush()
        stats = disk.statistics
        XCTAssertEqual(stats.flushes, 1)
        XCTAssertEqual(stats.undo_bytes, 0, "a flush empties the undo log")
    }

    func testBlocksInHolesAreNotReadBeforeTheirFirstWrite() throws {
        let disk = try ScratchImage()
        disk.write(0x61, at: 0, count: 8 * block)
        XCTAssertEqual(disk.statistics.undo_reads, 0, "a fresh sparse image is known to be zero")
        XCTAssertEqual(disk.statistics.undo_reads_saved, 8)
        disk.flush()
        disk.write(0x62, at: 0, count: block)
        XCTAssertEqual(disk.statistics.undo_reads, 1, "a written block is no longer known to be zero")
        disk.write(0x63, at: 3 * block - 1, count: block + 2) // blocks 2..4; none saved since the flush
        XCTAssertEqual(disk.statistics.undo_reads, 2, "one read for the three blocks")
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        XCTAssertEqual(disk.imageBytes()[0], 0x61)
    }

    func testOpeningAMissingOrEmptyImageFailsWithAReason() throws {
        let disk = try ScratchImage()
        var message = [CChar](repeating: 0, count: 256)
        XCTAssertNil(disk_model_open(disk.directory + "/missing", &message, message.count))
        XCTAssertTrue(String(cString: message).contains("missing"), String(cString: message))
        let empty = disk.directory + "/empty"
        Glibc.close(open(empty, O_RDWR | O_CREAT, 0o600))
        XCTAssertNil(disk_model_open(empty, &message, message.count))
        XCTAssertTrue(String(cString: message).contains("empty"), String(cString: message))
    }

    /// Random writes, zeroings, flushes, drops, lies, failing writes and a power cut, against a byte-level
    /// reference: what reads see, what is durable, and the pending bytes of non-dropped writes since the last
    /// effective flush. Ported from the retired bench/edisk-spike self-test.
    func testRandomOperationsAgreeWithAByteLevelReference() throws {
        for seed in UInt64(1)...8 {
            try checkAgainstReference(seed: seed, operations: 1500)
        }
    }

    private func checkAgainstReference(seed: UInt64, operations: Int) throws {
        let size = 256 * 1024
        let disk = try ScratchImage(size: size)
        var rng = SeededGenerator(seed: seed)
        var working = [UInt8](repeating: 0, count: size), durable = working, pending = working
        var pendingRanges: [Range<Int>] = [] // where `pending` has bytes to make durable
        var cut = false, lying = false, dropping = false
        var dropRange = 0..<0
        let cutAt = seed % 3 == 0 ? -1 : seed % 3 == 1 ? Int.random(in: 0..<operations, using: &rng) : operations - 1
        for step in 0..<operations {
            if step == cutAt {
                disk_model_power_cut(disk.model)
                cut = true
            }
            let roll = Int.random(in: 0..<100, using: &rng)
            if roll < 55 {
                let offset = Int.random(in: 0..<size, using: &rng)
                let count = min(size - offset, 1 + Int.random(in: 0..<(roll % 4 == 0 ? 65536 : 9000), using: &rng))
                let zeroing = roll >= 50
                let bytes = zeroing ? [UInt8](repeating: 0, count: count) : randomBytes(count, using: &rng)
                XCTAssertEqual(zeroing ? disk.zero(at: offset, count: count) : disk.write(bytes, at: offset), 0)
                working.replaceSubrange(offset..<offset + count, with: bytes)
                if !(dropping && dropRange.overlaps(offset..<offset + count)) {
                    pending.replaceSubrange(offset..<offset + count, with: bytes)
                    pendingRanges.append(offset..<offset + count)
                }
            } else if roll < 72 {
                disk.flush()
                if !cut && !lying {
                    for range in pendingRanges { durable.replaceSubrange(range, with: pending[range]) }
                    pendingRanges = []
                }
            } else if roll < 80 {
                let offset = Int.random(in: 0..<size, using: &rng)
                let count = min(size - offset, 1 + Int.random(in: 0..<65536, using: &rng))
                XCTAssertEqual(disk.read(at: offset, count: count), Array(working[offset..<offset + count]),
                               "seed \(seed) step \(step): read \(offset)+\(count)")
            } else if roll < 86 {
                if dropping && Bool.random(using: &rng) {
                    disk_model_clear_faults(disk.model)
                    dropping = false
                    lying = false
                } else {
                    let start = Int.random(in: 0..<size, using: &rng)
                    dropRange = start..<start + 1 + Int.random(in: 0..<20000, using: &rng)
                    disk_model_drop_writes(disk.model, UInt64(start), UInt64(dropRange.count))
                    dropping = true
                }
            } else if roll < 90 {
                lying.toggle()
                disk_model_set_lying_cache(disk.model, lying ? 1 : 0)
            } else {
                let offset = Int.random(in: 0..<size - block, using: &rng)
                disk_model_fail_writes(disk.model, EIO, UInt64(offset), UInt64(block), 0)
                XCTAssertEqual(disk.write(0x77, at: offset, count: 100), -EIO)
                disk_model_fail_writes(disk.model, 0, 0, 0, 0)
            }
        }
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        let expected = cut ? durable : working
        if let at = firstDifference(image, expected) {
            XCTFail("seed \(seed) (cut: \(cut)): image differs from the reference at byte \(at): "
                + "\(image[at]) instead of \(expected[at])")
        }
    }

    /// Random bytes, none of them zero (so a write always differs from a hole), eight at a time: fast in debug.
    private func randomBytes(_ count: Int, using rng: inout SeededGenerator) -> [UInt8] {
        let words = (0..<(count + 7) / 8).map { _ in rng.next() | 0x0101_0101_0101_0101 }
        return words.withUnsafeBytes { Array($0.prefix(count)) }
    }
}
