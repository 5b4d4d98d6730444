/// JUnit XML, the report CI servers (Jenkins, GitLab, GitHub actions' reporters) show as test results.
///
/// One `<testcase>` a test and filesystem: classname is the test, name the filesystem, so the tools that print
/// `classname.name` print TestResult.id. A failure is `<failure>`, an error `<error>`, a skip `<skipped>`, and a
/// known failure `<skipped type="xfail">` (pytest's convention: an expected failure must not fail the build but
/// should stay visible). The step log, kernel warnings and fsck output go in the testcase's `<system-out>`; the
/// counts of `--crash-states` in its `<properties>`.
/// All outside text is escaped for XML 1.0, including the control characters XML 1.0 cannot carry at all,
/// even as character references: those are written as visible `\xNN` text.
public struct JUnitReport {
    public init() {}

    public func render(_ run: RunSummary) -> String {
        let counts = "tests=\"\(run.results.count)\" failures=\"\(run.count(.fail))\" errors=\"\(run.count(.error))\""
            + " skipped=\"\(run.count(.skip) + run.count(.xfail))\" time=\"\(formatSeconds(run.seconds))\""
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            "<testsuites name=\"regress\" \(counts)>",
            "  <testsuite name=\"regress\" \(counts)>",
            "    <properties>",
            "      <property name=\"kernel\" value=\"\(xmlAttribute(run.kernel))\"/>",
            "      <property name=\"regress_version\" value=\"\(xmlAttribute(run.regress.version))\"/>",
            "      <property name=\"regress_commit\" value=\"\(xmlAttribute(run.regress.commit))\"/>",
            "    </properties>",
        ]
        for result in run.results { lines += testcase(result) }
        lines += ["  </testsuite>", "</testsuites>"]
        return lines.joined(separator: "\n") + "\n"
    }

    private func testcase(_ result: TestResult) -> [String] {
        let name = result.filesystem?.rawValue ?? result.test
        var lines = ["    <testcase classname=\"\(xmlAttribute(result.test))\" name=\"\(xmlAttribute(name))\" time=\"\(formatSeconds(result.seconds))\">"]
        lines += properties(result)
        let message = xmlAttribute(result.reasons.first ?? "")
        switch result.verdict {
        case .pass:
            break
        case .fail:
            lines.append("      <failure message=\"\(message)\" type=\"fail\">\(xmlText(details(result)))</failure>")
        case .error:
            lines.append("      <error message=\"\(message)\" type=\"error\">\(xmlText(details(result)))</error>")
        case .skip:
            lines.append("      <skipped message=\"\(message)\"/>")
        case .xfail:
            lines.append("      <skipped type=\"xfail\" message=\"known failure: \(message)\"/>")
        }
        let output = systemOut(result)
        if !output.isEmpty { lines.append("      <system-out>\(xmlText(output))</system-out>") }
        lines.append("    </testcase>")
        return lines
    }

    /// The case's own numbers, as pytest's `record_property` writes them (inside the testcase, first):
    /// what `--crash-states` did.
    private func properties(_ result: TestResult) -> [String] {
        guard let summary = result.crashStates else { return [] }
        let counts = [("planned", summary.planned), ("checked", summary.checked), ("identical", summary.identical),
                      ("skipped", summary.skipped), ("failed", summary.failed)]
        return ["      <properties>"]
            + counts.map { "        <property name=\"crash_states_\($0.0)\" value=\"\($0.1)\"/>" }
            + ["      </properties>"]
    }

    /// The body of a failure or error: every reason, the step that failed first and the fix that guards it.
    private func details(_ result: TestResult) -> String {
        var lines = result.reasons
        if let failure = result.stepFailures.first { lines.append("first failing step: \(failure.location): \(failure)") }
        if let fix = result.fix { lines.append("guards: \(fix)") }
        if let directory = result.resultsDirectory { lines.append("logs: \(directory)") }
        return lines.joined(separator: "\n")
    }

    private func systemOut(_ result: TestResult) -> String {
        var sections: [String] = []
        if !result.log.isEmpty { sections.append(result.log.joined(separator: "\n")) }
        if !result.kernelWarnings.isEmpty { sections.append("kernel warnings:\n" + result.kernelWarnings.joined(separator: "\n")) }
        if let fsck = result.fsckOutput, !fsck.isEmpty { sections.append("fsck:\n" + fsck) }
        return sections.joined(separator: "\n\n")
    }
}

/// Element content: markup characters escaped; tab and newline kept; a carriage return as a reference, which
/// a parser would otherwise turn into a newline.
func xmlText(_ text: String) -> String { xmlEscaped(text, inAttribute: false) }

/// An attribute value: as element content, and tab and newline as references too, which a parser would
/// otherwise turn into spaces (attribute value normalisation).
func xmlAttribute(_ text: String) -> String { xmlEscaped(text, inAttribute: true) }

private func xmlEscaped(_ text: String, inAttribute: Bool) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        // Escaped everywhere, so that a `]]>` in a log can never end anything.
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\r": out += "&#13;"
        case "\n": out += inAttribute ? "&#10;" : "\n"
        case "\t": out += inAttribute ? "&#9;" : "\t"
        // XML 1.0's Char production excludes the other C0 controls and U+FFFE/U+FFFF outright.
        case _ where scalar.value < 0x20:
            out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
        case "\u{FFFE}", "\u{FFFF}":
            out += "\\u" + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
