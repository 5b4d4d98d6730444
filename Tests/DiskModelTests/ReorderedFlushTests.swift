import CDiskModel
import Glibc
import XCTest

/// The two disk faults a crash-state reproducer and the meta-tests need beyond the original ones: a flush
/// that is no barrier (writes after it reach the media before writes before it), and several dropped
/// ranges at once.
final class ReorderedFlushTests: XCTestCase {
    private let block = Int(DISK_MODEL_BLOCK)

    func testAfterAReorderedFlushLaterWritesAreDurableAndEarlierOnesAreNot() throws {
        let disk = try ScratchImage()
        disk.write(0x61, at: 0, count: block)
        disk.flush()                                      // honoured: 0x61 durable
        disk_model_set_reorder_flushes(disk.model, 1)
        disk.write(0x62, at: 0, count: block)             // before the reordered flush
        disk.write(0x63, at: 4 * block, count: block)
        disk.flush()                                      // reordered: nothing above becomes durable
        disk_model_set_reorder_flushes(disk.model, 0)
        disk.write(0x64, at: 8 * block, count: block)     // overtakes: durable at once
        disk.write(0x65, at: 4 * block + 100, count: 10)  // overtakes into a block the earlier writes changed
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        XCTAssertEqual(image[0], 0x61, "written before the reordered flush: still volatile")
        XCTAssertEqual(image[4 * block], 0, "written before the reordered flush: still volatile")
        XCTAssertEqual(Array(image[4 * block + 100..<4 * block + 110]), [UInt8](repeating: 0x65, count: 10),
                       "the bytes of the overtaking write are durable, the block's other bytes are not")
        XCTAssertEqual(image[8 * block], 0x64, "written after the reordered flush: on the media")
    }

    func testAnHonouredFlushAfterAReorderedOneMakesEverythingDurable() throws {
        let disk = try ScratchImage()
        disk_model_set_reorder_flushes(disk.model, 1)
        disk.write(0x61, at: 0, count: block)
        disk.flush()
        disk_model_clear_faults(disk.model)
        disk.write(0x62, at: block, count: block)
        disk.flush()                                      // honoured: both durable, overtaking ends
        disk.write(0x63, at: 2 * block, count: block)     // an ordinary unflushed write again
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        XCTAssertEqual(image[0], 0x61)
        XCTAssertEqual(image[block], 0x62)
        XCTAssertEqual(image[2 * block], 0, "after the honoured flush writes are volatile again")
    }

    func testSeveralDropRangesAtOnceReplaceThePreviousOnes() throws {
        let disk = try ScratchImage()
        var starts: [UInt64] = [UInt64(2 * block), UInt64(6 * block)]
        var lengths: [UInt64] = [UInt64(block), UInt64(block)]
        XCTAssertEqual(disk_model_drop_writes_ranges(disk.model, &starts, &lengths, 2), 0)
        disk.write(0x61, at: 2 * block, count: block)  // dropped
        disk.write(0x62, at: 4 * block, count: block)  // between the ranges: kept
        disk.write(0x63, at: 6 * block, count: 10)     // dropped
        disk.flush()
        disk_model_drop_writes(disk.model, UInt64(4 * block), UInt64(block)) // replaces both
        disk.write(0x64, at: 2 * block + 200, count: 10) // no longer dropped
        disk.flush()
        XCTAssertEqual(disk.statistics.dropped_writes, 2)
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        XCTAssertEqual(image[2 * block], 0)
        XCTAssertEqual(image[2 * block + 200], 0x64)
        XCTAssertEqual(image[4 * block], 0x62)
        XCTAssertEqual(image[6 * block], 0)
    }

    /// Random writes, zeroings, flushes, reordered flushes, lies, several drop ranges and a power cut,
    /// against a byte-level reference: after a reordered flush each write that is not dropped is durable at
    /// once, until an honoured flush makes every pending byte durable.
    func testRandomOperationsWithReorderedFlushesAgreeWithAByteLevelReference() throws {
        for seed in UInt64(1)...4 {
            try checkAgainstReference(seed: seed, operations: 1000)
        }
    }

    private func checkAgainstReference(seed: UInt64, operations: Int) throws {
        let size = 256 * 1024
        let disk = try ScratchImage(size: size)
        var rng = SeededGenerator(seed: seed)
        var working = [UInt8](repeating: 0, count: size), durable = working, pending = working
        var pendingRanges: [Range<Int>] = []
        var cut = false, lying = false, reorder = false, overtaking = false
        var dropRanges: [Range<Int>] = []
        let cutAt = seed % 2 == 0 ? operations - 1 : Int.random(in: 0..<operations, using: &rng)
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
                let bytes = zeroing ? [UInt8](repeating: 0, count: count) : nonZeroBytes(count, using: &rng)
                XCTAssertEqual(zeroing ? disk.zero(at: offset, count: count) : disk.write(bytes, at: offset), 0)
                working.replaceSubrange(offset..<offset + count, with: bytes)
                if !dropRanges.contains(where: { $0.overlaps(offset..<offset + count) }) {
                    pending.replaceSubrange(offset..<offset + count, with: bytes)
                    pendingRanges.append(offset..<offset + count)
                    if overtaking && !cut { durable.replaceSubrange(offset..<offset + count, with: bytes) }
                }
            } else if roll < 72 {
                disk.flush()
                if !cut && !lying && reorder {
                    overtaking = true
                } else if !cut && !lying {
                    for range in pendingRanges { durable.replaceSubrange(range, with: pending[range]) }
                    pendingRanges = []
                    overtaking = false
                }
            } else if roll < 78 {
                let offset = Int.random(in: 0..<size, using: &rng)
                let count = min(size - offset, 1 + Int.random(in: 0..<65536, using: &rng))
                XCTAssertEqual(disk.read(at: offset, count: count), Array(working[offset..<offset + count]),
                               "seed \(seed) step \(step): read \(offset)+\(count)")
            } else if roll < 84 {
                if !dropRanges.isEmpty && Bool.random(using: &rng) {
                    disk_model_clear_faults(disk.model)
                    dropRanges = []
                    lying = false
                    reorder = false
                } else {
                    dropRanges = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                        let start = Int.random(in: 0..<size, using: &rng)
                        return start..<start + 1 + Int.random(in: 0..<20000, using: &rng)
                    }
                    var starts = dropRanges.map { UInt64($0.lowerBound) }, lengths = dropRanges.map { UInt64($0.count) }
                    XCTAssertEqual(disk_model_drop_writes_ranges(disk.model, &starts, &lengths, dropRanges.count), 0)
                }
            } else if roll < 88 {
                lying.toggle()
                disk_model_set_lying_cache(disk.model, lying ? 1 : 0)
            } else {
                reorder.toggle()
                disk_model_set_reorder_flushes(disk.model, reorder ? 1 : 0)
            }
        }
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        let expected = cut ? durable : working
        if let at = firstDifference(image, expected) {
            XCTFail("seed \(seed) (cut: \(cut)): image differs from the reference at byte \(at): \(image[at]) instead of \(expected[at])")
        }
    }

    /// Random bytes, none zero, eight at a time (fast in a debug build).
    private func nonZeroBytes(_ count: Int, using rng: inout SeededGenerator) -> [UInt8] {
        let words = (0..<(count + 7) / 8).map { _ in rng.next() | 0x0101_0101_0101_0101 }
        return words.withUnsafeBytes { Array($0.prefix(count)) }
    }

    func testAReorderedFlushIsLoggedAsSuch() throws {
        let disk = try ScratchImage()
        XCTAssertEqual(disk_model_enable_log(disk.model, disk.directory + "/log", 0), 0)
        disk.write(0x61, at: 0, count: block)
        disk_model_set_reorder_flushes(disk.model, 1)
        disk.flush()
        disk_model_set_reorder_flushes(disk.model, 0)
        disk.flush()
        var records = [disk_log_record](repeating: disk_log_record(), count: 3)
        XCTAssertEqual(disk_model_log_records(disk.model, 0, &records, 3), 3)
        XCTAssertEqual(records.map(\.kind), [UInt32(DISK_LOG_WRITE), UInt32(DISK_LOG_FLUSH), UInt32(DISK_LOG_FLUSH)])
        XCTAssertEqual(records.map(\.flags), [0, UInt32(DISK_LOG_REORDERED), 0])
        XCTAssertEqual(disk.close(), 0)
    }
}
