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
