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

struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run random workloads with every crash state checked; shrink the first failure to a tests.d file.",
        discussion: """
        Each workload is a test written in the test language (files, writes of aligned and unaligned ranges, \
        truncate, fallocate, punch, zero, collapse/insert, reflink/dedupe where the filesystem has them, fsyncs, \
        renames and links, now and then a filesystem filled to ENOSPC), ending with a power cut and a verify. \
        It runs as `regress run --crash-states` runs a test. The same seed gives the same workloads. On the \
        first failure, the workload is shrunk (delta debugging over its steps, then smaller ranges) while it \
        fails the same way, and the smallest is written to the output directory.

        Exit status: 0 nothing found, 1 a failure found (its test written), 2 bad usage, \
        125 nothing could run (not root, no mkfs, the machine failed every workload).
        """
    )

    @Option(name: .customLong("fs"), help: ArgumentHelp("The filesystem: btrfs, xfs or ext4.", valueName: "fs"))
    var filesystem: String

    @Option(help: ArgumentHelp("The seed: the same seed gives the same workloads.", valueName: "n"))
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Steps a workload, before its power cut.", valueName: "n"))
    var ops: Int = 20

    @Option(help: ArgumentHelp("Instead of random workloads, every workload of N core operations (1 or 2), each followed by an fsync, fdatasync or sync, then a power cut (CrashMonkey's ACE); --time still bounds the run.", valueName: "n"))
    var bounded: Int?

    @Option(help: ArgumentHelp("Start no workload after this many seconds.", valueName: "seconds"))
    var time: Double = 60

    @Option(help: ArgumentHelp("Stop after this many workloads (default: only --time limits them).", valueName: "n"))
    var workloads: Int?

    @Option(name: .customShort("j"), help: ArgumentHelp("Run this many workloads at once, each on its own loop device.", valueName: "n"))
    var jobs: Int = 1

    @Option(name: .shortAndLong, help: ArgumentHelp("Where the shrunk test of a failure is written.", valueName: "dir"))
    var output: String = "explore-found"

    @Option(name: .customLong("inject-fault"), help: ArgumentHelp("For meta-tests: put a fault into every workload (lying-fsync: the disk's cache lies during one fsync; dropped-fsync: the disk drops that fsync's writes).", valueName: "fault"))
    var fault: String?

    @Option(name: .customLong("crash-states"), help: ArgumentHelp("Random subsets of each flush epoch's writes checked, besides the prefix and each single write.", valueName: "n"))
    var crashStates: Int = 4

    @Option(name: .customLong("crash-states-limit"), help: ArgumentHelp("Crash states checked at most a workload.", valueName: "n"))
    var crashStatesLimit: Int = 100

    @Option(name: .customLong("shrink-runs"), help: ArgumentHelp("Runs the shrinking of a failure may take.", valueName: "n"))
    var shrinkRuns: Int = 150

    @Option(help: ArgumentHelp("Seconds a workload may take.", valueName: "seconds"))
    var timeout: Int = 120

    @Option(name: .customLong("workdir"), help: ArgumentHelp("Where images and mount points are made (a private directory per workload).", valueName: "dir"))
    var workDirectory: String = "/var/tmp/regress"

    @Flag(name: .shortAndLong, help: "No progress on standard error.")
    var quiet = false

    @OptionGroup(title: "Kernel under test (a VM)")
    var virtualMachine: VirtualMachineOptions

    func validate() throws {
        guard FilesystemKind(rawValue: filesystem) != nil else {
            throw ValidationError("--fs: unknown filesystem '\(filesystem)' (known: \(FilesystemKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let fault, InjectedFault(rawValue: fault) == nil {
            throw ValidationError("--inject-fault: unknown fault '\(fault)' (known: \(InjectedFault.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard ops >= 1, ops <= 1000 else { throw ValidationError("--ops must be 1 to 1000") }
        if let bounded, bounded < 1 || bounded > 3 { throw ValidationError("--bounded must be 1, 2 or 3") }
        guard time > 0 else { throw ValidationError("--time must be more than 0 seconds") }
        if let workloads, workloads < 1 { throw ValidationError("--workloads must be at least 1") }
        guard jobs >= 1, jobs <= 64 else { throw ValidationError("-j must be 1 to 64") }
        guard crashStates >= 0 else { throw ValidationError("--crash-states must be 0 or more") }
        guard crashStatesLimit >= 1 else { throw ValidationError("--crash-states-limit must be at least 1") }
        guard shrinkRuns >= 1 else { throw ValidationError("--shrink-runs must be at least 1") }
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 second") }
    }

    func run() throws {
        if let kernel = virtualMachine.kernel { exploreInVirtualMachine(kernel) }
        let fs = FilesystemKind(rawValue: filesystem)!
        // The output directory is checked before any workload runs: a failure found must have somewhere to go.
        if fileKind(output) == .file {
            fail("\(output): not a directory (--output)")
        }
        let reclaimed = Cleanup(workDirectory: workDirectory).reclaimAbandoned()
        if reclaimed.total > 0 && !quiet { printError("removed what a killed run left: \(reclaimed.summary)") }

        var options = Explorer.Options(filesystem: fs, seed: seed)
        options.operations = ops
        options.seconds = time
        options.workloads = workloads
        options.fault = fault.flatMap(InjectedFault.init(rawValue:))
        options.bounded = bounded
        options.shrinkRuns = shrinkRuns
        options.suite.jobs = jobs
        options.suite.defaultTimeout = timeout
        options.suite.timeoutScale = virtualMachine.effectiveTimeoutScale
        options.suite.caseOptions.workDirectory = workDirectory
        options.suite.caseOptions.crashStates = crashStates
        options.suite.caseOptions.crashStatesLimit = crashStatesLimit
        options.suite.caseOptions.crashStatesSeed = seed

        installSignalHandlers()
        let progress = ExploreProgress(enabled: !quiet, filesystem: fs, seed: seed, bounded: bounded)
        let outcome = Explorer(options: options).run(onEvent: progress.show)
        progress.finish(outcome)
        if Suite.interruptedBySignal != 0 { throw ExitCode(128 + Suite.interruptedBySignal) }
        if let reason = outcome.skipped { fail("explore on \(fs.rawValue) cannot run here: \(reason)", status: ExitStatus.couldNotRun) }
        guard let finding = outcome.finding else {
            if outcome.workloads > 0 && outcome.errors.count == outcome.workloads {
                fail("every workload failed to run: \(outcome.errors[0])", status: ExitStatus.couldNotRun)
            }
            throw ExitCode(ExitStatus.passed)
        }
        let path = write(finding)
        print(path)
        throw ExitCode(ExitStatus.failed)
    }

    /// Writes the finding's test where `regress run` accepts it (a directory only its owner can write).
    private func write(_ finding: ExploreFinding) -> String {
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            fail("\(output): cannot create the output directory: \(String(describing: error))", status: ExitStatus.failed)
        }
        let path = output + "/" + finding.fileName
        guard FileManager.default.createFile(atPath: path, contents: Data(finding.text.utf8), attributes: [.posixPermissions: 0o644]) else {
            fail("\(path): cannot write the shrunk test", status: ExitStatus.failed)
        }
        return path
    }
}
