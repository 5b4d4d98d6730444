import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// The oracle on a real filesystem: a file changed behind the model's back is caught, to the byte.
/// Without this test, a verify that always passed would look exactly like a healthy kernel.
final class OracleIntegrationTests: IntegrationTestCase {
    static let text = """
    summary: a byte range changed behind the model's back must be reported exactly
    filesystems: ext4 xfs
    size: 300m
    steps:
    f: pwrite -S 0xab 0 1m
    f: fsync
    verify f
    """

    /// After `f: fsync` (step 1), overwrite 100 bytes at 123456 with 0x5a, as another process could.
    static let tamperedRange = ByteRange(offset: 123456, length: 100)

    func testAChangedRangeIsReportedExactly() throws {
        let test = try define("tampered", Self.text)
        let range = Self.tamperedRange
        let afterStep: (Int, String) -> Void = { index, mountPoint in
            guard index == 1 else { return }
            let fd = open(mountPoint + "/f", O_WRONLY)
            guard fd >= 0 else { return }
            let bytes = [UInt8](repeating: 0x5a, count: Int(range.length))
            _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(range.offset)) }
            fsync(fd)
            close(fd)
        }
        for result in run(test, on: [.ext4, .xfs], afterStep: afterStep) {
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            XCTAssertEqual(result.stepFailures.count, 0, "\(result.id): \(result.stepFailures)")
            XCTAssertEqual(result.verifications.count, 1, result.id)
            guard let verification = result.verifications.first else { continue }
            XCTAssertEqual(verification.file, "f")
            XCTAssertEqual(verification.foundSize, 1 << 20, "the size is right: only the bytes changed")
            XCTAssertEqual(verification.mismatches,
                           [Mismatch(offset: 123456, length: 100, expected: 0xab, found: .byte(0x5a))], result.id)
            XCTAssertTrue(result.reasons.contains("verify f: bytes 123456..123555 (123456+100): expected 0xab, found 0x5a"),
                          "\(result.id): \(result.reasons)")
        }
    }

    func testTheSameTestUntouchedPasses() throws {
        // The control: without the change, the same steps pass, so the failure above is the change's doing.
        let test = try define("untouched", Self.text)
        for result in run(test, on: [.ext4, .xfs]) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertEqual(result.verifications.map(\.passed), [true], result.id)
        }
    }
}
