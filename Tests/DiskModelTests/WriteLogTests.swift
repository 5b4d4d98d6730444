import CDiskModel
import Glibc
import XCTest

/// The write log (issue 11.1): every accepted write and flush in order, its data readable back even once it
/// spilled out of the memory budget, and crash states materialised from it.
final class WriteLogTests: XCTestCase {
    private let block = Int(DISK_MODEL_BLOCK)

    private func records(_ disk: ScratchImage) -> [disk_log_record] {
        let count = disk_model_log_count(disk.model)
        var out = [disk_log_record](repeating: disk_log_record(), count: Int(count))
        XCTAssertEqual(disk_model_log_records(disk.model, 0, &out, count), count)
        return out
    }

    private func data(_ disk: ScratchImage, _ record: disk_log_record) -> [UInt8] {
        var buffer = [UInt8](repeating: 0xEE, count: Int(record.length))
        XCTAssertEqual(disk_model_log_data(disk.model, [record], &buffer), 0)
        return buffer
    }

    private func enableLog(_ disk: ScratchImage, budget: UInt64 = 0) {
        XCTAssertEqual(disk_model_enable_log(disk.model, disk.directory + "/log", budget), 0)
    }

    func testTheLogHoldsWritesAndFlushesInOrder() throws {
        let disk = try ScratchImage()
        XCTAssertEqual(disk_model_log_count(disk.model), 0, "no log until enabled")
        enableLog(disk)
        XCTAssertEqual(disk_model_enable_log(disk.model, disk.directory + "/log2", 0), -EBUSY)
        disk.write(0x61, at: 100, count: 10)
        disk.flush()
        disk.zero(at: 0, count: block)
        disk_model_set_lying_cache(disk.model, 1)
        disk.flush()
        disk_model_drop_writes(disk.model, 0, 0)
        disk.write(0x62, at: 2 * block, count: 3)
        disk_model_clear_faults(disk.model)
        disk_model_fail_writes(disk.model, EIO, 0, 0, 0)
        XCTAssertEqual(disk.write(0x63, at: 0, count: 1), -EIO)
        disk_model_clear_faults(disk.model)
        disk_model_power_cut(disk.model)
        disk.write(0x64, at: 0, count: 1)

        let log = records(disk)
        XCTAssertEqual(log.map(\.kind), [UInt32(DISK_LOG_WRITE), UInt32(DISK_LOG_FLUSH), UInt32(DISK_LOG_ZERO),
                                         UInt32(DISK_LOG_FLUSH), UInt32(DISK_LOG_WRITE), UInt32(DISK_LOG_WRITE)],
                       "a failed write is not accepted, so not logged")
        XCTAssertEqual(log.map(\.offset), [100, 0, 0, 0, UInt64(2 * block), 0])
        XCTAssertEqual(log.map(\.length), [10, 0, UInt64(block), 0, 3, 1])
        XCTAssertEqual(log.map(\.flags), [0, 0, 0, UInt32(DISK_LOG_IGNORED), UInt32(DISK_LOG_DROPPED),
                                          UInt32(DISK_LOG_AFTER_CUT)])
        XCTAssertEqual(disk_model_log_flushes(disk.model), 2)
        XCTAssertEqual(data(disk, log[0]), [UInt8](repeating: 0x61, count: 10))
        XCTAssertEqual(data(disk, log[2]), [UInt8](repeating: 0, count: block))
        XCTAssertEqual(data(disk, log[4]), [0x62, 0x62, 0x62])
        XCTAssertEqual(data(disk, log[5]), [0x64])
    }

    func testDataBeyondTheMemoryBudgetSpillsToTheLogFileAndReadsBack() throws {
        let disk = try ScratchImage()
        enableLog(disk, budget: 3 * UInt64(block) + 7) // an odd budget: writes straddle the spill point
        var written: [[UInt8]] = []
        var rng = SeededGenerator(seed: 3)
        for index in 0..<40 {
            let bytes = (0..<Int.random(in: 1...2 * block, using: &rng)).map { UInt8(truncatingIfNeeded: $0 &+ index) }
            disk.write(bytes, at: index * 1000)
            written.append(bytes)
        }
        let log = records(disk)
        XCTAssertEqual(log.count, written.count)
        for (record, bytes) in zip(log, written) {
            XCTAssertEqual(data(disk, record), bytes, "the write at \(record.offset)")
        }
        var logFile = stat()
        XCTAssertEqual(stat(disk.directory + "/log", &logFile), 0)
        let total = written.map(\.count).reduce(0, +)
        XCTAssertGreaterThan(Int(logFile.st_size), total - (3 * block + 7) - 1, "all but the budget went to the file")
    }

    func testReplayingEveryEpochReproducesTheFinalImage() throws {
        let disk = try ScratchImage()
        enableLog(disk, budget: 64 * 1024)
        var rng = SeededGenerator(seed: 11)
        for step in 0..<400 {
            let offset = Int.random(in: 0..<disk.size - 70000, using: &rng)
            let count = Int.random(in: 1...(step % 5 == 0 ? 65536 : 9000), using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6: disk.write(UInt8.random(in: 1...255, using: &rng), at: offset, count: count)
            case 6: disk.zero(at: offset, count: count)
            default: disk.flush()
            }
        }
        let final = disk.read(at: 0, count: disk.size)
        let flushes = disk_model_log_flushes(disk.model)
        let replayed = disk.directory + "/replayed"
        XCTAssertEqual(disk_model_log_replay(disk.model, replayed, flushes, nil, UInt64.max), 0)
        XCTAssertNil(firstDifference(disk.imageBytes(replayed), final), "replay of all epochs == the disk")
        XCTAssertEqual(disk_model_log_replay(disk.model, replayed, 0, nil, 0), -EEXIST, "never overwrites")
    }

    func testACrashStateIsTheDurablePrefixPlusTheChosenWritesOfTheNextEpoch() throws {
        let disk = try ScratchImage()
        enableLog(disk)
        disk.write(0x61, at: 0, count: 10)            // epoch 0
        disk.flush()
        disk.write(0x62, at: 0, count: 5)             // epoch 1, write 0
        disk.write(0x63, at: block, count: 5)         // epoch 1, write 1
        disk.write(0x64, at: 2, count: 1)             // epoch 1, write 2: over write 0
        disk.flush()
        disk.write(0x65, at: 3 * block, count: 1)     // epoch 2

        let states = (0..<4).map { disk.directory + "/state\($0)" }
        XCTAssertEqual(disk_model_log_replay(disk.model, states[0], 0, nil, 0), 0)
        XCTAssertEqual(disk_model_log_replay(disk.model, states[1], 1, [0, 2], 2), 0)
        XCTAssertEqual(disk_model_log_replay(disk.model, states[2], 1, [1], 1), 0)
        XCTAssertEqual(disk_model_log_replay(disk.model, states[3], 2, nil, 0), 0)

        XCTAssertEqual(disk.imageBytes(states[0]).filter { $0 != 0 }.count, 0, "epoch 0, nothing chosen: zeros")
        let chosen = disk.imageBytes(states[1])
        XCTAssertEqual(Array(chosen[0..<10]), [0x62, 0x62, 0x64, 0x62, 0x62, 0x61, 0x61, 0x61, 0x61, 0x61],
                       "epoch 0 durable, then writes 0 and 2 of epoch 1 in log order")
        XCTAssertEqual(chosen[block], 0, "write 1 not chosen")
        let other = disk.imageBytes(states[2])
        XCTAssertEqual(Array(other[0..<10]), [UInt8](repeating: 0x61, count: 10))
        XCTAssertEqual(other[block], 0x63)
        let flushed = disk.imageBytes(states[3])
        XCTAssertEqual(Array(flushed[0..<3]), [0x62, 0x62, 0x64])
        XCTAssertEqual(flushed[block], 0x63)
        XCTAssertEqual(flushed[3 * block], 0, "epoch 2 not chosen")
    }

    func testReplayRefusesAnEpochPastTheLogAndBadSubsets() throws {
        let disk = try ScratchImage()
        enableLog(disk)
        disk.write(0x61, at: 0, count: 10)
        disk.flush()
        let path = disk.directory + "/state"
        XCTAssertEqual(disk_model_log_replay(disk.model, path, 2, nil, 0), -EINVAL, "only 1 flush")
        XCTAssertEqual(disk_model_log_replay(disk.model, path, 0, [0, 0], 2), -EINVAL, "not ascending")
        XCTAssertEqual(disk_model_log_replay(disk.model, path, 0, [1], 1), -EINVAL, "epoch 0 has one write")
        XCTAssertEqual(access(path, F_OK), -1, "a refused replay leaves no file")
    }
}
