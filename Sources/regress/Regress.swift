import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressRunner
import RegressCore

@main
struct Regress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regress",
        abstract: "Run Linux filesystem bug reproducers as regression tests on real block devices.",
        discussion: """
        Each test in tests.d is a reproducer: mkfs and mount options, then steps written in xfs_io's command \
        syntax that regress runs as direct syscalls on a loop device it makes itself. regress knows what every \
        file must contain and reports the errno a step got and the byte ranges lost.

        Exit status: 0 all passed (or skipped), 1 a test failed, 2 bad usage or a bad test file, \
        125 nothing could run (as `git bisect run` expects for "cannot test this commit").
        """,
        version: RegressVersion.thisBuild.description,
        subcommands: [Run.self, List.self, Show.self, Import.self, Explore.self, Merge.self, Lava.self, CleanupCommand.self, RunCase.self],
        defaultSubcommand: nil
    )

    /// `--random` alone picks a seed, `--crash-states` alone takes its default (ArgumentParser has no option with an optional value).
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let index = arguments.firstIndex(of: "--random"),
           index + 1 >= arguments.count || arguments[index + 1].hasPrefix("-") || UInt64(arguments[index + 1]) == nil {
            arguments[index] = "--random=\(UInt64.random(in: 1...999_999))"
        }
        // `--crash-states` alone takes the default number of random subsets; a value needs `=N`.
        arguments = arguments.map { $0 == "--crash-states" ? "--crash-states=\(Run.defaultCrashStateSubsets)" : $0 }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                // One line, as for every other bad input; --help has the usage.
                let text = message(for: error).split(separator: "\n").first.map(String.init) ?? "bad usage"
                StandardStream.error.write(("regress: \(text) (see --help)\n").data(using: .utf8)!)
                Glibc.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

extension RegressVersion {
    /// This binary: the source's version and the commit Plugins/BuildCommit recorded when it was built.
    static let thisBuild = RegressVersion(commit: buildCommit)
}

/// Exit statuses, one meaning each.
enum ExitStatus {
    static let passed: Int32 = 0
    static let failed: Int32 = 1
    static let usage: Int32 = 2
    static let couldNotRun: Int32 = 125
}

/// Where tests live unless --tests-dir says: ./tests.d, then the tests.d of the checkout the binary was built in.
struct TestsLocation: ParsableArguments {
    @Option(name: .customLong("tests-dir"), help: ArgumentHelp("The directory of test files.", valueName: "dir"))
    var testsDirectory: String?

    func library() -> TestLibrary {
        // Absolute: the results directory is found beside it (a relative `tests.d` once gave `/results`).
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardized.path }
        if let testsDirectory { return TestLibrary(directory: absolute(testsDirectory)) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["REGRESS_TESTS_DIR"] { return TestLibrary(directory: absolute(fromEnvironment)) }
        var candidates = [FileManager.default.currentDirectoryPath + "/tests.d"]
        // .build/<config>/regress → the checkout's tests.d
        // The binary itself, not argv[0]: run from PATH, argv[0] is just "regress".
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                             ?? CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../../../tests.d").standardized.path)
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../share/regress/tests.d").standardized.path)
        // The package (scripts/package): /opt/regress/bin/regress → /opt/regress/tests.d
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../tests.d").standardized.path)
        let found = candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
        return TestLibrary(directory: found)
    }
}

/// Prints a one-line error and exits with `status`; the only way commands report bad input.
func fail(_ message: String, status: Int32 = ExitStatus.usage) -> Never {
    StandardStream.error.write(("regress: " + message + "\n").data(using: .utf8)!)
    Glibc.exit(status)
}

/// Loads tests, turning any load or parse error into its one-line message and exit status 2.
func loadTests(_ library: TestLibrary, names: [String]) -> [TestDefinition] {
    do {
        if names.isEmpty { return try library.loadAll() }
        return try names.map(library.load)
    } catch {
        fail("\(error)")
    }
}

/// A whole small text file the user named (a known-issues or exclude list), or a one-line error and exit 2.
func readTextFile(_ path: String) -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("\(path): cannot read it (no such file, or not UTF-8 text)") }
    return text
}

extension PowerCutBackend: ExpressibleByArgument {}
