import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner

/// The importer's promise end to end: a real reproducer from the corpus, imported with `regress import`,
/// runs, and every step of the test it wrote appears in the run's step log (so the test exercised what the
/// reproducer does, not just the verify and remount the import appends).
final class ImportRoundTripTests: IntegrationTestCase {
    static let corpus = packageRoot + "/Tests/ImportCorpus"

    /// Reproducers that import to a test this kernel runs (the corpus's others are pinned in CorpusTests).
    static let inputs = ["seed-btrfs-nocow-reflink-flush", "fstests-generic-059", "fstests-generic-034",
                         "fstests-btrfs-231", "commit-ext4-migrate-hole-at-beginning", "mail-lore-btrfs-qgroup-ioctl-reserve"]

    func testImportedReproducersRunTheirOperations() throws {
        for input in Self.inputs {
            let outcome = try regress(["import", "-q", Self.corpus + "/\(input).txt", "-o", testsDirectory + "/" + input])
            XCTAssertEqual(outcome.status, 0, "\(input): \(outcome.standardError)")
            let test = try TestLibrary(directory: testsDirectory).load(input)
            XCTAssertTrue(test.steps.contains { $0.spec.category == .data }, "\(input) holds a file operation")
            let filesystem = try XCTUnwrap(test.applicableFilesystems.first { Planner.skipReason(test, $0) == nil }, input)
            guard let result = run(test, on: [filesystem]).first else { continue }
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            for step in test.steps {
                XCTAssertTrue(result.log.contains { $0.hasPrefix("\(step.location) \(step.text) ->") || $0.hasPrefix("\(step.location) verify") },
                              "\(input): step \(step.location.line) '\(step.text)' is not in the step log")
            }
        }
    }

    func testAReproducerWithNoFileOperationIsNotWritten() throws {
        let outcome = try regress(["import", "-q", Self.corpus + "/commit-ext4-move-extent-no-read.txt", "-o", testsDirectory + "/nothing"])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.standardError.contains("none of the reproducer's file operations became a step"), outcome.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: testsDirectory + "/nothing"))
    }
}
