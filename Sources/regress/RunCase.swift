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

/// The child side of `regress run`: one test case in this process; the result goes to a JSON file.
/// Not for people: `run` starts it, one process per case, and cleans up after it.
struct RunCase: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__run-case", shouldDisplay: false)

    @Argument(help: "The parent's CaseRequest, as JSON.") var request: String
    @Argument(help: "Where to write the TestResult, as JSON.") var result: String

    func run() throws {
        do {
            try Suite.runCase(requestPath: request, resultPath: result)
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
        // The tests' directories, and those of VMs (`run --kernel`) beside them.
        var report = Cleanup(workDirectory: workDirectory).reclaimAbandoned()
        let vms = Cleanup(workDirectory: GuestRun.workDirectory(besides: workDirectory)).reclaimAbandoned()
        report.directories += vms.directories
        report.mounts += vms.mounts
        report.loopDevices += vms.loopDevices
        report.problems += vms.problems
        print(report.total == 0 && report.problems.isEmpty ? "nothing left behind" : report.summary)
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}
