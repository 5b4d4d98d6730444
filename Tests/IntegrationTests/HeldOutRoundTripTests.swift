import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// The held-out set end to end (Tests/ImportHeldOut): reproducers the importer was not developed on,
/// one per filesystem and kind of input, imported with `regress import`, run on this kernel, and every
/// step of the test each wrote found in the run's step log. bench/import-heldout measures all 16.
final class HeldOutRoundTripTests: IntegrationTestCase {
    static let heldOut = packageRoot + "/Tests/ImportHeldOut"

    /// A quoted reply with `<power failure>` (btrfs), a commit message (btrfs), an fstests test with an
    /// `if`, captured checksums and a 6 GiB size requirement (ext4), one with a free-space guard and
    /// XFS's resvsp (xfs); each must keep its power cut or its special step.
    static let inputs: [(name: String, mustHold: String)] = [
        ("mail-btrfs-truncate-isize-fsync", "power-cut"),
        ("commit-btrfs-prealloc-past-isize-log-replay", "power-cut"),
        ("fstests-ext4-046", "size: 6g"),
        ("fstests-xfs-072", "falloc -k 0 1g"),
    ]

    func testHeldOutReproducersImportWholeAndRunTheirOperations() throws {
        for (input, mustHold) in Self.inputs {
            let outcome = try regress(["import", "-q", Self.heldOut + "/\(input).txt", "-o", testsDirectory + "/" + input])
            XCTAssertEqual(outcome.status, 0, "\(input): \(outcome.standardError)")
            XCTAssertEqual(outcome.standardError.split(separator: "\n").filter { !$0.hasPrefix("wrote ") }, [], "\(input) imports whole")
            let text = try String(contentsOfFile: testsDirectory + "/" + input, encoding: .utf8)
            XCTAssertTrue(text.contains(mustHold), "\(input): \(mustHold)")
            let test = try TestLibrary(directory: testsDirectory).load(input)
            let filesystem = try XCTUnwrap(test.applicableFilesystems.first { Planner.skipReason(test, $0) == nil }, input)
            guard let result = run(test, on: [filesystem]).first else { return XCTFail("\(input): no result") }
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            for step in test.steps {
                XCTAssertTrue(result.log.contains { $0.hasPrefix("\(step.location) \(step.text) ->") || $0.hasPrefix("\(step.location) verify") },
                              "\(input): step \(step.location.line) '\(step.text)' is not in the step log")
            }
        }
    }
}
