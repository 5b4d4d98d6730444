import Foundation
import XCTest
import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// The emulated disk's write log under a real loop device and a real mkfs (writes, flushes, discards as
/// the kernel sends them): replaying every epoch gives the disk's final image byte for byte, and an
/// earlier epoch gives a different, earlier state.
final class WriteLogIntegrationTests: IntegrationTestCase {
    func testReplayingTheLogOfAnMkfsGivesTheFinalImage() throws {
        let image = directory + "/disk.img"
        XCTAssertTrue(FileManager.default.createFile(atPath: image, contents: nil))
        XCTAssertEqual(truncate(image, 64 << 20), 0)
        let disk = try EmulatedDisk(imagePath: image, mountPoint: directory + "/fuse", writeLog: directory + "/write.log",
                                    writeLogMemory: 1 << 20) // mkfs writes more than this: the log spills to its file
        defer { try? disk.stop() }
        let loop = try LoopDevice.attach(to: disk.filePath, directIO: true)
        let mkfs = try Subprocess.run(["mkfs.ext4", "-F", "-q", "-b", "4096", loop.path])
        // mkfs zeroes with write-zeroes, and writes little: add 3 MiB of data, so the log spills to its file.
        let device = open(loop.path, O_RDWR)
        let data = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 12) }
        XCTAssertEqual(pwrite(device, data, data.count, 40 << 20), data.count)
        XCTAssertEqual(fsync(device), 0)
        close(device)
        loop.detach()
        XCTAssertTrue(mkfs.succeeded, mkfs.output)

        let records = disk.writeLogRecords
        let flushes = UInt64(records.filter { $0.kind == .flush }.count)
        XCTAssertGreaterThan(flushes, 0, "mkfs flushes")
        XCTAssertTrue(records.contains { $0.kind == .zeroing }, "mkfs discards the device: zeroing records")
        XCTAssertGreaterThan(records.filter { $0.kind == .write }.map(\.range.length).reduce(0, +), 1 << 20)

        let final = directory + "/final.img", first = directory + "/epoch0.img"
        try disk.materialiseCrashState(at: final, epoch: flushes, writes: nil)
        try disk.materialiseCrashState(at: first, epoch: 0, writes: [])
        let imageBytes = try Data(contentsOf: URL(fileURLWithPath: image))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: final)), imageBytes, "all epochs replayed == the disk")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first)), Data(count: 64 << 20), "nothing durable yet")
        XCTAssertThrowsError(try disk.materialiseCrashState(at: directory + "/past.img", epoch: flushes + 1, writes: nil))
    }
}
