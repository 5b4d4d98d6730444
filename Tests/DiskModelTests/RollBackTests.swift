import CDiskModel
import Glibc
import XCTest

/// `disk_model_roll_back`: a power cut and a restart without closing, as a crash-state search checks one
/// state after another on one disk. What reads see afterwards, what the image holds, and that the disk
/// keeps working (writes, flushes and another roll-back) exactly as a fresh one over the durable image.
final class RollBackTests: XCTestCase {
    private let block = Int(DISK_MODEL_BLOCK)

    func testARollBackRestoresTheDurableContentAndKeepsServing() throws {
        let disk = try ScratchImage(fill: 0x11)
        disk.write(0x22, at: 3 * block + 100, count: 2 * block)
        disk.flush()
        let durable = disk.read(at: 0, count: disk.size)
        disk_model_set_lying_cache(disk.model, 1)
        disk.write(0x33, at: 3 * block, count: block)        // over flushed data
        disk.zero(at: 10 * block + 7, count: 3 * block)        // zeroing, sub-block ends
        disk.write(0x44, at: disk.size - 100, count: 100)       // the last block
        disk.flush()                                            // ignored: the cache lies
        XCTAssertEqual(disk_model_roll_back(disk.model), 0)
        XCTAssertNil(firstDifference(disk.read(at: 0, count: disk.size), durable), "reads see the durable state again")
        XCTAssertNil(firstDifference(disk.imageBytes(), durable), "and so does the image")

        // It goes on as a disk over the durable image: a second state, rolled back too.
        disk.write(0x55, at: 0, count: 5 * block)
        XCTAssertEqual(disk_model_roll_back(disk.model), 0)
        XCTAssertNil(firstDifference(disk.read(at: 0, count: disk.size), durable))
        // An honest flush still makes writes durable, and a power cut at close keeps them.
        disk_model_set_lying_cache(disk.model, 0)
        disk.write(0x66, at: 20 * block, count: block)
        disk.flush()
        disk_model_power_cut(disk.model)
        disk.write(0x77, at: 21 * block, count: block)
        XCTAssertEqual(disk.close(), 0)
        var expected = durable
        expected.replaceSubrange(20 * block..<21 * block, with: [UInt8](repeating: 0x66, count: block))
        XCTAssertNil(firstDifference(disk.imageBytes(), expected))
    }

    /// A sparse image's blocks written and rolled back become holes again, and read as zeros.
    func testRolledBackZeroBlocksReadAsZerosAndWritesOverThemRollBackToo() throws {
        let disk = try ScratchImage()
        for round in 0..<3 {
            disk.write(UInt8(0x40 + round), at: block / 2, count: 4 * block)
            XCTAssertEqual(disk_model_roll_back(disk.model), 0)
            XCTAssertEqual(disk.read(at: 0, count: 6 * block), [UInt8](repeating: 0, count: 6 * block), "round \(round)")
        }
        XCTAssertEqual(disk.imageBytes().filter { $0 != 0 }.count, 0)
    }

    /// A power cut before the roll-back is undone by it: the restarted disk makes flushed writes durable.
    func testARollBackAfterAPowerCutTurnsThePowerBackOn() throws {
        let disk = try ScratchImage()
        disk_model_power_cut(disk.model)
        disk.write(0x12, at: 0, count: block)
        XCTAssertEqual(disk_model_roll_back(disk.model), 0)
        disk.write(0x34, at: block, count: block)
        disk.flush()
        disk_model_power_cut(disk.model)
        XCTAssertEqual(disk.close(), 0)
        let image = disk.imageBytes()
        XCTAssertEqual(Array(image[0..<2 * block]), [UInt8](repeating: 0, count: block) + [UInt8](repeating: 0x34, count: block))
    }
}
