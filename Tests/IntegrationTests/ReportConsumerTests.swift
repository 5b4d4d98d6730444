import Foundation
import XCTest
@testable import RegressCore

/// Each machine-readable report, read by the standard consumer of its format, from a run whose results carry
/// every kind of verdict and the most hostile text a step, a tool or the kernel could put in a reason or a log.
/// A consumer that is missing fails the test (CI installs them all): scripts/install-report-consumers.
final class ReportTests: XCTestCase {

    // MARK: The run every test reads

    /// Text that tries to forge TAP/KTAP lines once a newline is let through (or Python's splitlines() splits
    /// at a Unicode separator), to end XML markup, and to smuggle in what XML 1.0 cannot hold at all.
    static let forgery = "disk full\nok 7 - fake\nnot ok 8 fake\nKTAP version 1\n1..99\n# Subtest: fake\nBail out! fake\r\nok\u{a0}9"
    static let markup = "]]> <tag attr=\"x\"> & 'apos' </testcase> \u{0}\u{1}\u{7}\u{1b}[31m\u{7f}\u{fffe}\u{b}\u{c}"
    static let unicode = "überprüft ✓ 日本語 😀\u{2028}ok 10 - fake\u{85}not ok 11 - fake\u{2029}TAP version 13"

    static var results: [TestResult] {
        var pass = TestResult(test: "nocow-reflink", filesystem: .btrfs)
        pass.seconds = 1.25
        pass.log = ["tests.d/nocow-reflink:12:1 pwrite 0 4096 -> ok (0.001s)", forgery, markup]
        // A pass that searched crash states says so in every format: a block, a line more for the consumers.
        pass.crashStates = CrashStateSummary(planned: 162, checked: 159, identical: 3, skipped: 0, failed: 0)

        var verification = VerifyResult(file: "file: \"1\"\nok 12", expectedSize: 8192, foundSize: 8192)
        verification.mismatches = [Mismatch(offset: 0, length: 4096, expected: 0, found: .byte(0xcd))]
        var fail = TestResult(test: "punch-hole", filesystem: .xfs, evidence: [
            .stepFailed(StepFailure(location: SourceLocation(file: "tests.d/punch-hole", line: 9),
                                    step: "fsync file1", got: .ENOSPC, expected: "success", detail: forgery)),
            .verified(verification),
            .kernelLog(["[12.345] WARNING: CPU: 1 PID: 42 at fs/xfs/xfs_bmap.c:123", forgery]),
            .fsckFailed("Phase 1\n" + markup + unicode),
        ])
        fail.seconds = 2.5
        fail.summary = "punching a hole loses data"
        fail.fix = "abc123 xfs: fix\nok 13 - fake"
        fail.resultsDirectory = "/results/punch-hole.xfs"

        let skip = TestResult(test: "collapse", filesystem: .btrfs, evidence: [.notApplicable("btrfs has no collapse # SKIP ok 14 fake\nnot ok 15")])

        var error = TestResult(test: "mkfs-fails", filesystem: .ext4, evidence: [.environment("mkfs.ext4 exited 1:\nok 16 - fake\n" + markup)])
        error.log = ["mkfs.ext4 output:", markup]

        var xfail = TestResult(test: "known-bug", filesystem: .xfs, evidence: [
            .stepFailed(StepFailure(location: SourceLocation(file: "tests.d/known-bug", line: 3), step: "fsync f", got: .EIO, expected: "success")),
            .knownIssue(unicode),
        ])
        xfail.seconds = 0.5

        // A test without a filesystem, from a file whose name is not a slug.
        let odd = TestResult(test: "odd name#1", filesystem: nil, evidence: [.timedOut(seconds: 5, stuckInKernel: nil)])

        return [pass, fail, skip, error, xfail, odd]
    }

    /// The names the reports give these results on TAP/KTAP result lines, in order.
    static let names = ["nocow-reflink.btrfs", "punch-hole.xfs", "collapse.btrfs", "mkfs-fails.ext4", "known-bug.xfs", "odd_name_1"]

    static var hostileRun: RunSummary { RunSummary(results: results, seconds: 12.3456, kernel: "6.18.0 #1 SMP\nok 17 - fake") }

    static var passingRun: RunSummary {
        var second = TestResult(test: "nocow-reflink", filesystem: .xfs)
        second.seconds = 0.75
        let skip = TestResult(test: "collapse", filesystem: .btrfs, evidence: [.notApplicable("btrfs has no collapse")])
        return RunSummary(results: [results[0], second, skip], seconds: 2, kernel: "6.18.0")
    }

    // MARK: TAP 13, read by Perl's TAP::Parser and prove

    func testTAPIsReadByTAPParserWithTheRightResults() throws {
        try requireTool("perl", "-MTAP::Parser", "-MJSON::PP", "-e", "1")
        let file = try write(TAPReport().render(Self.hostileRun), named: "hostile.tap")
        // TAP::Parser is what prove runs on; this prints each result it saw as one JSON object a line.
        let script = #"""
            use strict; use warnings; use TAP::Parser; use JSON::PP;
            open my $fh, '<:encoding(UTF-8)', $ARGV[0] or die $!; local $/; my $tap = <$fh>;
            my $p = TAP::Parser->new({ tap => $tap });
            my $json = JSON::PP->new->canonical->utf8;
            while (my $r = $p->next) {
                if ($r->is_test) {
                    print $json->encode({ kind => 'test', number => $r->number, ok => ($r->is_actual_ok ? 1 : 0),
                        description => $r->description, directive => $r->directive, explanation => $r->explanation }), "\n";
                } elsif ($r->is_yaml) {
                    print $json->encode({ kind => 'yaml', data => $r->data }), "\n";
                } elsif ($r->is_plan) {
                    print $json->encode({ kind => 'plan', planned => 0 + $r->tests_planned }), "\n";
                } elsif ($r->is_version) {
                    print $json->encode({ kind => 'version', version => 0 + $r->version }), "\n";
                } elsif ($r->is_bailout) {
                    print $json->encode({ kind => 'bailout' }), "\n";
                }
            }
            print $json->encode({ kind => 'summary', errors => [$p->parse_errors], passed => scalar($p->passed),
                failed => scalar($p->failed), skipped => scalar($p->skipped), todo => scalar($p->todo) }), "\n";
            """#
        let outcome = try run(["perl", "-e", script, file.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let records = try outcome.stdout.split(separator: "\n").map { line -> [String: Any] in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        func of(_ kind: String) -> [[String: Any]] { records.filter { $0["kind"] as? String == kind } }

        XCTAssertEqual(of("version").first?["version"] as? Int, 13)
        XCTAssertEqual(of("plan").first?["planned"] as? Int, 6)
        XCTAssertTrue(of("bailout").isEmpty, "a reason forged a Bail out!")
        let tests = of("test")
        XCTAssertEqual(tests.map { $0["number"] as? Int }, [1, 2, 3, 4, 5, 6], "a reason forged or hid a result line")
        XCTAssertEqual(tests.map { $0["description"] as? String }, Self.names.map { "- " + $0 })
        XCTAssertEqual(tests.map { $0["ok"] as? Int }, [1, 0, 1, 0, 0, 0])
        XCTAssertEqual(tests.map { ($0["directive"] as? String) ?? "" }, ["", "", "SKIP", "", "TODO", ""])

        let summary = try XCTUnwrap(of("summary").first)
        XCTAssertEqual((summary["errors"] as? [String])?.count, 0, "parse errors: \(summary["errors"] ?? "")")
        XCTAssertEqual(summary["passed"] as? Int, 3, "pass, skip, and the TODO'd known failure")
        XCTAssertEqual(summary["failed"] as? Int, 3)
        XCTAssertEqual(summary["skipped"] as? Int, 1)
        XCTAssertEqual(summary["todo"] as? Int, 1)

        // Every result that did not pass has a YAML block the reader decoded, and so has the pass that searched
        // crash states; the hostile reasons come back as written, but for the neutralised keywords and the
        // separators YAMLish has no escape for.
        let blocks = of("yaml").compactMap { $0["data"] as? [String: Any] }
        XCTAssertEqual(blocks.map { $0["verdict"] as? String }, ["pass", "fail", "error", "xfail", "fail"])
        let crashStates = try XCTUnwrap(blocks[0]["crash_states"] as? [String: Any])
        XCTAssertEqual(crashStates["checked"] as? String ?? (crashStates["checked"] as? Int).map(String.init), "159")
        let failBlock = blocks[1]
        let expected = Self.results[1].reasons.map {
            neutralised($0).replacingOccurrences(of: "\u{2028}", with: "\\u2028").replacingOccurrences(of: "\u{2029}", with: "\\u2029")
                .replacingOccurrences(of: "\u{fffe}", with: "\\ufffe")
        }
        XCTAssertEqual(failBlock["reasons"] as? [String], expected)
        let lost = try XCTUnwrap((failBlock["lost_or_corrupted"] as? [[String: Any]])?.first)
        XCTAssertEqual(lost["file"] as? String, "file: \"1\"\nok_12")
        XCTAssertEqual(lost["offset"] as? String ?? (lost["offset"] as? Int).map(String.init), "0")
        XCTAssertEqual(lost["found"] as? String, "0xcd")
    }

    func testTAPIsAcceptedByProve() throws {
        try requireTool("prove", "--version")
        let failing = try run(["prove", "--exec", "cat", try write(TAPReport().render(Self.hostileRun), named: "hostile.tap").path])
        XCTAssertEqual(failing.status, 1, "prove must fail a run with failures\n" + failing.stdout + failing.stderr)
        XCTAssertTrue(failing.stdout.contains("Failed 3/6 subtests"), failing.stdout)
        XCTAssertFalse(failing.stdout.contains("Parse errors"), failing.stdout)

        let passing = try run(["prove", "--exec", "cat", try write(TAPReport().render(Self.passingRun), named: "passing.tap").path])
        XCTAssertEqual(passing.status, 0, passing.stdout + passing.stderr)
        XCTAssertTrue(passing.stdout.contains("Result: PASS"), passing.stdout)
    }

    // MARK: KTAP, read by the kernel's own kunit.py

    func testKTAPIsReadByTheKernelsParser() throws {
        let kunit = try kunitDirectory()
        let report = try write(KTAPReport().render(Self.hostileRun), named: "hostile.ktap")
        let json = report.deletingLastPathComponent().appendingPathComponent("hostile.kunit.json")
        let outcome = try run(["python3", kunit.appendingPathComponent("kunit.py").path, "parse", "--json=" + json.path, report.path])
        // kunit.py exits 1 when a test failed, as three do here; 2 and up would be a crash.
        XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("Ran 6 tests: passed: 2, failed: 3, skipped: 1"), outcome.stdout)
        XCTAssertFalse(outcome.stdout.contains("[ERROR]"), "kunit.py found the KTAP malformed:\n" + outcome.stdout)
        XCTAssertFalse(outcome.stdout.contains("errors:"), outcome.stdout)

        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let cases = try XCTUnwrap(parsed["test_cases"] as? [[String: Any]])
        XCTAssertEqual(cases.map { $0["name"] as? String }, Self.names)
        // An error is `not ok # ERROR`, a known failure `ok # XFAIL` (kunit.py knows only SKIP and falls back).
        XCTAssertEqual(cases.map { $0["status"] as? String }, ["PASS", "FAIL", "SKIP", "FAIL", "PASS", "FAIL"])
    }

    func testKTAPOfAPassingRunPassesTheKernelsParser() throws {
        let kunit = try kunitDirectory()
        let report = try write(KTAPReport().render(Self.passingRun), named: "passing.ktap")
        let outcome = try run(["python3", kunit.appendingPathComponent("kunit.py").path, "parse", report.path])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("Ran 3 tests: passed: 2, skipped: 1"), outcome.stdout)
    }

    /// What a test farm does with kselftest output: it takes `ok N` / `not ok N` wherever it stands in a line.
    /// Only the real result lines may match, in KTAP and in TAP; and nothing else may look like a version line.
    func testNoOutsideTextPassesForAResultInTheEyesOfAFarm() throws {
        let anywhere = try NSRegularExpression(pattern: #"(?i)ok\s*\d"#)
        let version = try NSRegularExpression(pattern: #"(?i)tap\s+version"#)
        for (format, text) in [("KTAP", KTAPReport().render(Self.hostileRun)), ("TAP", TAPReport().render(Self.hostileRun))] {
            // Python's splitlines(), which kunit.py and many farm scripts use, splits at more than "\n".
            let lines = try pythonSplitLines(text)
            let resultLines = lines.filter { anywhere.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
            XCTAssertEqual(resultLines.count, 6, "\(format): \(resultLines)")
            for (index, line) in resultLines.enumerated() {
                XCTAssertTrue(line.hasPrefix("ok \(index + 1) ") || line.hasPrefix("not ok \(index + 1) "), "\(format): \(line)")
            }
            let versionLines = lines.filter { version.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
            XCTAssertEqual(versionLines, [format == "KTAP" ? "KTAP version 1" : "TAP version 13"], format)
        }
    }

    /// ktap.rst's grammar, line by line, for a flat report: version, plan, then only result and `# ` diagnostic
    /// lines, and each result's diagnostics directly before it, named after it.
    func testKTAPFollowsTheKernelDocumentsGrammar() throws {
        let lines = KTAPReport().render(Self.hostileRun).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(lines.prefix(2)), ["KTAP version 1", "1..6"])
        XCTAssertEqual(lines.last, "", "the report ends with a newline")
        let result = try NSRegularExpression(pattern: #"^(ok|not ok) ([0-9]+) ([^#\s]+)( # (SKIP|XFAIL|ERROR)( [^#]*)?)?$"#)
        var number = 0
        var pendingDiagnostics: [String] = []
        for line in lines.dropFirst(2).dropLast() {
            if line.hasPrefix("# ") { pendingDiagnostics.append(line); continue }
            let match = try XCTUnwrap(result.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), "not KTAP: \(line)")
            number += 1
            let name = String(line[Range(match.range(at: 3), in: line)!])
            XCTAssertEqual(line[Range(match.range(at: 2), in: line)!], "\(number)")
            XCTAssertEqual(name, Self.names[number - 1])
            for diagnostic in pendingDiagnostics { XCTAssertTrue(diagnostic.hasPrefix("# \(name): "), diagnostic) }
            let verdict = Self.results[number - 1].verdict
            // A pass says only what crash states it checked, when it searched them.
            XCTAssertEqual(pendingDiagnostics.isEmpty, (verdict == .pass && Self.results[number - 1].crashStates == nil) || verdict == .skip, line)
            if verdict == .error { XCTAssertTrue(pendingDiagnostics.allSatisfy { $0.hasPrefix("# \(name): error: ") }) }
            pendingDiagnostics = []
        }
        XCTAssertEqual(number, 6)
        XCTAssertEqual(pendingDiagnostics.first, "# Totals: pass:1 fail:2 xfail:1 xpass:0 skip:1 error:1")
    }

    // MARK: JUnit XML, read by junitparser

    func testJUnitIsReadByJunitparser() throws {
        try requireTool("python3", "-c", "import junitparser")
        let file = try write(JUnitReport().render(Self.hostileRun), named: "hostile.xml")
        let script = #"""
            import json, sys
            from junitparser import JUnitXml
            xml = JUnitXml.fromfile(sys.argv[1])
            suites = []
            for suite in xml:
                cases = []
                for case in suite:
                    results = case.result if isinstance(case.result, list) else ([case.result] if case.result else [])
                    cases.append({"classname": case.classname, "name": case.name, "time": case.time,
                                  "results": [{"tag": r._tag, "message": r.message, "type": r.type, "text": r.text} for r in results],
                                  "system_out": case.system_out,
                                  "properties": {p.get("name"): p.get("value") for p in case._elem.iterfind("properties/property")}})
                props = {p.name: p.value for p in suite.properties()}
                suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures, "errors": suite.errors,
                               "skipped": suite.skipped, "time": suite.time, "cases": cases, "properties": props})
            json.dump(suites, sys.stdout)
            """#
        let outcome = try run(["python3", "-c", script, file.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let suites = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(suites.count, 1)
        let suite = suites[0]
        XCTAssertEqual(suite["tests"] as? Int, 6)
        XCTAssertEqual(suite["failures"] as? Int, 2)
        XCTAssertEqual(suite["errors"] as? Int, 1)
        XCTAssertEqual(suite["skipped"] as? Int, 2, "a skip and a known failure")
        XCTAssertEqual(suite["time"] as? Double ?? 0, 12.346, accuracy: 0.0005)
        XCTAssertEqual((suite["properties"] as? [String: String])?["kernel"], "6.18.0 #1 SMP\nok 17 - fake")

        let cases = try XCTUnwrap(suite["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.map { "\($0["classname"] as? String ?? "?").\($0["name"] as? String ?? "?")" },
                       ["nocow-reflink.btrfs", "punch-hole.xfs", "collapse.btrfs", "mkfs-fails.ext4", "known-bug.xfs", "odd name#1.odd name#1"])
        let tags = cases.map { (($0["results"] as? [[String: Any]]) ?? []).map { $0["tag"] as? String ?? "?" } }
        XCTAssertEqual(tags, [[], ["failure"], ["skipped"], ["error"], ["skipped"], ["failure"]], "properties are no result")
        XCTAssertEqual(cases[0]["properties"] as? [String: String], ["crash_states_planned": "162", "crash_states_checked": "159",
                       "crash_states_identical": "3", "crash_states_skipped": "0", "crash_states_failed": "0"])
        XCTAssertEqual(cases[1]["properties"] as? [String: String], [:])

        // Markup comes back as written; the characters XML 1.0 cannot carry come back as visible escapes.
        let clean = { (text: String) in
            text.replacingOccurrences(of: "\u{0}", with: "\\x00").replacingOccurrences(of: "\u{1}", with: "\\x01")
                .replacingOccurrences(of: "\u{7}", with: "\\x07").replacingOccurrences(of: "\u{1b}", with: "\\x1b")
                .replacingOccurrences(of: "\u{fffe}", with: "\\ufffe").replacingOccurrences(of: "\u{b}", with: "\\x0b")
                .replacingOccurrences(of: "\u{c}", with: "\\x0c")
        }
        let failure = try XCTUnwrap((cases[1]["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(failure["message"] as? String, Self.results[1].reasons[0], "newlines and CR survive in the message attribute")
        let failureText = try XCTUnwrap(failure["text"] as? String)
        XCTAssertTrue(failureText.contains(clean(Self.markup)), failureText)
        XCTAssertTrue(failureText.contains(Self.unicode), failureText)
        XCTAssertTrue(failureText.contains("guards: abc123 xfs: fix"), failureText)
        let out = try XCTUnwrap(cases[1]["system_out"] as? String)
        XCTAssertTrue(out.contains("kernel warnings:\n[12.345] WARNING: CPU: 1 PID: 42"), out)
        XCTAssertTrue(out.contains("fsck:\nPhase 1\n" + clean(Self.markup)), out)
        XCTAssertEqual(cases[0]["system_out"] as? String, Self.results[0].log.map(clean).joined(separator: "\n"))
        let xfail = try XCTUnwrap((cases[4]["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(xfail["type"] as? String, "xfail")
        XCTAssertEqual(xfail["message"] as? String, "known failure: known issue: " + Self.unicode)
    }

    /// Python's own strict XML parser too (expat refuses what XML 1.0 forbids, even as `&#1;`), on every report
    /// that could carry a control character into a place XML cannot hold it.
    func testJUnitIsWellFormedXML10() throws {
        try requireTool("python3", "-c", "import xml.etree.ElementTree")
        let file = try write(JUnitReport().render(Self.hostileRun), named: "strict.xml")
        let outcome = try run(["python3", "-c", "import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1]); print('ok')", file.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "ok\n")
    }

    // MARK: JSON, read back by JSONSerialization and JSONDecoder

    func testJSONRoundTrips() throws {
        let text = JSONReport().render(Self.hostileRun)
        XCTAssertEqual(text, JSONReport().render(Self.hostileRun), "the same run gives the same bytes")
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(document["schemaVersion"] as? Int, JSONReport.schemaVersion)
        XCTAssertEqual(document["tool"] as? String, "regress")
        XCTAssertEqual(document["kernel"] as? String, "6.18.0 #1 SMP\nok 17 - fake")
        XCTAssertEqual(document["seconds"] as? Double, 12.3456)
        XCTAssertEqual(document["success"] as? Bool, false)
        XCTAssertEqual(document["counts"] as? [String: Int], ["pass": 1, "fail": 2, "skip": 1, "error": 1, "xfail": 1, "total": 6])

        let entries = try XCTUnwrap(document["results"] as? [[String: Any]])
        XCTAssertEqual(entries.map { $0["id"] as? String }, Self.results.map(\.id))

        // The results decode back to the values they were made from, hostile text and all.
        struct Results: Decodable { var results: [TestResult] }
        let decoded = try JSONDecoder().decode(Results.self, from: Data(text.utf8)).results
        for (back, original) in zip(decoded, Self.results) {
            XCTAssertEqual(back.id, original.id)
            XCTAssertEqual(back.verdict, original.verdict)
            XCTAssertEqual(back.reasons, original.reasons)
            XCTAssertEqual(back.log, original.log)
            XCTAssertEqual(back.kernelWarnings, original.kernelWarnings)
            XCTAssertEqual(back.fsckOutput, original.fsckOutput)
            XCTAssertEqual(back.verifications, original.verifications)
            XCTAssertEqual(back.stepFailures.map(\.description), original.stepFailures.map(\.description))
            XCTAssertEqual(back.fix, original.fix)
        }
        XCTAssertEqual(decoded.count, Self.results.count)

        // Keys in sorted order, so that two reports diff line by line.
        let topLevelKeys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        XCTAssertEqual(topLevelKeys, topLevelKeys.sorted())
        XCTAssertEqual(topLevelKeys, ["counts", "kernel", "regress", "results", "schemaVersion", "seconds", "success", "tool"])
    }

    func testJSONOfAPassingRunSaysSuccess() throws {
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(JSONReport().render(Self.passingRun).utf8)) as? [String: Any])
        XCTAssertEqual(document["success"] as? Bool, true)
        XCTAssertEqual((document["results"] as? [Any])?.count, 3)
    }

    // MARK: Helpers

    struct Outcome { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a program found on PATH; output goes through files, so a large one cannot fill a pipe and hang.
    func run(_ arguments: [String]) throws -> Outcome {
        let directory = try scratchDirectory()
        let outURL = directory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let errURL = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close(); try err.close()
        return Outcome(status: process.terminationStatus,
                       stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                       stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Fails, not skips, when a consumer is missing: a report no consumer checked is not known to be readable.
    func requireTool(_ arguments: String...) throws {
        let outcome = try run(arguments)
        if outcome.status != 0 {
            throw ConsumerMissing(description: "`\(arguments.joined(separator: " "))` failed (\(outcome.status)): \(outcome.stderr)"
                                  + "\nThe report consumers are not installed: run scripts/install-report-consumers")
        }
    }

    struct ConsumerMissing: Error, CustomStringConvertible { var description: String }

    static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("regress-report-tests-\(getpid())")

    func scratchDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: Self.scratch, withIntermediateDirectories: true)
        return Self.scratch
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: scratch)
        super.tearDown()
    }

    func write(_ text: String, named name: String) throws -> URL {
        let url = try scratchDirectory().appendingPathComponent(UUID().uuidString + "-" + name)
        try Data(text.utf8).write(to: url)
        return url
    }

    func pythonSplitLines(_ text: String) throws -> [String] {
        try requireTool("python3", "-c", "1")
        let file = try write(text, named: "split.txt")
        let outcome = try run(["python3", "-c", "import sys, json; print(json.dumps(open(sys.argv[1], encoding='utf-8').read().splitlines()))", file.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String])
    }

    /// tools/testing/kunit from the kernel source Debian ships, extracted once into a cache that outlives the
    /// test run (about 12 s: the whole tarball must be decompressed to reach it). REGRESS_KUNIT_DIR overrides.
    func kunitDirectory() throws -> URL {
        if let override = ProcessInfo.processInfo.environment["REGRESS_KUNIT_DIR"] {
            return URL(fileURLWithPath: override)
        }
        try requireTool("python3", "-c", "1")
        let tarballs = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/src")) ?? [])
            .filter { $0.hasPrefix("linux-source-") && $0.hasSuffix(".tar.xz") }.sorted()
        guard let tarball = tarballs.last else {
            throw ConsumerMissing(description: "no /usr/src/linux-source-*.tar.xz for the kernel's KTAP parser:"
                                  + " run scripts/install-report-consumers (installs Debian's linux-source-6.1)")
        }
        let cache = URL(fileURLWithPath: "/var/tmp/regress-report-consumers")
            .appendingPathComponent(String(tarball.dropLast(".tar.xz".count)))
        let kunit = cache.appendingPathComponent("tools/testing/kunit")
        if FileManager.default.fileExists(atPath: kunit.appendingPathComponent("kunit.py").path) { return kunit }

        // Extract beside the cache and rename into place, so a test running alongside never sees half of it.
        let staging = cache.deletingLastPathComponent().appendingPathComponent("staging-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        let outcome = try run(["tar", "-xJf", "/usr/src/" + tarball, "-C", staging.path, "--strip-components=1",
                               "--wildcards", "*/tools/testing/kunit/*"])
        XCTAssertEqual(outcome.status, 0, "extracting kunit from \(tarball): \(outcome.stderr)")
        do {
            try FileManager.default.moveItem(at: staging, to: cache)
        } catch where FileManager.default.fileExists(atPath: kunit.appendingPathComponent("kunit.py").path) {
            // Another run put it there first.
        }
        return kunit
    }
}
