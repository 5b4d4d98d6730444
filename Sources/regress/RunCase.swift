import ArgumentParser
import Foundation
import RegressRunner

/// The child side of `regress run`: one test case in this process; the result goes to a JSON file.
/// Not for people: `run` starts it, one process per case, and cleans up after it.
struct RunCase: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__run-case", shouldDisplay: false)

    @Argument var testPath: String
    @Option var fs: String
    @Option var workdir: String
    @Option var result: String
    @Flag var alwaysEmulate = false
    @Option var scratchDev: String?
    @Flag var keepFailed = false

    func run() throws {
        guard let filesystem = FilesystemKind(rawValue: fs) else { fail("unknown filesystem \(fs)") }
        var options = TestExecution.Options()
        options.workDirectory = workdir
        options.alwaysEmulate = alwaysEmulate
        options.scratchDevice = scratchDev
        options.keepFailedImages = keepFailed
        do {
            try Suite.runCase(testPath: testPath, filesystem: filesystem, options: options, resultPath: result)
        } catch {
            fail("\(error)")
        }
    }
}

struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove what killed regress runs left: mounts, loop devices, FUSE mounts and images.",
        discussion: "Only directories of the work directory whose owner process is gone are touched; a running regress's are left alone."
    )

    @Option(name: .customLong("workdir"), help: ArgumentHelp("The work directory regress runs used.", valueName: "dir"))
    var workDirectory: String = "/var/tmp/regress"

    func run() throws {
        let report = Cleanup(workDirectory: workDirectory).reclaimAbandoned()
        print(report.total == 0 && report.problems.isEmpty ? "nothing left behind" : report.summary)
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}
