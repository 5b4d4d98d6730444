import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// `verify` of a file as large as the filesystem allows, nearly all hole: the oracle must read only the
/// data (SEEK_DATA/SEEK_HOLE) and check the holes against the model unread. Reading 8 EiB of zeros would
/// never end, so each test runs through the regress binary under a `timeout:`; a verify that read the holes
/// is killed there and the run fails. The data at both ends must still be found, to the byte, and a change
/// of it must still be caught (the same test with a wrong expectation fails).
final class SparseVerifyIntegrationTests: IntegrationTestCase {
    /// The largest size Linux allows (MAX_LFS_FILESIZE); btrfs and xfs take it.
    static let largest = "0x7fffffffffffffff"

    func testAFileOfTheLargestSizeIsVerifiedOnBtrfsAndXfs() throws {
        _ = try define("largest-sparse", """
        summary: verify of a sparse file of 2^63-1 bytes with data at both ends reads only the data
        filesystems: btrfs xfs
        timeout: 60
        steps:
        f: pwrite -S 0x5a 1m 64k
        f: truncate \(Self.largest)
        f: pwrite -S 0xa5 0x7ffffffffff00000 4k
        verify f
        remount
        verify f
        """)
        let results = try runAll()
        XCTAssertEqual(results.map { $0["verdict"] as? String }, ["pass", "pass"], "\(results)")
    }

    func testExt4RefusesTheLargestSizeAndVerifiesItsOwnLargest() throws {
        // ext4 with 4 KiB blocks ends files at 16 TiB - 4 KiB (s_maxbytes): one block more is EFBIG.
        _ = try define("ext4-largest-sparse", """
        summary: ext4 refuses a 2^63-1 byte file; verify of its own largest sparse file reads only the data
        filesystems: ext4
        timeout: 60
        steps:
        f: truncate \(Self.largest) expect EFBIG
        f: pwrite -S 0x5a 1m 64k
        f: truncate 0xffffffff000
        f: pwrite -S 0xa5 0xfffffffe000 4k
        verify f
        remount
        verify f
        """)
        let results = try runAll()
        XCTAssertEqual(results.map { $0["verdict"] as? String }, ["pass"], "\(results)")
    }

    func testAChangedByteAtTheFarEndIsFound() throws {
        // The control: 100 bytes of the last data block are changed behind the model's back. A verify that
        // stopped at the first hole, or skipped the data past it, would pass this.
        let test = try define("largest-sparse-changed", """
        summary: the data at the end of a 2^63-1 byte file is checked
        filesystems: xfs
        steps:
        f: truncate \(Self.largest)
        f: pwrite -S 0xa5 0x7ffffffffff00000 4k
        f: fsync
        verify f
        """)
        let changed = ByteRange(offset: 0x7fff_ffff_fff0_0010, length: 100)
        let afterStep: (Int, String) -> Void = { index, mountPoint in
            guard index == 2 else { return }
            let fd = open(mountPoint + "/f", O_WRONLY)
            guard fd >= 0 else { return }
            let bytes = [UInt8](repeating: 0x5a, count: Int(changed.length))
            _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(changed.offset)) }
            close(fd)
        }
        guard let result = run(test, on: [.xfs], afterStep: afterStep).first else { return }
        XCTAssertEqual(result.verdict, .fail, Self.explain(result))
        XCTAssertEqual(result.verifications.first?.mismatches,
                       [Mismatch(offset: changed.offset, length: changed.length, expected: 0xa5, found: .byte(0x5a))], Self.explain(result))
    }

    /// Runs every test of the tests directory with the regress binary; the JSON report's results.
    private func runAll() throws -> [[String: Any]] {
        let report = directory + "/report.json"
        let outcome = try regress(["run", "-q", "--tests-dir", testsDirectory, "--workdir", workDirectory,
                                   "--results", directory + "/results", "--format", "json", "--output", report])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let results = json?["results"] as? [[String: Any]] ?? []
        XCTAssertEqual(outcome.status, results.allSatisfy { $0["verdict"] as? String == "pass" } ? 0 : 1, outcome.standardError)
        return results
    }
}
