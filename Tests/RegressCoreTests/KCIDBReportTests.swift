import Foundation
import XCTest
@testable import RegressCore

/// The KCIDB document's shape, without Python: what each verdict becomes, the ids, the links to the farm's
/// checkout and build, and the log excerpt's limit. kcidb-io itself validates real runs' documents in
/// Tests/IntegrationTests/FarmIntegrationTests.swift.
final class KCIDBReportTests: XCTestCase {
    static let origin = ResultOrigin(kernel: "Linux 6.18.44", hostname: "lab-3", architecture: "x86_64", shard: "2/3",
                                     toolVersions: ["mkfs.btrfs": "mkfs.btrfs, part of btrfs-progs v6.2", "mkfs.xfs": "mkfs.xfs version 6.1.0"])

    static func result(_ test: String, _ filesystem: FilesystemKind?, _ verdict: Verdict,
                       detail: String = "", log: [String] = [], start: String = "2026-12-02T04:00:00.000Z") -> TestResult {
        var result = farmResult(test, filesystem, verdict, detail: detail)
        result.log = log
        result.seconds = 1.5
        result.startTime = start
        result.origin = origin
        result.summary = "what \(test) checks"
        return result
    }

    static var everyVerdict: RunSummary {
        RunSummary(results: [
            result("nocow-reflink", .btrfs, .pass, log: ["pwrite -> ok"]),
            result("punch-hole", .xfs, .fail, detail: "fsync file1", log: ["fsync -> ENOSPC"],
                   start: "2026-12-02T03:59:59.500Z"),
            result("collapse", .btrfs, .skip, detail: "btrfs has no collapse"),
            result("mkfs-fails", .xfs, .error, detail: "mkfs.xfs exited 1"),
            result("known-bug", .xfs, .xfail, detail: "lore.kernel.org/r/123"),
        ], seconds: 9, kernel: "Linux 6.18.44")
    }

    func document(_ run: RunSummary) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(KCIDBReport().render(run).utf8)) as? [String: Any])
    }

    func tests(_ document: [String: Any]) throws -> [[String: Any]] { try XCTUnwrap(document["tests"] as? [[String: Any]]) }

    func testEachVerdictHasItsKCIDBStatusAndPath() throws {
        let document = try document(Self.everyVerdict)
        let version = try XCTUnwrap(document["version"] as? [String: Int])
        XCTAssertEqual(version, ["major": 5, "minor": 3])
        let tests = try tests(document)
        XCTAssertEqual(tests.map { $0["status"] as? String }, ["PASS", "FAIL", "SKIP", "ERROR", "FAIL"])
        XCTAssertEqual(tests.map { $0["path"] as? String },
                       ["regress.nocow-reflink.btrfs", "regress.punch-hole.xfs", "regress.collapse.btrfs", "regress.mkfs-fails.xfs", "regress.known-bug.xfs"])
        XCTAssertEqual(tests.map { ($0["misc"] as? [String: Any])?["regress_verdict"] as? String }, ["pass", "fail", "skip", "error", "xfail"])
        // A skip did not run: it has no duration.
        XCTAssertEqual(tests.map { $0["duration"] as? Double }, [1.5, 1.5, nil, 1.5, 1.5])
        XCTAssertEqual(tests[0]["comment"] as? String, "what nocow-reflink checks")
    }

    func testIdsShareTheRunsFirstStartAndTheOrigin() throws {
        var run = Self.everyVerdict
        run.farm.origin = "my_lab"
        let tests = try tests(document(run))
        XCTAssertEqual(tests[0]["id"] as? String, "my_lab:2026-12-02T03:59:59.500Z/nocow-reflink.btrfs")
        XCTAssertEqual(tests[1]["start_time"] as? String, "2026-12-02T03:59:59.500Z")
        XCTAssertTrue(tests.allSatisfy { $0["origin"] as? String == "my_lab" })
        XCTAssertEqual(Set(tests.compactMap { $0["id"] as? String }).count, tests.count)
    }

    func testTheSameCaseTwiceIsTwoTests() throws {
        let pass = Self.result("a", .ext4, .pass)
        let tests = try tests(document(RunSummary(results: [pass, pass, pass], seconds: 1, kernel: "Linux 6.18.44")))
        XCTAssertEqual(tests.compactMap { $0["id"] as? String },
                       ["regress:2026-12-02T04:00:00.000Z/a.ext4", "regress:2026-12-02T04:00:00.000Z/a.ext4#2", "regress:2026-12-02T04:00:00.000Z/a.ext4#3"])
    }

    func testPlaceholderCheckoutAndBuildUnlessTheFarmNamesItsOwn() throws {
        let placeholder = try document(Self.everyVerdict)
        let checkouts = try XCTUnwrap(placeholder["checkouts"] as? [[String: Any]])
        let builds = try XCTUnwrap(placeholder["builds"] as? [[String: Any]])
        XCTAssertEqual(checkouts.map { $0["id"] as? String }, ["regress:linux-6.18.44"])
        XCTAssertEqual(builds.map { $0["id"] as? String }, ["regress:linux-6.18.44-x86_64"])
        XCTAssertEqual(builds.first?["checkout_id"] as? String, "regress:linux-6.18.44")
        XCTAssertEqual(builds.first?["architecture"] as? String, "x86_64")
        XCTAssertTrue(try tests(placeholder).allSatisfy { $0["build_id"] as? String == "regress:linux-6.18.44-x86_64" })

        // The farm's checkout only: the build is made for it and linked to it.
        var run = Self.everyVerdict
        run.farm.checkoutID = "kernelci:abc"
        let withCheckout = try document(run)
        XCTAssertNil(withCheckout["checkouts"])
        XCTAssertEqual((withCheckout["builds"] as? [[String: Any]])?.first?["checkout_id"] as? String, "kernelci:abc")

        // The farm's build: nothing but tests (and known issues), every one linked to it.
        run.farm.buildID = "kernelci:build-42"
        let withBuild = try document(run)
        XCTAssertNil(withBuild["checkouts"])
        XCTAssertNil(withBuild["builds"])
        XCTAssertTrue(try tests(withBuild).allSatisfy { $0["build_id"] as? String == "kernelci:build-42" })
    }

    func testAKnownFailureIsAFailureWithAnIncidentOfItsIssue() throws {
        let document = try document(Self.everyVerdict)
        let issues = try XCTUnwrap(document["issues"] as? [[String: Any]])
        let incidents = try XCTUnwrap(document["incidents"] as? [[String: Any]])
        XCTAssertEqual(issues.count, 1)
        XCTAssertEqual(issues[0]["comment"] as? String, "known issue: lore.kernel.org/r/123")
        XCTAssertEqual(issues[0]["version"] as? Int, 0)
        XCTAssertEqual(incidents.count, 1)
        XCTAssertEqual(incidents[0]["issue_id"] as? String, issues[0]["id"] as? String)
        XCTAssertEqual(incidents[0]["test_id"] as? String, try tests(document)[4]["id"] as? String)
        XCTAssertEqual(incidents[0]["present"] as? Bool, true)
    }

    func testEnvironmentNamesTheKernelMachineShardAndTheFilesystemsTools() throws {
        let misc = try XCTUnwrap((try tests(document(Self.everyVerdict))[0]["environment"] as? [String: Any])?["misc"] as? [String: Any])
        XCTAssertEqual(misc["kernel_release"] as? String, "6.18.44")
        XCTAssertEqual(misc["hostname"] as? String, "lab-3")
        XCTAssertEqual(misc["architecture"] as? String, "x86_64")
        XCTAssertEqual(misc["shard"] as? String, "2/3")
        XCTAssertEqual(misc["filesystem"] as? String, "btrfs")
        XCTAssertEqual(misc["tools"] as? [String: String], ["mkfs.btrfs": "mkfs.btrfs, part of btrfs-progs v6.2"])
    }

    func testTheLogExcerptHoldsTheReasonsAndTheLogsEndWithinTheLimit() throws {
        let log = (1...5000).map { "step \($0): pwrite 0 4096 -> ok (0.001s) 日本語" }
        var failing = Self.result("big", .ext4, .fail, detail: "verify file1 with a NUL \u{0} in it", log: log)
        failing.log.append("the last line, where it went wrong")
        let excerpt = try XCTUnwrap(try tests(document(RunSummary(results: [failing], seconds: 1, kernel: "Linux 6.18.44")))[0]["log_excerpt"] as? String)
        XCTAssertLessThanOrEqual(excerpt.unicodeScalars.count, KCIDBReport.logExcerptLimit)
        XCTAssertGreaterThan(excerpt.unicodeScalars.count, KCIDBReport.logExcerptLimit - 200, "the excerpt should use the room it has")
        XCTAssertTrue(excerpt.hasPrefix("- verify file1 with a NUL \\x00 in it: ENOSPC, expected success at tests.d/big:3:1\n\n"), excerpt.prefix(200).description)
        XCTAssertTrue(excerpt.hasSuffix("the last line, where it went wrong"))
        XCTAssertTrue(excerpt.contains("earlier log lines cut"))
        XCTAssertFalse(excerpt.unicodeScalars.contains("\u{0}"))

        // Reasons alone longer than the limit are cut too.
        let huge = Self.result("huge", .ext4, .fail, detail: String(repeating: "x", count: 40_000))
        let cut = try XCTUnwrap(try tests(document(RunSummary(results: [huge], seconds: 1, kernel: "Linux 6.18.44")))[0]["log_excerpt"] as? String)
        XCTAssertLessThanOrEqual(cut.unicodeScalars.count, KCIDBReport.logExcerptLimit)
        XCTAssertTrue(cut.hasSuffix("reasons cut\n"))
    }

    func testANameKCIDBCannotTakeIsMadeIntoAPath() throws {
        var odd = Self.result("odd name#1.v2", nil, .pass)
        odd.seconds = .nan
        let test = try tests(document(RunSummary(results: [odd], seconds: 1, kernel: "Linux 6.18.44")))[0]
        XCTAssertEqual(test["path"] as? String, "regress.odd_name_1_v2")
        XCTAssertNil(test["duration"], "a NaN time is no duration")
    }

    func testFarmIdentityRefusesWhatKCIDBWouldRefuse() {
        var identity = FarmIdentity()
        XCTAssertNoThrow(try identity.validate())
        identity.origin = "My-Lab"
        XCTAssertThrowsError(try identity.validate())
        identity.origin = "my_lab"
        identity.buildID = "no-colon"
        XCTAssertThrowsError(try identity.validate())
        identity.buildID = "Upper:x"
        XCTAssertThrowsError(try identity.validate())
        identity.buildID = "kernelci:x"
        identity.checkoutID = "kernelci:abc:def"
        XCTAssertNoThrow(try identity.validate())
    }
}
