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

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the JSON reports of a sharded run into one report in any format.",
        discussion: """
        Each RESULT.json is the JSON report of one `regress run --shard I/N` (written with --report json=FILE). \
        The merged report lists every result in the order an unsharded run gives (tests by name, then \
        filesystem), with the same verdicts and counts. Refused (exit status 2, nothing written): reports of \
        different kernels (unless --allow-mixed-kernels), a case in two reports, shards of different N. The \
        exit status is then that of the merged run: 0 passed, 1 a test failed, 125 nothing could run.
        """
    )

    @Argument(help: ArgumentHelp("The shards' JSON reports.", valueName: "result.json"))
    var reports: [String]

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var kcidb: KCIDBOptions

    @Flag(help: "Merge results of different kernels (the merged report names them all).")
    var allowMixedKernels = false

    func validate() throws {
        guard !reports.isEmpty else { throw ValidationError("merge needs at least one JSON report") }
    }

    func run() throws {
        let decoder = JSONReportDecoder()
        let decoded = reports.map { path in
            do { return try decoder.decode(path: path) } catch { fail("\(error)") }
        }
        var merged: ShardMerge.Merged
        do { merged = try ShardMerge(allowMixedKernels: allowMixedKernels).merge(decoded) } catch { fail("\(error)") }
        if !merged.missingShards.isEmpty {
            printError("regress: merge: no report of shard \(merged.missingShards.joined(separator: ", ")): the merged report is incomplete")
        }
        merged.run.farm = kcidb.identity
        output.write(merged.run)
        throw ExitCode(exitStatus(merged.run.results))
    }
}
