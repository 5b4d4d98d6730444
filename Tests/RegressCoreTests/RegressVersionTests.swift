import Foundation
import XCTest
@testable import RegressCore

/// Every report, and the LAVA job, names the regress that made it: version and commit.
final class RegressVersionTests: XCTestCase {
    static let built = RegressVersion(version: "9.8.7", commit: "0123456789abcdef0123456789abcdef01234567")

    static var run: RunSummary {
        var result = farmResult("nocow-reflink", .btrfs, .pass)
        result.origin = ResultOrigin(kernel: "Linux 6.18.44", hostname: "lab-1", architecture: "x86_64", regress: built)
        result.startTime = "2026-12-02T04:00:00.000Z"
        var run = RunSummary(results: [result, farmResult("punch-hole", .xfs, .fail)], seconds: 2, kernel: "Linux 6.18.44")
        run.regress = built
        return run
    }

    func testEveryFormatNamesTheVersionAndTheCommit() {
        for format in ReportFormat.allCases {
            let text = format.render(Self.run)
            XCTAssertTrue(text.contains("9.8.7"), "\(format) does not name the version:\n\(text)")
            let commit = format == .human ? Self.built.shortCommit : Self.built.commit
            XCTAssertTrue(text.contains(commit), "\(format) does not name the commit:\n\(text)")
        }
    }

    func testTheHumanSummaryLineAndTheTAPAndKTAPCommentsSayWhichRegress() {
        let human = HumanReport().render(Self.run).split(separator: "\n").last.map(String.init)
        XCTAssertEqual(human, "1 passed, 1 failed in 2.000s on Linux 6.18.44 (regress 9.8.7, 0123456789ab)")
        XCTAssertTrue(TAPReport().render(Self.run).contains("\n# regress 9.8.7 (commit 0123456789abcdef0123456789abcdef01234567)\n"))
        XCTAssertTrue(KTAPReport().render(Self.run).contains("\n# regress 9.8.7 (commit 0123456789abcdef0123456789abcdef01234567) on Linux 6.18.44 in 2.000s\n"))
        XCTAssertTrue(JUnitReport().render(Self.run).contains("<property name=\"regress_commit\" value=\"0123456789abcdef0123456789abcdef01234567\"/>"))
    }

    func testKCIDBTestsCarryItInTheirMisc() throws {
        let data = Data(KCIDBReport().render(Self.run).utf8)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tests = try XCTUnwrap(document["tests"] as? [[String: Any]])
        XCTAssertEqual(tests.count, 2)
        for test in tests {
            let misc = try XCTUnwrap(test["misc"] as? [String: Any])
            XCTAssertEqual(misc["regress_version"] as? String, "9.8.7")
            XCTAssertEqual(misc["regress_commit"] as? String, Self.built.commit)
        }
    }

    func testAMergeOfShardsKeepsTheRegressThatRanThem() throws {
        let text = JSONReport().render(Self.run)
        let decoded = try JSONReportDecoder().decode(Data(text.utf8), path: "shard.json")
        XCTAssertEqual(decoded.regress, Self.built)
        XCTAssertEqual(decoded.results[0].origin?.regress, Self.built)
        let merged = try ShardMerge().merge([decoded])
        XCTAssertEqual(merged.run.regress, Self.built)
    }

    func testAReportFromBeforeVersionsStillDecodes() throws {
        var text = JSONReport().render(RunSummary(results: [farmResult("a", .btrfs, .pass)], seconds: 1, kernel: "Linux 6.1.0"))
        let range = try XCTUnwrap(text.range(of: #"  "regress" : \{[^}]*\},\n"#, options: .regularExpression))
        text.removeSubrange(range)
        let decoded = try JSONReportDecoder().decode(Data(text.utf8), path: "old.json")
        XCTAssertNil(decoded.regress)
        XCTAssertEqual(try ShardMerge().merge([decoded]).run.regress.commit, "unknown")
    }

    func testTheShortCommitKeepsDirtyAndUnknown() {
        XCTAssertEqual(RegressVersion(commit: "0123456789abcdef0123-dirty").shortCommit, "0123456789ab-dirty")
        XCTAssertEqual(RegressVersion(commit: "unknown").shortCommit, "unknown")
        XCTAssertEqual(RegressVersion(version: "1.2.3", commit: "abc").description, "regress 1.2.3 (commit abc)")
    }

    func testTheLAVAJobsMetadataNamesIt() {
        var job = LAVAJob(kernelURL: "https://lab.example/bzImage", repository: "https://git.example/regress.git")
        job.regress = Self.built
        let text = job.render()
        XCTAssertTrue(text.contains("\n  regress.version: \"9.8.7\"\n  regress.commit: \"\(Self.built.commit)\"\n"), text)
    }
}
