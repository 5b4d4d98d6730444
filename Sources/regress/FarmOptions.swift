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

/// Where a run's KCIDB results belong (`run` and `merge`): the farm's checkout and build, and its origin.
struct KCIDBOptions: ParsableArguments {
    @Option(name: .customLong("kcidb-origin"), help: ArgumentHelp("KCIDB origin the results are submitted under.", valueName: "origin"))
    var origin = "regress"

    @Option(name: .customLong("kcidb-checkout-id"), help: ArgumentHelp("KCIDB id (ORIGIN:ID) of the farm's checkout of the kernel under test.", valueName: "id"))
    var checkoutID: String?

    @Option(name: .customLong("kcidb-build-id"), help: ArgumentHelp("KCIDB id (ORIGIN:ID) of the farm's build of the kernel under test.", valueName: "id"))
    var buildID: String?

    var identity: FarmIdentity {
        var identity = FarmIdentity()
        identity.origin = origin
        identity.checkoutID = checkoutID
        identity.buildID = buildID
        return identity
    }

    func validate() throws {
        do { try identity.validate() } catch { throw ValidationError("\(error)") }
    }
}

/// The reports a command writes (`merge`; `run` has the same flags): one format to standard output or a
/// file, and any others to files.
struct ReportOutputOptions: ParsableArguments {
    @Option(help: "Report format: human, tap, ktap, junit, json or kcidb.")
    var format: String = "human"

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report to a file; the terminal then gets the human report.", valueName: "file"))
    var output: String?

    @Option(name: .customLong("report"), help: ArgumentHelp("Also write a report in FORMAT to FILE (repeatable).", valueName: "format=file"))
    var extraReports: [String] = []

    func validate() throws {
        let known = ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")
        guard ReportFormat(rawValue: format) != nil else { throw ValidationError("unknown format '\(format)' (known: \(known))") }
        for report in extraReports {
            let parts = report.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, ReportFormat(rawValue: String(parts[0])) != nil, !parts[1].isEmpty else {
                throw ValidationError("--report takes FORMAT=FILE with FORMAT one of \(known), e.g. ktap=results/run.ktap")
            }
        }
    }

    func write(_ run: RunSummary) {
        for report in extraReports {
            let parts = report.split(separator: "=", maxSplits: 1).map(String.init)
            guard FileManager.default.createFile(atPath: parts[1], contents: Data(ReportFormat(rawValue: parts[0])!.render(run).utf8)) else {
                fail("\(parts[1]): cannot write the report")
            }
        }
        let format = ReportFormat(rawValue: format)!
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(format.render(run).utf8)) else {
                fail("\(output): cannot write the report")
            }
            StandardStream.output.write(Data(ReportFormat.human.render(run).utf8))
        } else {
            StandardStream.output.write(Data(format.render(run).utf8))
        }
    }
}

/// When each case of a run started, from the suite's events, for the results (KCIDB's start_time).
final class StartTimes {
    private var started: [Int: Date] = [:]

    /// `forward` gets every event, after the start of a case is noted.
    func recording(_ forward: @escaping (Suite.Event) -> Void) -> (Suite.Event) -> Void {
        return { [self] event in
            if case .started(_, let index, _) = event { started[index] = Date() }
            forward(event)
        }
    }

    /// Results (in the order of the cases the suite ran) with their start time and the machine's origin.
    func stamp(_ results: [TestResult], origin: ResultOrigin) -> [TestResult] {
        results.enumerated().map { index, result in
            var result = result
            if let date = started[index] { result.startTime = timestampString(date) }
            result.origin = origin
            return result
        }
    }
}
