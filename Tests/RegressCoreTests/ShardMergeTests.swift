import Foundation
import XCTest
@testable import RegressCore

/// Reading JSON reports back and merging shards: the order and counts of an unsharded run, and every
/// refusal (mixed kernels, overlapping shards, shards of different N).
final class ShardMergeTests: XCTestCase {
    static func result(_ test: String, _ filesystem: FilesystemKind?, _ verdict: Verdict,
                       kernel: String = "Linux 6.18.44", shard: String? = "1/3") -> TestResult {
        var result = farmResult(test, filesystem, verdict)
        result.seconds = 0.25
        result.startTime = "2026-12-02T04:00:00.000Z"
        result.origin = ResultOrigin(kernel: kernel, hostname: "lab-1", architecture: "x86_64", shard: shard)
        return result
    }

    /// A report as `regress run --report json=…` writes it, decoded as `regress merge` reads it.
    func report(_ path: String, _ results: [TestResult], kernel: String = "Linux 6.18.44", seconds: Double = 10) throws -> JSONReportDecoder.Report {
        let text = JSONReport().render(RunSummary(results: results, seconds: seconds, kernel: kernel))
        return try JSONReportDecoder().decode(Data(text.utf8), path: path)
    }

    func testAJSONReportDecodesToTheResultsItWasWrittenFrom() throws {
        var fail = farmResult("punch-hole", .xfs, .fail, detail: "ok 7 - \"quoted\"\nnewline")
        fail.origin = Self.result("punch-hole", .xfs, .fail).origin
        fail.startTime = "2026-12-02T04:00:00.000Z"
        fail.log = ["a", "b"]
        fail.summary = "punching a hole"
        fail.seconds = .nan
        let decoded = try report("shard1.json", [Self.result("a", .btrfs, .pass), fail, Self.result("b", nil, .skip)], seconds: 12.5)
        XCTAssertEqual(decoded.kernel, "Linux 6.18.44")
        XCTAssertEqual(decoded.seconds, 12.5)
        XCTAssertEqual(decoded.results.map(\.id), ["a.btrfs", "punch-hole.xfs", "b"])
        XCTAssertEqual(decoded.results.map(\.verdict), [.pass, .fail, .skip])
        XCTAssertEqual(decoded.results[1].reasons, fail.reasons)
        XCTAssertEqual(decoded.results[1].log, ["a", "b"])
        XCTAssertTrue(decoded.results[1].seconds.isNaN)
        XCTAssertEqual(decoded.results[1].origin, fail.origin)
        XCTAssertEqual(decoded.results[1].startTime, "2026-12-02T04:00:00.000Z")
    }

    func testAReportFromBeforeOriginsAndStartTimesStillDecodes() throws {
        var old = Self.result("a", .btrfs, .pass)
        old.origin = nil
        old.startTime = nil
        var text = JSONReport().render(RunSummary(results: [old], seconds: 1, kernel: "Linux 6.1.0"))
        XCTAssertFalse(text.contains("origin") || text.contains("startTime"))
        text = text.replacingOccurrences(of: "\"tool\"", with: "\"tool\"")
        let decoded = try JSONReportDecoder().decode(Data(text.utf8), path: "old.json")
        XCTAssertEqual(decoded.results.map(\.id), ["a.btrfs"])
        XCTAssertNil(decoded.results[0].origin)
        // Its results take the report's kernel: merging it with a 6.18 report is refused.
        let newer = try report("new.json", [Self.result("b", .btrfs, .pass)])
        XCTAssertThrowsError(try ShardMerge().merge([decoded, newer])) { error in
            XCTAssertEqual(error as? ShardMerge.Refusal, .mixedKernels(path: "old.json", kernel: "Linux 6.1.0", otherPath: "new.json", otherKernel: "Linux 6.18.44"))
        }
    }

    func testWhatIsNotAReportOrIsNewerIsRefusedNamingTheFile() throws {
        for (text, expected) in [("not json", "x.json: not a regress JSON report (not a JSON object)"),
                                 ("{\"tool\": \"other\"}", "x.json: not a regress JSON report (no \"tool\": \"regress\" and schemaVersion)"),
                                 ("{\"tool\": \"regress\", \"schemaVersion\": 99}", "x.json: JSON report schemaVersion 99 is newer than this regress reads (2)"),
                                 ("{\"tool\": \"regress\", \"schemaVersion\": 1, \"kernel\": \"k\", \"seconds\": 1, \"results\": [{\"test\": \"a\"}]}",
                                  "x.json: not a regress JSON report (results[0].evidence: missing)")] {
            XCTAssertThrowsError(try JSONReportDecoder().decode(Data(text.utf8), path: "x.json")) { error in
                XCTAssertEqual("\(error)", expected)
            }
        }
    }

    func testShardsMergeInTheOrderOfAnUnshardedRun() throws {
        let one = try report("1.json", [Self.result("b", .ext4, .pass), Self.result("a", .xfs, .fail)], seconds: 7)
        let two = try report("2.json", [Self.result("a", .btrfs, .pass, shard: "2/3"), Self.result("c", nil, .skip, shard: "2/3")], seconds: 9)
        let three = try report("3.json", [Self.result("b", .btrfs, .xfail, shard: "3/3"), Self.result("a", .ext4, .error, shard: "3/3")], seconds: 4)
        let merged = try ShardMerge().merge([three, one, two])
        XCTAssertEqual(merged.run.results.map(\.id), ["a.btrfs", "a.xfs", "a.ext4", "b.btrfs", "b.ext4", "c"])
        XCTAssertEqual(merged.run.results.map(\.verdict), [.pass, .fail, .error, .xfail, .pass, .skip])
        XCTAssertEqual(merged.run.kernel, "Linux 6.18.44")
        XCTAssertEqual(merged.run.seconds, 9, "shards run side by side: the slowest one's time")
        XCTAssertEqual(merged.missingShards, [])
        XCTAssertEqual(merged.run.count(.pass), 2)
    }

    func testAMissingShardIsNamed() throws {
        let one = try report("1.json", [Self.result("a", .ext4, .pass)])
        XCTAssertEqual(try ShardMerge().merge([one]).missingShards, ["2/3", "3/3"])
    }

    func testOverlappingShardsAndOneReportTwiceAreRefused() throws {
        let one = try report("1.json", [Self.result("a", .ext4, .pass)])
        let other = try report("other.json", [Self.result("b", .ext4, .pass), Self.result("a", .ext4, .fail)])
        XCTAssertThrowsError(try ShardMerge().merge([one, other])) { error in
            XCTAssertEqual("\(error)", "other.json: a.ext4 is also in 1.json: the shards overlap (or one report was given twice)")
        }
        XCTAssertThrowsError(try ShardMerge().merge([one, one])) { error in
            XCTAssertEqual(error as? ShardMerge.Refusal, .duplicateCase(id: "a.ext4", path: "1.json", otherPath: "1.json"))
        }
        // One run's own repetitions (-I 2) are not an overlap.
        let repeated = try report("1.json", [Self.result("a", .ext4, .pass), Self.result("a", .ext4, .fail)])
        XCTAssertEqual(try ShardMerge().merge([repeated]).run.results.map(\.verdict), [.pass, .fail])
    }

    func testDifferentKernelsAreRefusedUnlessAllowed() throws {
        let one = try report("1.json", [Self.result("a", .ext4, .pass)])
        let two = try report("2.json", [Self.result("b", .ext4, .pass, kernel: "Linux 6.19.0", shard: "2/3")], kernel: "Linux 6.19.0")
        XCTAssertThrowsError(try ShardMerge().merge([one, two])) { error in
            XCTAssertEqual("\(error)", "2.json: ran on Linux 6.19.0, but 1.json ran on Linux 6.18.44: results of different kernels are not merged (--allow-mixed-kernels merges them)")
        }
        let merged = try ShardMerge(allowMixedKernels: true).merge([one, two])
        XCTAssertEqual(merged.run.kernel, "Linux 6.18.44, Linux 6.19.0")
        XCTAssertEqual(merged.run.results.map { $0.origin?.kernel }, ["Linux 6.18.44", "Linux 6.19.0"])
    }

    func testShardsOfDifferentCountsAreRefused() throws {
        let one = try report("1.json", [Self.result("a", .ext4, .pass)])
        let two = try report("2.json", [Self.result("b", .ext4, .pass, shard: "2/2")])
        XCTAssertThrowsError(try ShardMerge().merge([one, two])) { error in
            XCTAssertEqual("\(error)", "2.json: shard 2/2, but 1.json is shard 1/3: these split the selection differently")
        }
    }

    func testNoReportsIsRefused() {
        XCTAssertThrowsError(try ShardMerge().merge([])) { XCTAssertEqual($0 as? ShardMerge.Refusal, .noReports) }
    }
}
