import Foundation
import XCTest
import RegressCore
import RegressRunner

/// A step's errno against its expectation, with errnos the kernel really returns.
final class ErrnoIntegrationTests: IntegrationTestCase {
    func testAnUnexpectedENOSPCFailsAtItsLine() throws {
        let test = try define("overfill", """
        summary: writing twice the filesystem's size without 'allow ENOSPC'
        filesystems: ext4
        size: 64m
        steps:
        f: pwrite 0 128m
        """)
        guard let result = run(test, on: [.ext4]).first else { return }
        XCTAssertEqual(result.verdict, .fail, Self.explain(result))
        XCTAssertEqual(result.stepFailures.count, 1, "\(result.stepFailures)")
        guard let failure = result.stepFailures.first else { return }
        XCTAssertEqual(failure.got, .ENOSPC)
        XCTAssertEqual(failure.expected, "success")
        XCTAssertEqual(failure.location, SourceLocation(file: testsDirectory + "/overfill", line: 5, column: 1))
        XCTAssertEqual(failure.step, "pwrite f")
    }

    func testAnAllowedENOSPCPassesAndTheModelKeepsWhatWasWritten() throws {
        // The model must learn exactly the bytes the kernel accepted before ENOSPC, or verify fails.
        let test = try define("fill", """
        summary: filling the filesystem with 'allow ENOSPC', then checking what was written
        filesystems: ext4
        size: 64m
        steps:
        f: pwrite -b 1m 0 128m allow ENOSPC
        f: fsync
        verify f
        remount
        verify f
        """)
        guard let result = run(test, on: [.ext4]).first else { return }
        XCTAssertEqual(result.verdict, .pass, Self.explain(result))
        XCTAssertEqual(result.verifications.count, 2)
        let size = result.verifications.first?.foundSize ?? 0
        XCTAssertTrue(size > 16 << 20 && size < 64 << 20, "a 64 MiB ext4 holds some, not all, of 128 MiB: \(size)")
    }

    func testARequiredErrnoThatDoesNotHappenFails() throws {
        let test = try define("no-enospc", """
        summary: a small write cannot run out of space
        filesystems: ext4
        size: 64m
        steps:
        f: pwrite 0 4k expect ENOSPC
        verify f
        """)
        guard let result = run(test, on: [.ext4]).first else { return }
        XCTAssertEqual(result.verdict, .fail, Self.explain(result))
        XCTAssertEqual(result.stepFailures.count, 1, "\(result.stepFailures)")
        guard let failure = result.stepFailures.first else { return }
        XCTAssertNil(failure.got, "the write succeeded")
        XCTAssertEqual(failure.expected, "ENOSPC")
        XCTAssertEqual(failure.location, SourceLocation(file: testsDirectory + "/no-enospc", line: 5, column: 1))
        XCTAssertEqual(failure.description, "pwrite f: success, expected ENOSPC")
        // The write happened all the same, and the model knows it.
        XCTAssertEqual(result.verifications.map(\.passed), [true])
    }

    /// chattr +i through FS_IOC_SETFLAGS really makes the file immutable (the open for a write gets EPERM),
    /// -i undoes it; sync_range runs on every filesystem. The close is the end of the xfs_io invocation
    /// before chattr(1) runs: through a descriptor opened before +i, btrfs and xfs still take writes.
    func testChattrAndSyncRangeReachTheKernel() throws {
        let test = try define("chattr", """
        summary: chattr and sync_range reach the kernel
        size: 512m
        steps:
        f: pwrite -S 0xaa 0 64k
        f: sync_range -w 0 64k
        f: sync_range -a 0 64k
        f: close
        f: chattr +i
        f: pwrite 0 4k expect EPERM
        f: chattr -i +A
        f: pwrite -S 0xbb 0 4k
        verify f
        """)
        for result in run(test, on: [.btrfs, .xfs, .ext4]) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertEqual(result.verifications.map(\.passed), [true], result.id)
        }
    }
}
