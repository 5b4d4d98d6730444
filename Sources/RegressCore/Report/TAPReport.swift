/// TAP version 13, the dialect kselftest prints and Debian's `prove` accepts (it rejects a version 14 header):
/// a plan, one result line a test and filesystem, and a YAML block under each that did not pass (and under a
/// pass that searched crash states, for their counts).
/// As in the KTAP report, outside text is neutralised (see `neutralised`) even inside the YAML block, because
/// farms match `ok N` anywhere in a line, indented or not.
public struct TAPReport {
    public init() {}

    public func render(_ run: RunSummary) -> String {
        var lines = ["TAP version 13", "1..\(run.results.count)", "# " + inertLine(run.regress.description)]
        for (index, result) in run.results.enumerated() {
            let number = index + 1
            let name = resultName(result.id)
            switch result.verdict {
            case .pass:
                lines.append("ok \(number) - \(name)")
                // The work a pass stands for is worth its block: TAP 13 allows one under any result line.
                if result.crashStates != nil { lines += yaml(result) }
            case .skip:
                lines.append("ok \(number) - \(name) # SKIP \(directiveData(result))")
            case .xfail:
                lines.append("not ok \(number) - \(name) # TODO known issue: \(directiveData(result))")
                lines += yaml(result)
            case .fail, .error:
                lines.append("not ok \(number) - \(name)")
                lines += yaml(result)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The first reason, on the result line after its directive. TAP::Parser takes the rest of the line, but
    /// simpler readers take a second `#` for the start of a directive: it is written `\x23`.
    private func directiveData(_ result: TestResult) -> String {
        inertLine(result.reasons.first ?? "").replacing("#", with: "\\x23")
    }

    /// The details, as TAP 13's YAML diagnostics: indented two spaces between `---` and `...`.
    /// Every value is a double-quoted YAML string, so nothing in it can end the block.
    private func yaml(_ result: TestResult) -> [String] {
        var lines = ["  ---", "  verdict: \(result.verdict.rawValue)", "  seconds: \(formatSeconds(result.seconds))"]
        if !result.summary.isEmpty { lines.append("  summary: \(quoted(result.summary))") }
        if let fix = result.fix { lines.append("  fix: \(quoted(fix))") }
        if !result.reasons.isEmpty {
            lines.append("  reasons:")
            lines += result.reasons.map { "    - \(quoted($0))" }
        }
        if let failure = result.stepFailures.first {
            lines.append("  first_failure:")
            lines.append("    at: \(quoted(failure.location.description))")
            lines.append("    step: \(quoted(failure.step))")
            lines.append("    got: \(quoted(failure.found ?? failure.got?.name ?? "success"))")
            lines.append("    expected: \(quoted(failure.expected))")
        }
        let bad = result.verifications.filter { !$0.passed }
        if !bad.isEmpty {
            lines.append("  lost_or_corrupted:")
            // Block mappings, not `{…}` flow ones: TAP::Parser's YAMLish reader has no flow syntax.
            for verification in bad {
                for mismatch in verification.mismatches {
                    lines.append("    - file: \(quoted(verification.file))")
                    lines.append("      offset: \(mismatch.offset)")
                    lines.append("      length: \(mismatch.length)")
                    lines.append("      expected: \(quoted(hex(mismatch.expected)))")
                    lines.append("      found: \(quoted(mismatch.found.text))")
                }
            }
        }
        if let summary = result.crashStates { lines += crashStates(summary) }
        if let directory = result.resultsDirectory { lines.append("  logs: \(quoted(directory))") }
        lines.append("  ...")
        return lines
    }

    /// What `--crash-states` did, as a block mapping of counts.
    private func crashStates(_ summary: CrashStateSummary) -> [String] {
        ["  crash_states:", "    planned: \(summary.planned)", "    checked: \(summary.checked)",
         "    identical: \(summary.identical)", "    skipped: \(summary.skipped)", "    failed: \(summary.failed)"]
    }

}

/// A YAML double-quoted scalar: backslash, quote and control characters escaped, and TAP's keywords
/// neutralised (the scalar stays on one line, but farms read every line). Only the escapes that both YAML and
/// TAP::Parser's YAMLish reader decode are used (`\\`, `\"`, `\n`, `\t`, `\xNN`), except `\u2028`, `\u2029`, `\ufffe`
/// and `\uffff`, which YAMLish shows as written. A colon before a blank is written `\x3a`: YAMLish takes `- "a: b"` for
/// the start of a mapping and gives up on the whole block.
func quoted(_ text: String) -> String {
    var out = "\""
    let scalars = Array(neutralised(text).unicodeScalars)
    for (index, scalar) in scalars.enumerated() {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7f:
            out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
        case _ where scalar.value >= 0x80 && scalar.value < 0xa0:
            out += "\\x" + String(scalar.value, radix: 16)
        // Line separators, and the non-characters YAML does not allow in a document at all.
        case "\u{2028}", "\u{2029}", "\u{fffe}", "\u{ffff}": out += "\\u" + String(scalar.value, radix: 16)
        case ":" where colonBeforeBlank(at: index, in: scalars): out += "\\x3a"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

private func colonBeforeBlank(at index: Int, in scalars: [Unicode.Scalar]) -> Bool {
    index + 1 < scalars.count && (scalars[index + 1] == " " || scalars[index + 1] == "\t")
}
