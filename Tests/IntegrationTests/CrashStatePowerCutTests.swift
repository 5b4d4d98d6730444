import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// A power cut does not end the crash-state search: the write log goes on on the disk that comes back with
/// the durable image, and the epochs after the cut are searched too.
final class CrashStatePowerCutTests: IntegrationTestCase {
    private func crashFailures(_ result: TestResult) -> [CrashStateFailure] {
        result.evidence.compactMap { if case .crashState(let failure) = $0 { return failure } else { return nil } }
    }

    /// Two power cuts; between them, g's fsync on a lying cache, then h's honoured fsync. The real power cuts
    /// lose nothing (h's flush covered g), but a crash in h's fsync epoch may lose g: only the epochs after
    /// the first cut show it.
    static func twoPowerCuts(lying: Bool) -> String {
        """
        summary: a lying fsync between two power cuts
        filesystems: btrfs ext4 xfs
        steps:
        f: pwrite -S 0xaa 0 64k
        f: fsync
        power-cut
        g: pwrite -S 0xbb 0 64k
        \(lying ? "lying-cache on" : "sync")
        g: fsync
        \(lying ? "lying-cache off" : "sync")
        h: pwrite -S 0xcc 0 4k
        h: fsync
        power-cut
        verify f g h
        """
    }

    func testTheEpochsAfterAPowerCutAreSearched() throws {
        let test = try define("lying-between-cuts", Self.twoPowerCuts(lying: true))
        let options = options { $0.crashStates = 4; $0.crashStatesLimit = 400 }
        for result in run(test, on: [.btrfs, .ext4, .xfs], options: options) {
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            let failure = try XCTUnwrap(crashFailures(result).first, Self.explain(result))
            XCTAssertEqual(failure.problem.file, "g", "\(failure)")
            XCTAssertTrue(failure.step.hasPrefix("'h: fsync'"), "an epoch after the first power cut: \(failure)")
            XCTAssertFalse(crashFailures(result).contains { $0.problem.file == "f" }, Self.explain(result))
        }
    }

    func testAnHonestDiskPassesTheCrashStatesAcrossTwoPowerCuts() throws {
        let test = try define("honest-between-cuts", Self.twoPowerCuts(lying: false))
        let options = options { $0.crashStates = 4; $0.crashStatesLimit = 400 }
        for result in run(test, on: [.btrfs, .ext4, .xfs], options: options) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            let counts = try XCTUnwrap(result.crashStates, Self.explain(result))
            XCTAssertEqual(counts.failed, 0, Self.explain(result))
            XCTAssertGreaterThan(counts.checked, 0, Self.explain(result))
        }
    }
}
