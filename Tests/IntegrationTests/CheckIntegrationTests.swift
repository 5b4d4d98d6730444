import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// The checks that run after every test, even when its own steps passed: the kernel log and fsck.
final class CheckIntegrationTests: IntegrationTestCase {
    /// A WARNING in the kernel log during a test makes it `not ok`, with the line saved. The line is written
    /// to the real /dev/kmsg (root may log there) while the test runs: the same path a kernel WARN takes.
    func testAKernelWarningDuringTheTestFailsIt() throws {
        let marker = "regress-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let test = try define("kernel-warning", """
        summary: the steps pass, but the kernel complained meanwhile
        filesystems: ext4
        size: 64m
        steps:
        a: pwrite 0 4k
        verify
        """)
        let afterStep: (Int, String) -> Void = { index, _ in
            guard index == 0, let kmsg = try? FileDescriptor.open("/dev/kmsg", .writeOnly) else { return }
            defer { kmsg.close() }
            let line = "WARNING: CPU: 0 PID: 1 at fs/ext4/\(marker).c:1 \(marker)\n"
            _ = line.utf8CString.withUnsafeBytes { try? kmsg.write(UnsafeRawBufferPointer(rebasing: $0.dropLast()), at: 0) }
        }
        guard let result = run(test, on: [.ext4], afterStep: afterStep).first else { return }
        XCTAssertEqual(result.verdict, .fail, Self.explain(result))
        XCTAssertTrue(result.stepFailures.isEmpty && result.verifications.allSatisfy(\.passed), "the steps themselves passed")
        XCTAssertEqual(result.kernelWarnings.count, 1, "\(result.kernelWarnings)")
        XCTAssertTrue(result.kernelWarnings.first?.contains(marker) ?? false)
        XCTAssertTrue(result.reasons.contains { $0.hasPrefix("kernel log: 1 warning line(s), first: ") && $0.contains(marker) }, "\(result.reasons)")
    }

    /// The read-only fsck finds a corrupted filesystem and says so; it changes nothing.
    func testReadOnlyFsckFindsCorruption() throws {
        let image = directory + "/corrupt.img"
        XCTAssertTrue(FileManager.default.createFile(atPath: image, contents: nil))
        XCTAssertEqual(truncate(image, 64 << 20), 0)
        let loop = try LoopDevice.attach(to: image)
        defer { loop.detach() }
        let mkfs = try Subprocess.run(["mkfs.ext4", "-F", "-q", "-b", "4096", "-I", "256", loop.path])
        XCTAssertTrue(mkfs.succeeded, mkfs.output)
        let filesystem = ScratchFilesystem(kind: .ext4, device: loop.path, mountPoint: directory + "/unused", mountOptions: "")
        XCTAssertTrue(filesystem.check().clean, filesystem.check().output)
        loop.flushBuffers()

        // Zero the root directory's inode (inode 2) in group 0's inode table, found from the group descriptor
        // in block 1 (bg_inode_table_lo at byte 8).
        let fd = try FileDescriptor.open(image, .readWrite)
        defer { fd.close() }
        var descriptor = [UInt8](repeating: 0, count: 64)
        _ = try descriptor.withUnsafeMutableBytes { try fd.read(into: $0, at: 4096) }
        let inodeTable = UInt64(descriptor[8]) | UInt64(descriptor[9]) << 8 | UInt64(descriptor[10]) << 16 | UInt64(descriptor[11]) << 24
        let zeros = [UInt8](repeating: 0, count: 256)
        _ = try zeros.withUnsafeBytes { try fd.write($0, at: inodeTable * 4096 + 256) }
        try fd.fsync()
        loop.flushBuffers()
        let before = try Data(contentsOf: URL(fileURLWithPath: image))

        let (clean, output) = filesystem.check()
        XCTAssertFalse(clean, output)
        XCTAssertTrue(output.hasPrefix("$ e2fsck -fn \(loop.path)\n"), output)
        XCTAssertTrue(output.lowercased().contains("root inode"), output)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: image)), before, "a read-only check must not write")
    }

    /// --keep-failed: a failed test's image (after a power cut, the durable one) is kept outside the work
    /// area, where clean-up leaves it, and holds what the report says was found.
    func testAFailedTestKeepsItsImage() throws {
        let test = try define("lying", """
        summary: fsynced data lost to a lying cache
        filesystems: ext4
        size: 64m
        steps:
        a: pwrite -S 0xab 0 64k
        sync
        lying-cache on
        a: pwrite -S 0xcd 0 64k
        a: fsync
        power-cut
        verify a
        """)
        guard let result = run(test, on: [.ext4], options: options { $0.keepFailedImages = true }).first else { return }
        XCTAssertEqual(result.verdict, .fail, Self.explain(result))
        let kept = try XCTUnwrap(result.reasons.last.flatMap { $0.hasPrefix("image kept at ") ? String($0.dropFirst(14)) : nil },
                                 "\(result.reasons)")
        XCTAssertTrue(kept.hasPrefix(workDirectory + "/kept/"), kept)
        XCTAssertEqual(Cleanup(workDirectory: workDirectory).abandonedDirectories(), [], "clean-up must not take it")
        let probe = try Blkid.probe(kept)
        XCTAssertEqual(probe?.type, "ext4")
    }
}
