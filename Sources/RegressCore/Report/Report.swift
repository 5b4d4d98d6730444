#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every report is written from the same values: the results of a run and a little about the run.
public struct RunSummary: Sendable {
    public var results: [TestResult]
    public var seconds: Double
    public var kernel: String
    /// The farm's checkout and build this run tested (KCIDB); defaults name nothing.
    public var farm = FarmIdentity()
    /// The regress that ran the tests (for a merge, the one that ran the shards), which every report names.
    public var regress = RegressVersion(commit: "unknown")
    public init(results: [TestResult], seconds: Double, kernel: String) {
        self.results = results; self.seconds = seconds; self.kernel = kernel
    }

    public func count(_ verdict: Verdict) -> Int { results.filter { $0.verdict == verdict }.count }
}

public enum ReportFormat: String, CaseIterable, Sendable {
    case human, tap, ktap, junit, json, kcidb

    public func render(_ run: RunSummary) -> String {
        switch self {
        case .human: return HumanReport().render(run)
        case .tap: return TAPReport().render(run)
        case .ktap: return KTAPReport().render(run)
        case .junit: return JUnitReport().render(run)
        case .json: return JSONReport().render(run)
        case .kcidb: return KCIDBReport().render(run)
        }
    }
}

/// Text from outside (a step's file name, a tool's output, a kernel line) made safe for one report line:
/// no line breaks, no control characters, so it can never forge a result line. Besides `\n` this escapes
/// every character a consumer may split lines on: Python's `splitlines()` (which kunit.py uses) also breaks at
/// VT, FF, the C1 controls (NEL among them) and U+2028/U+2029.
func oneLine(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x0a, 0x0d, 0x09: out.append(" ")
        case 0x00..<0x20, 0x7f...0x9f: out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
        case 0x2028, 0x2029: out += "\\u" + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Text from outside with every word a line-based TAP consumer keys on broken, wherever it stands in the line.
/// Test farms (LAVA's kselftest parser and the like) look for `ok N` / `not ok N` anywhere in a line, since
/// kselftest prints nested results behind `# `; kunit.py starts a report at `TAP version` anywhere in a line;
/// `# Subtest:` opens a nested test and `Bail out!` ends a TAP stream. So a reason such as "ok 7 - fake" is
/// written `ok_7 - fake`: still readable, never a result. `took 5s` becomes `took_5s` for the same reason.
func neutralised(_ text: String) -> String {
    var out = text
    // "ok", any case, then blanks (or nothing), then a digit: the blanks become one underscore. `\s` and `\d`
    // are Unicode-wide here as they are in Python's `re`, so a no-break space or a non-ASCII digit is caught too.
    out = out.replacing(#/(?i)(ok)\s*(\d)/#) { "\($0.1)_\($0.2)" }
    out = out.replacing(#/(?i)(tap)\s+(version)/#) { "\($0.1)_\($0.2)" }
    out = out.replacing(#/(?i)(subtest)\s*:/#) { "\($0.1)_:" }
    out = out.replacing(#/(?i)(bail)\s+(out)/#) { "\($0.1)_\($0.2)" }
    return out
}

/// One diagnostic line's worth of outside text: on one line, and unable to pass for a TAP or KTAP line.
func inertLine(_ text: String) -> String { neutralised(oneLine(text)) }

/// The name of a result on a TAP or KTAP result line: TestResult.id, which is a flat slug (`nocow-reflink.btrfs`)
/// for every test the parser accepts. Anything else a file name could bring (a blank, a `#` that would start
/// a directive) becomes `_`, so the line always parses as one name.
func resultName(_ id: String) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-@=,")
    let name = String(id.map { allowed.contains($0) ? $0 : "_" })
    return name.isEmpty ? "unnamed" : name
}

/// `1.250`: seconds with milliseconds, as TAP, KTAP and JUnit print durations.
public func formatSeconds(_ seconds: Double) -> String {
    let millis = Int((seconds * 1000).rounded())
    let fraction = millis % 1000
    return "\(millis / 1000)." + String(repeating: "0", count: 3 - String(fraction).count) + String(fraction)
}
