import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// Power cuts on the emulated disk: what was made durable must survive, what was not may go either way,
/// and a disk that lies about its flushes is caught by the very check the tests rely on.
final class PowerCutIntegrationTests: IntegrationTestCase {
    func testFsyncedDataSurvives() throws {
        let test = try define("fsynced-survives", """
        summary: data made durable by fsync, sync and pwrite -W survives a power cut
        filesystems: ext4 xfs btrfs
        size: 300m
        steps:
        f: pwrite -S 0xab 0 1m
        f: fsync
        g: pwrite -S 0x5c 0 64k
        sync
        h: pwrite -S 0x3c -W 0 256k
        power-cut
        verify f g h
        """)
        for result in run(test, on: [.ext4, .xfs, .btrfs]) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertEqual(result.verifications.map(\.file), ["f", "g", "h"], result.id)
            XCTAssertEqual(result.verifications.map(\.foundSize), [1 << 20, 64 << 10, 256 << 10], result.id)
            XCTAssertTrue(result.verifications.allSatisfy(\.passed), "\(result.id): \(result.verifications)")
        }
    }

    func testDataNeverSyncedMayBeOldOrNew() throws {
        let test = try define("unsynced-either", """
        summary: writes after the last fsync may or may not survive a power cut, block by block
        filesystems: ext4 xfs btrfs
        size: 300m
        steps:
        f: pwrite -S 0xab 0 1m
        f: fsync
        f: pwrite -S 0xcd 256k 512k
        f: pwrite -S 0xcd 1m 64k
        g: pwrite -S 0xef 0 64k
        power-cut
        verify f g
        f: pwrite -S 0x11 0 4k
        f: fsync
        verify f
        """)
        for result in run(test, on: [.ext4, .xfs, .btrfs]) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertEqual(result.stepFailures.count, 0, "\(result.id): \(result.stepFailures)")
            XCTAssertTrue(result.verifications.allSatisfy(\.passed), "\(result.id): \(result.verifications)")
            // f was made durable at 1 MiB and may have grown to 1 MiB + 64 KiB.
            XCTAssertEqual(result.verifications.first?.allowedSizes, (1 << 20)...((1 << 20) + (64 << 10)), result.id)
        }
    }

    func testALyingCacheIsCaught() throws {
        // Flushes are acknowledged and dropped: the fsynced 0xcd never reaches the durable image, and after
        // the cut the file still holds the 0xab made durable before the cache started lying.
        let test = try define("lying-cache", """
        summary: a disk that acknowledges flushes without honouring them loses fsynced data
        filesystems: ext4 xfs
        size: 300m
        steps:
        f: pwrite -S 0xab 0 1m
        f: fsync
        lying-cache on
        f: pwrite -S 0xcd 64k 64k
        f: fsync
        power-cut
        verify f
        """)
        for result in run(test, on: [.ext4, .xfs]) {
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            XCTAssertEqual(result.stepFailures.count, 0, "\(result.id): every step itself succeeded: \(result.stepFailures)")
            XCTAssertEqual(result.verifications.count, 1, result.id)
            guard let verification = result.verifications.first else { continue }
            XCTAssertEqual(verification.foundSize, 1 << 20, result.id)
            XCTAssertEqual(verification.mismatches, [Mismatch(offset: 64 << 10, length: 64 << 10, expected: 0xcd, found: .byte(0xab))],
                           Self.explain(result))
        }
    }
}
