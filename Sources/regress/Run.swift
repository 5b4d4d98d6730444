import ArgumentParser
import Foundation
import RegressRunner

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run tests on fresh loop devices and report their verdicts.",
        discussion: "With no test names, runs every test in tests.d on every filesystem it applies to."
    )

    @OptionGroup var location: TestsLocation

    @Argument(help: "Tests to run (names in tests.d, or paths to test files).")
    var tests: [String] = []

    @Option(help: "Report format: human, tap, ktap, junit or json.")
    var format: String = "human"

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report to a file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(name: .customLong("workdir"), help: ArgumentHelp("Where images and mount points are made (a private directory per test).", valueName: "dir"))
    var workDirectory: String = "/var/tmp/regress"

    @Option(name: .customLong("fs"), help: ArgumentHelp("Filesystems to run on, comma-separated (btrfs,xfs,ext4).", valueName: "list"))
    var filesystems: String?

    @Flag(help: "Put the emulated disk under every test, not only those with power cuts or faults.")
    var alwaysEmulate = false

    func run() throws {
        guard let reportFormat = ReportFormat(rawValue: format) else {
            fail("--format: unknown format '\(format)' (known: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var planner = Planner()
        if let filesystems {
            planner.filesystems = try filesystems.split(separator: ",").map { name in
                guard let fs = FilesystemKind(rawValue: String(name)) else { fail("--fs: unknown filesystem '\(name)'") }
                return fs
            }
        }
        let definitions = loadTests(location.library(), names: tests)
        let cases = planner.plan(definitions)
        var options = TestExecution.Options()
        options.workDirectory = workDirectory
        options.alwaysEmulate = alwaysEmulate

        let started = Date()
        var results: [TestResult] = []
        for testCase in cases {
            results.append(TestExecution(testCase, options: options).run())
        }
        let run = RunSummary(results: results, seconds: Date().timeIntervalSince(started), kernel: kernelRelease())
        let report = reportFormat.render(run)
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: report.data(using: .utf8)) else {
                fail("\(output): cannot write the report")
            }
        } else {
            FileHandle.standardOutput.write(report.data(using: .utf8)!)
        }
        throw ExitCode(exitStatus(results))
    }
}

/// 0 passed, 1 a failure, 125 nothing could run (all skipped or broken), as git bisect run reads it.
func exitStatus(_ results: [TestResult]) -> Int32 {
    if results.contains(where: { $0.verdict == .fail }) { return ExitStatus.failed }
    if results.contains(where: { $0.verdict == .error }) { return ExitStatus.couldNotRun }
    if !results.isEmpty && results.allSatisfy({ $0.verdict == .skip }) { return ExitStatus.couldNotRun }
    return ExitStatus.passed
}

func kernelRelease() -> String {
    var uts = utsname()
    uname(&uts)
    return "Linux " + withUnsafeBytes(of: uts.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
}
