import CDiskModel
import Glibc
import XCTest

/// A power cut ends a disk's life, not its write log's: the disk that comes back over the durable image
/// continues the log after a restart record, and every record's data stays readable.
final class WriteLogAcrossPowerCutTests: XCTestCase {
    private let block = Int(DISK_MODEL_BLOCK)

    private func records(_ disk: ScratchImage) -> [disk_log_record] {
        let count = disk_model_log_count(disk.model)
        var out = [disk_log_record](repeating: disk_log_record(), count: Int(count))
        XCTAssertEqual(disk_model_log_records(disk.model, 0, &out, count), count)
        return out
    }

    func testTheDiskAfterAPowerCutContinuesTheLog() throws {
        let disk = try ScratchImage()
        XCTAssertEqual(disk_model_enable_log(disk.model, disk.directory + "/log", 0), 0)
        disk.write(0x61, at: 0, count: block)
        disk.flush()
        disk.write(0x62, at: block, count: block)    // in flight at the cut: lost
        disk_model_power_cut(disk.model)
        disk.write(0x63, at: 0, count: 10)            // the unmount's, after the cut
        let log = try XCTUnwrap(disk_model_take_log(disk.model))
        XCTAssertEqual(disk_model_log_count(disk.model), 0, "the first disk logs no more")
        XCTAssertEqual(disk.close(), 0)

        try disk.reopen()
        XCTAssertEqual(disk.read(at: 0, count: 2 * block), [UInt8](repeating: 0x61, count: block) + [UInt8](repeating: 0, count: block))
        XCTAssertEqual(disk_model_continue_log(disk.model, log), 0)
        disk.write(0x64, at: 2 * block, count: 3)
        disk.flush()

        let all = records(disk)
        XCTAssertEqual(all.map(\.kind), [UInt32(DISK_LOG_WRITE), UInt32(DISK_LOG_FLUSH), UInt32(DISK_LOG_WRITE), UInt32(DISK_LOG_WRITE),
                                         UInt32(DISK_LOG_RESTART), UInt32(DISK_LOG_WRITE), UInt32(DISK_LOG_FLUSH)])
        XCTAssertEqual(all.map(\.flags), [0, 0, 0, UInt32(DISK_LOG_AFTER_CUT), 0, 0, 0])
        var first = [UInt8](repeating: 0, count: block), last = [UInt8](repeating: 0, count: 3)
        XCTAssertEqual(disk_model_log_data(disk.model, [all[0]], &first), 0)
        XCTAssertEqual(disk_model_log_data(disk.model, [all[5]], &last), 0)
        XCTAssertEqual(first, [UInt8](repeating: 0x61, count: block))
        XCTAssertEqual(last, [0x64, 0x64, 0x64])
        XCTAssertEqual(disk_model_log_flushes(disk.model), 2, "a restart is no flush")
    }

    func testADiskThatLogsAlreadyRefusesAnotherLog() throws {
        let first = try ScratchImage(), second = try ScratchImage()
        XCTAssertEqual(disk_model_enable_log(first.model, first.directory + "/log", 0), 0)
        XCTAssertEqual(disk_model_enable_log(second.model, second.directory + "/log", 0), 0)
        let log = try XCTUnwrap(disk_model_take_log(first.model))
        XCTAssertEqual(disk_model_continue_log(second.model, log), -EBUSY)
        disk_model_free_log(log)
        XCTAssertNil(disk_model_take_log(first.model), "taken once")
    }
}
