import Foundation
import XCTest
import RegressRunner
import RegressCore

/// What a test farm does with regress, with the farms' own readers: a run's KCIDB document validated by
/// kcidb-io (KCIDB's schema package), shards of a run merged into the report of the unsharded run, and LAVA
/// jobs and the test definition validated by lava_common (LAVA's schemas). The readers are installed by
/// scripts/install-report-consumers; a missing one fails the test.
final class FarmIntegrationTests: IntegrationTestCase {
    /// The venv's python with kcidb-io (scripts/install-report-consumers), or REGRESS_KCIDB_PYTHON.
    static let kcidbPython = ProcessInfo.processInfo.environment["REGRESS_KCIDB_PYTHON"] ?? "/var/tmp/regress-report-consumers/venv/bin/python"

    // MARK: KCIDB

    func testAFailingRunsKCIDBIsValidAndCarriesTheFailureAndItsLog() throws {
        _ = try define("passes", """
        summary: a write that reads back
        filesystems: ext4
        size: 64m
        steps:
        a: pwrite 0 64k
        verify
        """)
        _ = try define("fails", """
        summary: a step that expects an errno it does not get
        filesystems: ext4
        size: 64m
        steps:
        a: pwrite 0 4k expect EINVAL
        """)
        _ = try define("known", """
        summary: the same, listed as a known issue
        filesystems: ext4
        size: 64m
        steps:
        a: pwrite 0 4k expect ENOSPC
        """)
        let known = directory + "/known-issues"
        try Data("known.ext4 lore.kernel.org/r/12345\n".utf8).write(to: URL(fileURLWithPath: known))
        let kcidb = directory + "/run.kcidb.json"
        let outcome = try regress(["run", "--tests-dir", testsDirectory, "--workdir", workDirectory, "--results", directory + "/results",
                                   "-q", "--known-issues", known, "--format", "kcidb", "--output", kcidb,
                                   "--kcidb-origin", "farm_test", "--kcidb-checkout-id", "farm_test:checkout-1"])
        XCTAssertEqual(outcome.status, 1, "a failed test: exit status 1. \(outcome.standardError)")

        let summary = try validateKCIDB(kcidb)
        XCTAssertEqual(summary["status"] as? [String: String],
                       ["regress.fails.ext4": "FAIL", "regress.known.ext4": "FAIL", "regress.passes.ext4": "PASS"])
        XCTAssertEqual(summary["incidents"] as? [String], ["regress.known.ext4"], "the known failure is linked to its issue")
        XCTAssertEqual(summary["checkout_ids"] as? [String], ["farm_test:checkout-1"])
        let excerpts = try XCTUnwrap(summary["log_excerpt"] as? [String: String])
        let failing = try XCTUnwrap(excerpts["regress.fails.ext4"])
        XCTAssertTrue(failing.hasPrefix("- "), failing)
        XCTAssertTrue(failing.contains("expected EINVAL"), "the reason: \(failing)")
        XCTAssertTrue(failing.contains("mkfs.ext4"), "the step log after the reasons: \(failing)")
        let starts = try XCTUnwrap(summary["start_time"] as? [String: String])
        XCTAssertEqual(starts.count, 3, "every test has its start time")
    }

    /// Results no real run gives at once: every verdict, text with NUL, control characters, line separators and
    /// markup, a name KCIDB's path cannot hold, a NaN time, a log far beyond the excerpt's limit, no start time,
    /// no origin. kcidb-io must still accept the document.
    func testKCIDBOfHostileResultsIsStillValid() throws {
        let hostile = "disk full\u{0}\nok 7 - fake\r\n\u{1b}[31m\u{7f}\u{85}\u{2028}\u{fffe} ]]> <x> & 日本語 😀"
        var results: [TestResult] = []
        for (index, verdict) in [Verdict.pass, .fail, .skip, .error, .xfail].enumerated() {
            var result = TestResult(test: "case-\(index) \(hostile)", filesystem: index == 4 ? nil : FilesystemKind.allCases[index % 3],
                                    evidence: Self.evidence(for: verdict, reason: hostile + String(repeating: "é", count: 20_000)))
            result.log = (0..<3000).map { "\($0) \(hostile)" }
            result.summary = hostile
            result.seconds = index == 1 ? .nan : 0.5
            if index > 0 { result.startTime = "2026-12-02T04:00:0\(index).000Z" }
            if index > 1 { result.origin = ResultOrigin(kernel: "Linux 6.18.44 \(hostile)", hostname: hostile, architecture: "x86-64 \(hostile)", shard: "1/2", toolVersions: ["mkfs.xfs": hostile]) }
            // Crash states on every verdict: the test's `number` is allowed with all but SKIP, which gets none.
            result.crashStates = CrashStateSummary(planned: 162, checked: 159, identical: 3, skipped: 0, failed: index == 1 ? 2 : 0)
            results.append(result)
        }
        var run = RunSummary(results: results, seconds: .infinity, kernel: "Linux \(hostile)")
        run.farm.origin = "hostile_lab"
        let path = directory + "/hostile.kcidb.json"
        try Data(KCIDBReport().render(run).utf8).write(to: URL(fileURLWithPath: path))
        let summary = try validateKCIDB(path)
        XCTAssertEqual((summary["status"] as? [String: String])?.count, 5)
        let incidents = try XCTUnwrap(summary["incidents"] as? [String])
        XCTAssertEqual(incidents.count, 1)
        XCTAssertTrue(incidents[0].hasPrefix("regress.case-4_disk_full__ok_7_-_fake"), "the known failure's path: \(incidents)")
    }

    /// kcidb-io's own validation of the file (exactly schema 5.3, and as its latest version reads it), then
    /// what it holds; a document that breaks the schema must be refused, or the validation proves nothing.
    func validateKCIDB(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let script = """
        import json, sys, jsonschema, kcidb_io
        data = json.load(open(sys.argv[1], encoding="utf-8"))
        kcidb_io.schema.V5_3.validate_exactly(data)
        kcidb_io.schema.LATEST.validate(data)
        broken = json.loads(json.dumps(data)); broken["tests"][0]["status"] = "XFAIL"
        assert not kcidb_io.schema.LATEST.is_valid(broken), "kcidb-io accepted a status KCIDB does not have"
        tests = {t["id"]: t for t in data["tests"]}
        print(json.dumps({
            "status": {t["path"]: t["status"] for t in data["tests"]},
            "log_excerpt": {t["path"]: t.get("log_excerpt", "") for t in data["tests"]},
            "start_time": {t["path"]: t["start_time"] for t in data["tests"] if "start_time" in t},
            "incidents": sorted(tests[i["test_id"]]["path"] for i in data.get("incidents", [])),
            "checkout_ids": sorted({b["checkout_id"] for b in data.get("builds", [])}),
        }))
        """
        let outcome = try runProgram([Self.kcidbPython, "-c", script, path])
        XCTAssertEqual(outcome.status, 0, "kcidb-io refused \(path): \(outcome.standardError)"
                       + "\n(kcidb-io is installed by scripts/install-report-consumers)", file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any], file: file, line: line)
    }

    // MARK: shards

    static let formats = ["human", "tap", "ktap", "junit", "json", "kcidb"]

    func testThreeShardsMergeIntoTheReportOfTheUnshardedRun() throws {
        // The quick tests on ext4: a selection that takes seconds, with passes and skips.
        let selection = ["--tests-dir", Self.packageRoot + "/tests.d", "-g", "quick", "--fs", "ext4", "-q",
                         "--workdir", workDirectory, "--results", directory + "/results"]
        func reports(_ name: String) -> [String] { Self.formats.flatMap { ["--report", "\($0)=\(directory)/\(name).\($0)"] } }

        let whole = try regress(["run"] + selection + reports("whole"))
        XCTAssertEqual(whole.status, 0, whole.standardError)
        var shards: [String] = []
        for index in 1...3 {
            let shard = try regress(["run"] + selection + ["--shard", "\(index)/3", "--report", "json=\(directory)/shard\(index).json"])
            XCTAssertTrue([0, 125].contains(shard.status), "shard \(index)/3: \(shard.standardError)")
            shards.append("\(directory)/shard\(index).json")
        }
        let merge = try regress(["merge"] + shards + ["--format", "json", "--output", directory + "/merged.json"] + reports("merged"))
        XCTAssertEqual(merge.status, 0, merge.standardError)
        XCTAssertEqual(merge.standardError, "")

        for format in Self.formats {
            let unsharded = try String(contentsOfFile: "\(directory)/whole.\(format)", encoding: .utf8)
            let merged = try String(contentsOfFile: "\(directory)/merged.\(format)", encoding: .utf8)
            XCTAssertFalse(unsharded.isEmpty)
            XCTAssertEqual(try Self.comparable(merged, format: format), try Self.comparable(unsharded, format: format),
                           "\(format): the merged report differs from the unsharded run's")
        }
        _ = try validateKCIDB(directory + "/merged.kcidb")

        // A report given twice overlaps itself: refused with one line, and nothing written.
        let twice = try regress(["merge", shards[0], shards[0], "--output", directory + "/twice.json", "--format", "json"])
        XCTAssertEqual(twice.status, 2)
        XCTAssertEqual(twice.standardError.split(separator: "\n").count, 1, twice.standardError)
        XCTAssertTrue(twice.standardError.contains("is also in \(shards[0])"), twice.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/twice.json"))

        // A shard of another kernel: refused, naming both kernels, unless --allow-mixed-kernels.
        let kernel = try XCTUnwrap(Self.kernel(ofReport: shards[1]))
        let other = try String(contentsOfFile: shards[1], encoding: .utf8).replacingOccurrences(of: "\"\(kernel)\"", with: "\"Linux 0.0.1-other\"")
        try Data(other.utf8).write(to: URL(fileURLWithPath: directory + "/other-kernel.json"))
        let mixed = try regress(["merge", shards[0], directory + "/other-kernel.json", shards[2], "--output", directory + "/mixed.json"])
        XCTAssertEqual(mixed.status, 2)
        XCTAssertEqual(mixed.standardError.split(separator: "\n").count, 1, mixed.standardError)
        XCTAssertTrue(mixed.standardError.contains(kernel) && mixed.standardError.contains("Linux 0.0.1-other"), mixed.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/mixed.json"))
        let allowed = try regress(["merge", shards[0], directory + "/other-kernel.json", shards[2], "--allow-mixed-kernels",
                                   "--format", "json", "--output", directory + "/mixed.json"])
        XCTAssertEqual(allowed.status, 0, allowed.standardError)
    }

    static func kernel(ofReport path: String) throws -> String? {
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        return document?["kernel"] as? String
    }

    /// A report with what differs between two runs of the same selection taken out: times, timestamps, each
    /// result's shard, and what the step logs record of one particular run (loop device numbers, work
    /// directories, kernel log times, filesystem UUIDs). Verdicts, reasons, names, order and counts stay.
    static func comparable(_ text: String, format: String) throws -> String {
        switch format {
        case "json", "kcidb":
            let document = try JSONSerialization.jsonObject(with: Data(text.utf8))
            let cleaned = strip(document, keys: ["seconds", "startTime", "shard", "log", "resultsDirectory", "duration", "start_time", "log_excerpt"])
            let data = try JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys, .prettyPrinted])
            return timesOut(String(decoding: data, as: UTF8.self))
        case "junit":
            return timesOut(text.replacingOccurrences(of: #"<system-out>[^<]*</system-out>"#, with: "<system-out/>", options: .regularExpression))
        default:
            return timesOut(text)
        }
    }

    private static func strip(_ value: Any, keys: Set<String>) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { !keys.contains($0.key) }.mapValues { strip($0, keys: keys) }
        }
        if let array = value as? [Any] { return array.map { strip($0, keys: keys) } }
        return value
    }

    private static func timesOut(_ text: String) -> String {
        var text = text
        for (pattern, replacement) in [(#"\d{4}-\d\d-\d\dT\d\d[:-]\d\d[:-]\d\d(\.\d+)?Z?"#, "TIMESTAMP"),
                                       (#"\b\d+(\.\d+)?s\b"#, "Ns"),
                                       (#"(seconds: |time=")\d+(\.\d+)?"#, "$1N")] {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return text
    }

    // MARK: LAVA

    func testLAVAJobsAndTheTestDefinitionPassLAVAsSchemas() throws {
        let variants: [[String]] = [
            ["--kernel", "https://lab.example/bzImage", "--repository", "https://git.example/regress.git"],
            ["--kernel", "https://lab.example/bzImage", "--rootfs", "https://lab.example/rootfs.ext4.xz", "--repository",
             "https://git.example/regress.git", "--revision", "main", "--shard", "2/3", "--device-type", "qemu-x86_64",
             "nocow-reflink", "punch-next-to-hole-fsync"],
            ["--kernel", "file:///srv/images/bzImage", "--rootfs", "file:///srv/images/rootfs.img", "--repository",
             "https://git.example/regress.git", "-g", "quick", "--timeout", "5"],
            ["--kernel", "file:///boot/vmlinuz", "--initrd", "file:///boot/initrd.img", "--rootfs", "file:///srv/rootfs.img",
             "--append", "console=ttyS0 root=/dev/sda rw init=/bin/bash", "--prompt", "bash-5.2#", "--no-login",
             "--repository", "file:///srv/git/regress", "--shard", "1/1"],
            ["--kernel", "https://lab.example/bzImage", "--rootfs", "https://lab.example/debian.ext4.xz",
             "--package", "https://lab.example/regress-0.1.0-x86_64.tar.xz", "--shard", "2/3", "nocow-reflink"],
        ]
        var jobs: [String] = []
        for (index, arguments) in variants.enumerated() {
            let path = "\(directory)/job\(index).yaml"
            let outcome = try runProgram([try XCTUnwrap(Self.regressExecutable), "lava"] + arguments, standardOutput: path)
            XCTAssertEqual(outcome.status, 0, outcome.standardError)
            jobs.append(path)
        }
        // Validated with LAVA's own schemas; a broken job and a broken definition must be refused.
        let script = """
        import sys, yaml
        from lava_common.schemas import validate
        from lava_common.schemas.test.testdef import validate as validate_testdef
        for path in sys.argv[2:]:
            validate(yaml.safe_load(open(path)))
        job = yaml.safe_load(open(sys.argv[2]))
        job["actions"][0]["deploy"]["to"] = "nowhere"
        try:
            validate(job)
            sys.exit("lava_common accepted a deploy to nowhere")
        except Exception:
            pass
        definition = yaml.safe_load(open(sys.argv[1]))
        validate_testdef(definition)
        del definition["metadata"]["format"]
        try:
            validate_testdef(definition)
            sys.exit("lava_common accepted a test definition without its format")
        except Exception:
            pass
        print("valid")
        """
        let outcome = try runProgram(["/usr/bin/python3", "-c", script, Self.packageRoot + "/lava/regress.yaml"] + jobs)
        XCTAssertEqual(outcome.status, 0, "LAVA's schema refused a job or the definition: \(outcome.standardError)"
                       + "\n(lava-common is installed by scripts/install-report-consumers)")
        XCTAssertEqual(outcome.standardOutput, "valid\n")

        // The package's job deploys it as the rootfs's overlay and builds nothing: no clone, no install.
        let packaged = try String(contentsOfFile: try XCTUnwrap(jobs.last), encoding: .utf8)
        XCTAssertTrue(packaged.contains("        overlays:\n          regress:\n            url: \"https://lab.example/regress-0.1.0-x86_64.tar.xz\"\n"), packaged)
        XCTAssertTrue(packaged.contains("- \"/opt/regress/lava/regress-lava.sh run 2/3 auto nocow-reflink\""), packaged)
        for built in ["from: git", "install", "swift", "scripts/"] { XCTAssertFalse(packaged.contains(built), "\(built) in\n\(packaged)") }
        let version = try runProgram([try XCTUnwrap(Self.regressExecutable), "--version"]).standardOutput
        XCTAssertTrue(packaged.contains("  regress.commit: \"\(version.split(separator: " ").last!.dropLast(2))\"\n"), packaged)

        let bad = try regress(["lava", "--kernel", "bzImage", "--repository", "https://git.example/regress.git"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.standardError.contains("--kernel 'bzImage': not a URL"), bad.standardError)
        let noRootfs = try regress(["lava", "--kernel", "https://lab.example/bzImage", "--package", "https://lab.example/regress.tar.xz"])
        XCTAssertEqual(noRootfs.status, 2)
        XCTAssertTrue(noRootfs.standardError.contains("--package needs --rootfs"), noRootfs.standardError)
    }

    /// `regress --version` names the commit of the checkout it was built in (a plain `swift build`, as this
    /// test's), and the reports of a run name the same.
    func testVersionNamesTheCommitTheBinaryWasBuiltFrom() throws {
        let printed = try runProgram([try XCTUnwrap(Self.regressExecutable), "--version"])
        XCTAssertEqual(printed.status, 0)
        let top = try runProgram(["/usr/bin/env", "git", "-C", Self.packageRoot, "rev-parse", "--show-toplevel"])
        let head = try runProgram(["/usr/bin/env", "git", "-C", Self.packageRoot, "rev-parse", "HEAD"])
        let realRoot = URL(fileURLWithPath: Self.packageRoot).resolvingSymlinksInPath().path
        guard top.status == 0, head.status == 0, top.standardOutput.trimmingCharacters(in: .newlines) == realRoot else {
            XCTAssertTrue(printed.standardOutput.hasSuffix("(commit unknown)\n"), "outside a git clone: \(printed.standardOutput)")
            return
        }
        let commit = head.standardOutput.trimmingCharacters(in: .newlines)
        XCTAssertTrue(printed.standardOutput.hasPrefix("regress \(RegressVersion.number) (commit \(commit)"), printed.standardOutput)
    }

    /// The helper LAVA runs reads regress's KTAP report and reports each case as LAVA wants it.
    func testTheLAVAHelperReportsEachCaseOfAKTAPReport() throws {
        var results = [TestResult(test: "passes", filesystem: .btrfs)]
        for (name, verdict) in [("fails", Verdict.fail), ("skips", .skip), ("known", .xfail), ("broke", .error)] {
            results.append(TestResult(test: name, filesystem: .xfs, evidence: Self.evidence(for: verdict, reason: "\(name) because\nok 9 forged # SKIP")))
        }
        let ktap = directory + "/run.ktap"
        try Data(KTAPReport().render(RunSummary(results: results, seconds: 1, kernel: "Linux 6.18.44")).utf8).write(to: URL(fileURLWithPath: ktap))
        let outcome = try runProgram(["/bin/sh", Self.packageRoot + "/lava/regress-lava.sh", "report", ktap],
                                     environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        XCTAssertEqual(outcome.standardOutput.split(separator: "\n").filter { $0.hasPrefix("lava-test-case ") }, [
            "lava-test-case passes.btrfs --result pass",
            "lava-test-case fails.xfs --result fail",
            "lava-test-case skips.xfs --result skip",
            "lava-test-case known.xfs --result pass",
            "lava-test-case broke.xfs --result fail",
        ])
    }

    // MARK: helpers

    /// Evidence that decides `verdict`, with `reason` in the reasons it gives.
    static func evidence(for verdict: Verdict, reason: String) -> [Evidence] {
        let failure = Evidence.stepFailed(StepFailure(location: SourceLocation(file: "tests.d/x", line: 1), step: reason, got: .EIO, expected: "success"))
        switch verdict {
        case .pass: return []
        case .fail: return [failure]
        case .skip: return [.notApplicable(reason)]
        case .error: return [.environment(reason)]
        case .xfail: return [failure, .knownIssue(reason)]
        }
    }

    struct ProgramOutcome { let status: Int32; let standardOutput: String; let standardError: String }

    /// Runs a program with its output in files (a large one cannot fill a pipe and hang), from this test's directory.
    func runProgram(_ arguments: [String], standardOutput path: String? = nil, environment: [String: String]? = nil) throws -> ProgramOutcome {
        let outPath = path ?? directory + "/stdout-\(UUID().uuidString)", errPath = directory + "/stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath)), err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close(); try err.close()
        return ProgramOutcome(status: process.terminationStatus,
                              standardOutput: try String(contentsOfFile: outPath, encoding: .utf8),
                              standardError: try String(contentsOfFile: errPath, encoding: .utf8))
    }
}
