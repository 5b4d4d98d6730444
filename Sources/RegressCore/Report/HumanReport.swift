/// The report for a person at a terminal: one line a test (with the crash states it checked, when it searched
/// them), then the reasons under each that did not pass, then the totals.
public struct HumanReport {
    public init() {}

    public func render(_ run: RunSummary) -> String {
        var lines: [String] = []
        let width = min(48, run.results.map(\.id.count).max() ?? 0)
        for result in run.results {
            let label: String
            switch result.verdict {
            case .pass: label = "ok     "
            case .fail: label = "FAIL   "
            case .skip: label = "skip   "
            case .error: label = "ERROR  "
            case .xfail: label = "xfail  "
            }
            let time = result.verdict == .skip ? "" : "  \(formatSeconds(result.seconds))s"
            var line = label + result.id.padding(to: width) + time
            // A verdict with the work behind it: a pass after 159 crash states says more than one after none.
            if result.verdict == .skip, let reason = result.reasons.first {
                line += "  (\(oneLine(reason)))"
            } else if let crashStates = result.crashStates {
                line += " (\(crashStates))"
            }
            lines.append(line)
            if result.verdict == .fail || result.verdict == .error || result.verdict == .xfail {
                for reason in result.reasons.prefix(20) { lines.append("       - " + oneLine(reason)) }
                if result.reasons.count > 20 { lines.append("       - … \(result.reasons.count - 20) more") }
                if let fix = result.fix, result.verdict == .fail { lines.append("       guards: " + oneLine(fix)) }
                if let directory = result.resultsDirectory { lines.append("       logs: " + directory) }
            }
        }
        var totals = ["\(run.count(.pass)) passed", "\(run.count(.fail)) failed"]
        if run.count(.skip) > 0 { totals.append("\(run.count(.skip)) skipped") }
        if run.count(.error) > 0 { totals.append("\(run.count(.error)) errors") }
        if run.count(.xfail) > 0 { totals.append("\(run.count(.xfail)) known failures") }
        lines.append("")
        lines.append(totals.joined(separator: ", ") + " in \(formatSeconds(run.seconds))s on \(run.kernel)"
                     + " (regress \(run.regress.version), \(run.regress.shortCommit))")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
