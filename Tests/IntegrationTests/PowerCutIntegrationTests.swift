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

    /// After the cut nothing reads the files behind the test's back: a write lands on what recovery left,
    /// unread, and the model keeps the old-or-new uncertainty through it until the test's own verify. A
    /// step that makes the files durable must know which version the disk kept: regress reads them first
    /// and the step log says so.
    func testTheStepsAfterACutRunOnUnreadFiles() throws {
        let test = try define("unread-after-cut", """
        summary: writes after a power cut land on files nobody read, then verify, then a sync that must read first
        filesystems: ext4 xfs btrfs
        size: 300m
        steps:
        f: pwrite -S 0xab 0 256k
        f: fsync
        f: pwrite -S 0xcd 0 256k
        g: pwrite -S 0xef 0 64k
        power-cut
        f: pwrite -S 0x11 64k 4k
        f: truncate 128k
        verify f
        g: pwrite -S 0x22 0 4k
        sync
        power-cut
        verify
        """)
        for result in run(test, on: [.ext4, .xfs, .btrfs]) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            let reads = result.log.filter { $0.contains("first:") }
            XCTAssertEqual(reads.count, 1, "\(result.id): only the sync needs to know what the cut left of g: \(reads)")
            XCTAssertTrue(reads.first?.contains("reading g first") ?? false, "\(result.id): \(reads)")
            XCTAssertEqual(result.verifications.first?.file, "f", result.id)
            XCTAssertEqual(result.verifications.first?.foundSize, 128 << 10, result.id)
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
