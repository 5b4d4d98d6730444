/// Puts the finder's line kinds, the shell front end's commands and the translation's outcome for
/// each command together into one `ImportLine` per raw input line.
public enum ImportAccounting {
    /// `translate` is called once per command, in script order (it may keep state: a mount after an
    /// unmount is a remount).
    public static func account(input: String, found: ScriptFinder.Result, script: ShellScript,
                               translate: (ShellCommand) -> CommandDisposition) -> [ImportLine] {
        let rawLines = input.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        let count = rawLines.last == "" && rawLines.count > 1 ? rawLines.count - 1 : rawLines.count
        var dispositions = [ImportLine.Disposition?](repeating: nil, count: count + 1)

        // Commands: the first line carries the outcome, the others point at it.
        var outcomes: [Int: [CommandDisposition]] = [:]
        var spans: [Int: Int] = [:]
        for command in script.commands {
            outcomes[command.firstLine, default: []].append(translate(command))
            spans[command.firstLine] = max(spans[command.firstLine] ?? command.lastLine, command.lastLine)
        }
        // The shell's line numbers are the finder's first raw lines; map back to every raw line.
        var rawSpan: [Int: ClosedRange<Int>] = [:]
        for line in found.lines { rawSpan[line.source.lowerBound] = line.source }
        func rawNumbers(from first: Int, to last: Int) -> [Int] {
            let upper = rawSpan[last]?.upperBound ?? last
            return Array(first...max(first, upper))
        }
        for (first, results) in outcomes.sorted(by: { $0.key < $1.key }) {
            let disposition = combine(results)
            for (offset, raw) in rawNumbers(from: first, to: spans[first]!).enumerated() where raw <= count {
                if offset == 0 {
                    // A line that continues an earlier command and starts an output filter reads best
                    // as the continuation.
                    if case .continues? = dispositions[raw], case .ignored = disposition { continue }
                    dispositions[raw] = disposition
                } else if dispositions[raw] == nil || dispositions[raw] == .ignored(.blank) || dispositions[raw] == .ignored(.comment) {
                    dispositions[raw] = .continues(first)
                }
            }
        }
        for (line, why) in script.unsupported {
            for raw in rawNumbers(from: line, to: line) where raw <= count && dispositions[raw] == nil {
                dispositions[raw] = .untranslated(why)
            }
        }
        for (line, reason) in script.consumed {
            let ignored: ImportLine.IgnoredReason = switch reason {
            case .assignment(let text): .assignment(text)
            case .comment: .comment
            case .blank: .blank
            case .structure(let what): .structure(what)
            case .uncalledFunction(let name): .uncalledFunction(name)
            }
            for raw in rawNumbers(from: line, to: line) where raw <= count && dispositions[raw] == nil {
                dispositions[raw] = .ignored(ignored)
            }
        }
        for line in found.lines {
            let disposition: ImportLine.Disposition? = switch line.kind {
            case .prose: .ignored(.prose)
            case .header: .ignored(.mailHeader)
            case .patchNotes: .ignored(.patchNotes)
            case .diff: .ignored(.diff)
            case .trailer: .ignored(.trailer)
            case .signature: .ignored(.signature)
            case .output: .ignored(.commandOutput)
            case .blank: .ignored(.blank)
            case .comment: .ignored(.comment)
            case .skippedPart(let why): why.hasPrefix("a base64") ? .untranslated(why) : .ignored(.skippedPart(why))
            case .scriptListing: .ignored(.scriptListing)
            case .scriptRun: .ignored(.scriptRun)
            case .script, .powerFailure: nil
            }
            for raw in line.source where raw <= count && dispositions[raw] == nil {
                dispositions[raw] = disposition ?? .untranslated(script.incomplete.map { "the script ends inside: \($0)" } ?? "a script line that became no command")
            }
        }
        return (1...max(1, count)).compactMap { number in
            guard number <= count else { return nil }
            return ImportLine(number: number, text: rawLines[number - 1], disposition: dispositions[number] ?? .ignored(.blank))
        }
    }

    /// One line's commands: untranslated if any is, translated if any is, else ignored.
    static func combine(_ results: [CommandDisposition]) -> ImportLine.Disposition {
        let untranslated = results.compactMap { result -> String? in
            if case .untranslated(let why) = result { return why }
            return nil
        }
        if !untranslated.isEmpty { return .untranslated(folded(unique(untranslated))) }
        let steps = results.flatMap { result -> [String] in
            if case .translated(let steps) = result { return steps }
            return []
        }
        if results.contains(where: { if case .translated = $0 { return true }; return false }) { return .translated(steps) }
        let reasons = results.compactMap { result -> String? in
            if case .ignored(let why) = result { return why }
            return nil
        }
        let distinct = unique(reasons)
        return .ignored(distinct == ["output to the terminal"] ? .terminalOutput : .setup(distinct.joined(separator: "; ")))
    }

    /// The texts in order, each once (an unrolled loop repeats the same reason).
    static func unique(_ texts: [String]) -> [String] {
        var seen: Set<String> = []
        return texts.filter { seen.insert($0).inserted }
    }

    /// The reasons of one line, the first few of them: each iteration of an unrolled loop may give its
    /// own (another offset, another file), and one input line stays one line of the account.
    static func folded(_ reasons: [String], keeping kept: Int = 2) -> String {
        guard reasons.count > kept + 1 else { return reasons.joined(separator: "; ") }
        return reasons.prefix(kept).joined(separator: "; ") + "; and \(reasons.count - kept) more like them"
    }
}

/// Prints what became of each input line, as `regress import` shows it:
///
///     12  translated    xfs_io -f -c "falloc 8k 64m" $mnt/file1   -> file1: falloc 8k 64m
///     13  ignored       # Fill the remaining data space          (comment)
///     40  UNTRANSLATED  chattr -e /mnt/ext4/testfile             'chattr' has no operation
public enum ImportReport {
    public static func render(_ lines: [ImportLine], width: Int = 48) -> String {
        var output = ""
        let numberWidth = String(lines.last?.number ?? 1).count
        // A continuation line is what the command it continues is.
        let untranslatedNumbers = Set(lines.compactMap { line -> Int? in
            if case .untranslated = line.disposition { return line.number }
            return nil
        })
        func firstIsUntranslated(_ first: Int) -> Bool { untranslatedNumbers.contains(first) }
        for line in lines {
            let number = String(repeating: " ", count: max(0, numberWidth - String(line.number).count)) + String(line.number)
            var text = oneLine(line.text.replacingAll("\t", with: "    "))
            if text.count > width { text = String(text.prefix(width - 1)) + "…" }
            let padded = text + String(repeating: " ", count: max(0, width - text.count))
            let (label, detail): (String, String) = switch line.disposition {
            case .translated(let steps): ("translated  ", steps.isEmpty ? "(sets up the test)" : "-> " + foldedSteps(steps))
            case .continues(let first): (firstIsUntranslated(first) ? "UNTRANSLATED" : "translated  ", "(continues line \(first))")
            case .ignored(let reason): ("ignored     ", "(\(reason.description))")
            case .untranslated(let why): ("UNTRANSLATED", why)
            }
            output += "\(number)  \(label)  \(padded)  \(shortened(oneLine(detail)))\n"
        }
        let counts = summary(lines)
        output += "\(counts.translated) translated, \(counts.ignored) ignored on purpose, \(counts.untranslated) untranslated\n"
        return output
    }

    public static func summary(_ lines: [ImportLine]) -> (translated: Int, ignored: Int, untranslated: Int) {
        var counts = (translated: 0, ignored: 0, untranslated: 0)
        let untranslatedNumbers = Set(lines.compactMap { line -> Int? in
            if case .untranslated = line.disposition { return line.number }
            return nil
        })
        for line in lines {
            switch line.disposition {
            case .continues(let first) where untranslatedNumbers.contains(first): counts.untranslated += 1
            case .translated, .continues: counts.translated += 1
            case .ignored: counts.ignored += 1
            case .untranslated: counts.untranslated += 1
            }
        }
        return counts
    }

    /// `FILE:LINE: text — why`, one per untranslated line, for standard error.
    public static func untranslated(_ lines: [ImportLine], file: String) -> [String] {
        lines.compactMap { line in
            guard case .untranslated(let why) = line.disposition else { return nil }
            return "\(file):\(line.number): \(oneLine(line.text.trimmingBlanks)) — \(shortened(oneLine(why)))"
        }
    }

    /// A text on one line of the account: newlines (a here-document, a quoted word over lines) written
    /// as `\n`.
    static func oneLine(_ text: String) -> String {
        text.replacingAll("\r", with: "\\r").replacingAll("\n", with: "\\n")
    }

    /// At most `limit` characters: the account is for reading.
    static func shortened(_ text: String, limit: Int = 600) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// The steps of one line (an unrolled loop makes many): the first few, then how many in all.
    static func foldedSteps(_ steps: [String], keeping kept: Int = 4) -> String {
        guard steps.count > kept + 1 else { return steps.joined(separator: " | ") }
        return steps.prefix(kept).joined(separator: " | ") + " | … (\(steps.count) steps in all)"
    }
}
