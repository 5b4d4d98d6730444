import Foundation
import XCTest
@testable import RegressCore

/// What `--crash-states` did, in every report (the counts, from the result's field), and how a crash state's
/// typed problem turns into a verdict.
final class CrashStateReportingTests: XCTestCase {
    static let summary = CrashStateSummary(planned: 162, checked: 159, identical: 3, skipped: 0, failed: 0)

    static func failure(_ problem: CrashStateProblem) -> CrashStateFailure {
        CrashStateFailure(epoch: 2, writesApplied: [1, 3], writesInEpoch: 4, step: "'f: fsync' at t:3:1", problem: problem)
    }

    static let missing = CrashStateProblem.verify(result: VerifyResult(file: "f", expectedSize: 4096, foundSize: nil))

    static func result(_ name: String, _ evidence: [Evidence] = [], crashStates: CrashStateSummary? = summary) -> TestResult {
        var result = TestResult(test: name, filesystem: .ext4, evidence: evidence + [.verified(VerifyResult(file: "f", expectedSize: 0, foundSize: 0))])
        result.seconds = 0.7
        result.crashStates = crashStates
        return result
    }

    /// A pass that searched, a failure that found three bad states, and a pass that did not search.
    static var run: RunSummary {
        let failing = CrashStateSummary(planned: 40, checked: 38, identical: 2, skipped: 0, failed: 3)
        return RunSummary(results: [
            result("searched"),
            result("lost", [.crashState(failure(missing))], crashStates: failing),
            result("plain", crashStates: nil),
        ], seconds: 2, kernel: "Linux 6.18.0")
    }

    func lines(_ format: ReportFormat) -> [String] {
        format.render(Self.run).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    // MARK: the reports

    func testTheHumanLineSaysHowManyStatesWereChecked() {
        let lines = lines(.human)
        XCTAssertTrue(lines.contains { $0.hasPrefix("ok     searched.ext4") && $0.hasSuffix("0.700s (159 crash states, 0 failed)") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("FAIL   lost.ext4") && $0.hasSuffix("0.700s (38 crash states, 3 failed)") }, "\(lines)")
        let plain = try! XCTUnwrap(lines.first { $0.hasPrefix("ok     plain.ext4") })
        XCTAssertFalse(plain.contains("crash states"), "a case that did not search says nothing of crash states: \(plain)")
        XCTAssertEqual(CrashStateSummary(planned: 1, checked: 1, identical: 0, skipped: 0, failed: 0).description, "1 crash state, 0 failed")
    }

    func testTAPCarriesTheCountsInYAMLEvenForAPass() throws {
        let lines = lines(.tap)
        let pass = try XCTUnwrap(lines.firstIndex(of: "ok 1 - searched.ext4"))
        XCTAssertEqual(Array(lines[pass + 1...pass + 10]), [
            "  ---", "  verdict: pass", "  seconds: 0.700",
            "  crash_states:", "    planned: 162", "    checked: 159", "    identical: 3", "    skipped: 0", "    failed: 0", "  ...",
        ])
        let fail = try XCTUnwrap(lines.firstIndex(of: "not ok 2 - lost.ext4"))
        let block = lines[fail...].prefix { $0 != "  ..." }
        XCTAssertTrue(block.contains("  crash_states:"), "\(block)")
        XCTAssertTrue(block.contains("    failed: 3"), "\(block)")
        let plain = try XCTUnwrap(lines.firstIndex(of: "ok 3 - plain.ext4"))
        XCTAssertEqual(plain, lines.count - 2, "a pass without crash states has no block (the report ends after it)")
    }

    func testKTAPSaysTheCountsOnADiagnosticLineBeforeTheResult() throws {
        let lines = lines(.ktap)
        let pass = try XCTUnwrap(lines.firstIndex(of: "ok 1 searched.ext4"))
        XCTAssertEqual(lines[pass - 1], "# searched.ext4: crash states: 159 checked, 0 failed, 3 identical to one checked, 0 skipped, of 162 planned")
        let fail = try XCTUnwrap(lines.firstIndex(of: "not ok 2 lost.ext4"))
        XCTAssertTrue(lines[..<fail].contains("# lost.ext4: crash states: 38 checked, 3 failed, 2 identical to one checked, 0 skipped, of 40 planned"))
        let plain = try XCTUnwrap(lines.firstIndex(of: "ok 3 plain.ext4"))
        XCTAssertFalse(lines[plain - 1].hasPrefix("# plain.ext4"), lines[plain - 1])
    }

    func testJUnitCarriesTheCountsAsTestcaseProperties() throws {
        let lines = lines(.junit)
        let searched = try XCTUnwrap(lines.firstIndex { $0.contains("<testcase classname=\"searched\"") })
        XCTAssertEqual(Array(lines[searched + 1...searched + 7]), [
            "      <properties>",
            "        <property name=\"crash_states_planned\" value=\"162\"/>",
            "        <property name=\"crash_states_checked\" value=\"159\"/>",
            "        <property name=\"crash_states_identical\" value=\"3\"/>",
            "        <property name=\"crash_states_skipped\" value=\"0\"/>",
            "        <property name=\"crash_states_failed\" value=\"0\"/>",
            "      </properties>",
        ])
        let lost = try XCTUnwrap(lines.firstIndex { $0.contains("<testcase classname=\"lost\"") })
        XCTAssertEqual(lines[lost + 1], "      <properties>", "first in the testcase, before its failure")
        XCTAssertTrue(lines[lost...].prefix { !$0.contains("</testcase>") }.contains("        <property name=\"crash_states_failed\" value=\"3\"/>"))
        let plain = try XCTUnwrap(lines.firstIndex { $0.contains("<testcase classname=\"plain\"") })
        XCTAssertFalse(lines[plain...].prefix { !$0.contains("</testcase>") }.contains { $0.contains("<properties>") })
    }

    func testJSONCarriesTheCountsAndAMergeKeepsThem() throws {
        let json = ReportFormat.json.render(Self.run)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let results = try XCTUnwrap(document["results"] as? [[String: Any]])
        let counts = try XCTUnwrap(results[0]["crashStates"] as? [String: Int])
        XCTAssertEqual(counts, ["planned": 162, "checked": 159, "identical": 3, "skipped": 0, "failed": 0])
        XCTAssertNil(results[2]["crashStates"])

        let report = try JSONReportDecoder().decode(Data(json.utf8), path: "shard.json")
        XCTAssertEqual(report.results.map(\.crashStates), Self.run.results.map(\.crashStates))
        let merged = try ShardMerge().merge([report])
        XCTAssertEqual(merged.run.results.first { $0.test == "searched" }?.crashStates, Self.summary)
        // The typed problem comes back as it went.
        XCTAssertEqual(report.results[1].evidence.first, .crashState(Self.failure(Self.missing)))
    }

    func testKCIDBCarriesTheCheckedStatesAsItsNumberAndEveryCountInMisc() throws {
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(ReportFormat.kcidb.render(Self.run).utf8)) as? [String: Any])
        let tests = try XCTUnwrap(document["tests"] as? [[String: Any]])
        let number = try XCTUnwrap(tests[0]["number"] as? [String: Any])
        XCTAssertEqual(number["value"] as? Int, 159)
        XCTAssertEqual(number["unit"] as? String, "crash states")
        let misc = try XCTUnwrap(tests[0]["misc"] as? [String: Any])
        XCTAssertEqual(misc["crash_states"] as? [String: Int], ["planned": 162, "checked": 159, "identical": 3, "skipped": 0, "failed": 0])
        XCTAssertNil(tests[2]["number"])
        XCTAssertNil((tests[2]["misc"] as? [String: Any])?["crash_states"])
    }

    // MARK: the decision from typed problems

    func testEachProblemIsAFailureOfTheFilesystemButARebuildIsTheMachines() {
        let filesystems: [CrashStateProblem] = [
            Self.missing, .unmountable(error: "mount: EUCLEAN"), .rootUnopenable(error: "EIO"),
            .unmountFailed(error: "EBUSY"), .fsck(output: "e2fsck 1.47\nInode 12 has a bad extent"),
        ]
        for problem in filesystems {
            let decision = Decision([.crashState(Self.failure(problem))])
            XCTAssertEqual(decision.verdict, .fail, "\(problem)")
            XCTAssertEqual(decision.reasons, ["crash state epoch 2 + writes [1, 3] of 4 (during 'f: fsync' at t:3:1): \(problem)"])
        }
        let rebuild = Decision([.crashState(Self.failure(.rebuildFailed(error: "EIO"))), .crashState(Self.failure(Self.missing))])
        XCTAssertEqual(rebuild.verdict, .error, "a state the machine could not rebuild says nothing of the filesystem")
        XCTAssertEqual(rebuild.reasons.first, "crash state epoch 2 + writes [1, 3] of 4 (during 'f: fsync' at t:3:1): cannot rebuild the state: EIO")
    }

    func testTheProblemsOwnWords() {
        XCTAssertEqual(Self.missing.description, "verify f: the file is missing")
        XCTAssertEqual(CrashStateProblem.unmountable(error: "mount: EUCLEAN").description, "does not mount: mount: EUCLEAN")
        XCTAssertEqual(CrashStateProblem.fsck(output: "e2fsck 1.47\n\nInode 12 has a bad extent\nmore").description, "fsck: Inode 12 has a bad extent",
                       "the first finding after the tool's own line")
        XCTAssertEqual(CrashStateProblem.fsck(output: "xfs_repair").description, "fsck: failed")
        var unreadable = VerifyResult(file: "f", expectedSize: 4096, foundSize: nil)
        unreadable.readError = .EIO
        XCTAssertTrue(CrashStateProblem.verify(result: unreadable).description.hasPrefix("verify f: cannot read it: EIO"))
        XCTAssertEqual(CrashStateProblem.unmountFailed(error: "EBUSY").file, nil)
    }

    func testAKilledProcessesEndIsLeftOutByItsKindNotByItsWords() {
        let killed = Decision([.timedOut(seconds: 60, stuckInKernel: nil), .processEnded(.signaled(9))])
        XCTAssertEqual(killed.reasons, ["timeout after 60s: killed"])
        // An environment message that happens to read like the process's end is the machine's word, and stays.
        let told = Decision([.interrupted(signal: 2), .environment("the test's process table is full")])
        XCTAssertEqual(told.reasons, ["interrupted by signal 2", "the test's process table is full"])
        XCTAssertEqual(Decision([.processEnded(.exited(3))]).reasons, ["the test's process exited 3 without a result"])
    }
}
