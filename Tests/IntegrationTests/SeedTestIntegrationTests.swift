import Foundation
import XCTest
import RegressCore
import RegressRunner

/// tests.d/nocow-reflink, the reproducer regress was built around, passes on btrfs on this kernel
/// (which has the fix) and leaves nothing behind.
final class SeedTestIntegrationTests: IntegrationTestCase {
    func testNocowReflinkPassesOnBtrfs() throws {
        let test = try TestLibrary(directory: Self.packageRoot + "/tests.d").load("nocow-reflink")
        let results = run(test, on: [.btrfs])
        guard let result = results.first else { return }
        XCTAssertEqual(result.verdict, .pass, Self.explain(result))
        XCTAssertEqual(result.stepFailures.count, 0, "\(result.stepFailures)")
        // Both `verify file1` steps ran (before and after the power cut), on the whole 64 MiB + 8 KiB file.
        XCTAssertEqual(result.verifications.map(\.file), ["file1", "file1"])
        XCTAssertTrue(result.verifications.allSatisfy(\.passed), "\(result.verifications)")
        XCTAssertEqual(result.verifications.first?.expectedSize, 8192 + (64 << 20))
        XCTAssertEqual(result.verifications.first?.foundSize, 8192 + (64 << 20))
        XCTAssertNil(result.fsckOutput, "btrfs check must find the filesystem clean")
        // The padding step is the point of the test: it must really have run into ENOSPC.
        XCTAssertTrue(result.log.contains { $0.contains("padding: pwrite") && $0.contains("-> ENOSPC") },
                      "the padding never filled the filesystem:\n" + result.log.joined(separator: "\n"))
        XCTAssertEqual(Self.loopDevices(backedUnder: workDirectory), [])
        XCTAssertEqual(Self.mountPoints(under: workDirectory), [])
    }
}
