/// Every report is written from the same values: the results of a run and a little about the run.
public struct RunSummary: Sendable {
    public var results: [TestResult]
    public var seconds: Double
    public var kernel: String
    public init(results: [TestResult], seconds: Double, kernel: String) {
        self.results = results; self.seconds = seconds; self.kernel = kernel
    }

    public func count(_ verdict: TestResult.Verdict) -> Int { results.filter { $0.verdict == verdict }.count }
}

public enum ReportFormat: String, CaseIterable, Sendable {
    case human, tap, ktap, junit, json

    public func render(_ run: RunSummary) -> String {
        switch self {
        case .human: return HumanReport().render(run)
        case .tap: return TAPReport().render(run)
        case .ktap: return KTAPReport().render(run)
        case .junit: return JUnitReport().render(run)
        case .json: return JSONReport().render(run)
        }
    }
}

/// Text from outside (a step's file name, a tool's output, a kernel line) made safe for one report line:
/// no line breaks, no control characters, so it can never forge a result line.
func oneLine(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n", "\r", "\t": out.append(" ")
        case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += "\\x" + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
