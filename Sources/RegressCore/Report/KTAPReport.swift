/// KTAP version 1, as the kernel documents it (Documentation/dev-tools/ktap.rst), for kselftest-style test
/// farms and the kernel's own kunit.py parser.
///
/// The results are flat: one result line a test and filesystem, named by TestResult.id. KTAP could nest the
/// filesystems under their test, but farms flatten nesting and would then see three results all named `btrfs`.
/// What a farm keys on is kept out of everything but the result lines: the reasons come on `# id: …`
/// diagnostic lines BEFORE their result line (where ktap.rst puts them), each forced onto one line and
/// neutralised, so no text a step, a tool or the kernel printed can forge a result, a plan or a version line.
///
///     KTAP version 1
///     1..3
///     ok 1 nocow-reflink.btrfs
///     # punch-hole.xfs: bytes 0..4095 (0+4K): expected 0x00, found 0xcd
///     not ok 2 punch-hole.xfs
///     ok 3 collapse.btrfs # SKIP btrfs has no collapse
///     # Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0
public struct KTAPReport {
    public init() {}

    /// Reasons shown per result; the rest are counted. The full list is in the JSON and JUnit reports.
    static let reasonLimit = 20

    public func render(_ run: RunSummary) -> String {
        var lines = ["KTAP version 1", "1..\(run.results.count)"]
        for (index, result) in run.results.enumerated() {
            lines += diagnostics(result)
            lines.append(resultLine(result, number: index + 1))
        }
        // kselftest's closing line, which farms already know; xpass is always 0, as regress has no such verdict.
        lines.append("# Totals: pass:\(run.count(.pass)) fail:\(run.count(.fail)) xfail:\(run.count(.xfail)) xpass:0 skip:\(run.count(.skip)) error:\(run.count(.error))")
        lines.append("# " + inertLine("\(run.regress) on \(run.kernel) in \(formatSeconds(run.seconds))s"))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `ok N name`, `not ok N name`, with the directive ktap.rst gives each verdict that is neither:
    /// SKIP (with `ok`), XFAIL (with `ok`, as kselftest prints it: an expected failure does not fail the run,
    /// and a parser that does not know XFAIL falls back to `ok`), ERROR (with `not ok`, as ktap.rst requires).
    func resultLine(_ result: TestResult, number: Int) -> String {
        let name = resultName(result.id)
        switch result.verdict {
        case .pass: return "ok \(number) \(name)"
        case .fail: return "not ok \(number) \(name)"
        case .skip: return "ok \(number) \(name) # SKIP" + directiveData(result)
        case .xfail: return "ok \(number) \(name) # XFAIL" + directiveData(result)
        case .error: return "not ok \(number) \(name) # ERROR" + directiveData(result)
        }
    }

    /// The first reason after a directive. kunit.py reads a result line as `name # SKIP rest` with a greedy name,
    /// so a `#` in the reason would be taken into the name: it is written `\x23`.
    private func directiveData(_ result: TestResult) -> String {
        guard let reason = result.reasons.first, !reason.isEmpty else { return "" }
        return " " + inertLine(reason).replacing("#", with: "\\x23")
    }

    /// What a person needs to start on a result that did not pass, as `# id: …` lines (kunit's own style).
    /// A skip's reason is on its result line already; a pass says only what crash states it checked.
    func diagnostics(_ result: TestResult) -> [String] {
        let prefix = "# " + resultName(result.id) + ": "
        // The work behind any verdict, a pass's too: `# t.xfs: crash states: 159 checked, 0 failed, …`.
        let work = result.crashStates.map { [prefix + "crash states: " + $0.details] } ?? []
        let label: String
        switch result.verdict {
        case .pass, .skip: return work
        case .fail: label = ""
        case .error: label = "error: "
        case .xfail: label = "known failure: "
        }
        var lines = work
        let reasons = result.reasons.isEmpty ? ["(no reason recorded)"] : result.reasons
        for reason in reasons.prefix(Self.reasonLimit) {
            // A reason with line breaks in it gives several diagnostic lines, each made inert on its own.
            for part in reason.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
                lines.append(prefix + label + inertLine(String(part)))
            }
        }
        if reasons.count > Self.reasonLimit { lines.append(prefix + "… \(reasons.count - Self.reasonLimit) more reasons") }
        if let fix = result.fix, result.verdict == .fail { lines.append(prefix + "guards: " + inertLine(fix)) }
        if let directory = result.resultsDirectory { lines.append(prefix + "logs: " + inertLine(directory)) }
        return lines
    }
}
