/// Finds the reproducer in what a kernel developer posts: a raw mail, `git format-patch` or `b4`
/// output, a commit message with an indented script block or `$ ` prompts, or a plain script. Every
/// input line gets a kind; only script lines go on to the shell front end, and the others are set
/// aside on purpose (prose, headers, the diff…), so that nothing is dropped without a reason.
public struct ScriptFinder {
    public enum Kind: Equatable, Sendable {
        /// A line of the script (a command, part of one, or inside a loop or here-document).
        case script
        /// A `#` comment among the script's lines.
        case comment
        /// `<power fail>` and the like: a power failure written into the script.
        case powerFailure
        /// Text around the script.
        case prose
        /// A mail or MIME part header, or a MIME boundary.
        case header
        /// What follows a patch's `---` line before the diff: change notes, the diffstat.
        case patchNotes
        case diff
        /// `Signed-off-by:`, `Reviewed-by:`, `Link:`, `Fixes:`…
        case trailer
        /// The mail signature after `-- `, and list archive footers.
        case signature
        /// What a command printed, pasted under its `$ ` prompt.
        case output
        case blank
        /// A MIME part that is not plain text (HTML, an attachment, base64).
        case skippedPart(String)
        /// `$ cat test.sh`: shows the script that follows.
        case scriptListing
        /// `$ ./test.sh`: runs the script shown above.
        case scriptRun
    }

    public struct Line: Equatable, Sendable {
        /// The decoded line's raw input lines.
        public var source: ClosedRange<Int>
        /// The decoded text (quoted-printable undone).
        public var text: String
        public var kind: Kind
        /// For script and comment lines: the text given to the shell (prompt, quote marks and the
        /// block's indentation removed).
        public var shellText: String?
        /// The line was quoted in a reply (`> `).
        public var quoted: Bool
        /// The line lies between a patch's `---` and its diff.
        public var inPatchNotes = false
    }

    public struct Result: Equatable, Sendable {
        public var lines: [Line]
        public var isMail: Bool
        /// The input is a plain script: no mail, no prose around the commands.
        public var isPlainScript: Bool

        /// The lines for the shell front end, numbered by their first raw input line.
        public var scriptLines: [NumberedLine] {
            lines.compactMap { line in line.shellText.map { NumberedLine(number: line.source.lowerBound, text: $0) } }
        }

        /// Raw input line numbers of the given kind.
        public func numbers(of kind: Kind) -> [Int] {
            lines.filter { $0.kind == kind }.flatMap { Array($0.source) }
        }
    }

    public static func find(in text: String) -> Result {
        let mail = MailText.decode(text)
        var lines: [Line] = mail.lines.map { line in
            var kind: Kind = line.isHeader ? .header : .prose
            if let skipped = line.skippedPart { kind = .skippedPart(skipped) }
            return Line(source: line.source, text: line.text, kind: kind, shellText: nil, quoted: false)
        }
        markPatchRegions(&lines)
        let shebang = !mail.isMail && isShellProgram(lines)
        let plain = shebang || (!mail.isMail && isPlainScript(lines))
        classifyBody(&lines, plainScript: plain, shellProgram: shebang)
        return Result(lines: lines, isMail: mail.isMail, isPlainScript: plain)
    }

    // MARK: - Patch structure

    /// Marks the diff, the notes between `---` and the diff, the signature, and the trailers.
    private static func markPatchRegions(_ lines: inout [Line]) {
        var index = 0
        var inDiff = false
        var inSignature = false
        var inNotes = false
        while index < lines.count {
            defer { index += 1 }
            if lines[index].kind == .header {
                // A new part or mail starts: the regions of the previous one end.
                inDiff = false
                inSignature = false
                inNotes = false
                continue
            }
            guard lines[index].kind == .prose else { continue }
            // A reply quotes the patch it answers: its diff is a diff behind the `> ` marks too.
            let text = withoutReplyMarks(lines[index].text)
            if inSignature { lines[index].kind = .signature; continue }
            if text == "-- " || text == "--" {
                inSignature = true
                inDiff = false
                lines[index].kind = .signature
                continue
            }
            if !inDiff && startsDiff(at: index, lines) { inDiff = true; inNotes = false }
            if inDiff { lines[index].kind = .diff; continue }
            if text == "---" && !inNotes && followedByPatch(after: index, lines) {
                inNotes = true
                lines[index].kind = .patchNotes
                continue
            }
            if inNotes {
                // Notes under `---` may hold the reproducer: they are read like the message, and what
                // is not script in them goes back to being notes. The diffstat never is script.
                lines[index].kind = isDiffstat(text) ? .patchNotes : .prose
                lines[index].inPatchNotes = true
                continue
            }
            if isTrailer(text) { lines[index].kind = .trailer }
            if text.hasPrefix("Reply via email to") || text.hasPrefix("To unsubscribe from this list") { inSignature = true; lines[index].kind = .signature }
        }
    }

    /// The text without the `> ` marks of a reply (`> > ` for a reply to a reply).
    static func withoutReplyMarks(_ text: String) -> String {
        var body = Substring(text)
        while body.hasPrefix(">") {
            body = body.dropFirst()
            if body.hasPrefix(" ") { body = body.dropFirst() }
        }
        return String(body)
    }

    /// ` fs/btrfs/ioctl.c | 17 +++++++++++++++--` and ` 1 file changed, 15 insertions(+), 2 deletions(-)`.
    static func isDiffstat(_ text: String) -> Bool {
        if text.containsText(" file changed") || text.containsText(" files changed") { return true }
        guard let bar = text.firstIndex(of: "|") else { return false }
        let after = text[text.index(after: bar)...].drop { $0 == " " }
        return after.first?.isNumber == true || after.hasPrefix("Bin")
    }

    private static func startsDiff(at index: Int, _ lines: [Line]) -> Bool {
        let text = withoutReplyMarks(lines[index].text)
        if text.hasPrefix("diff --git ") || text.hasPrefix("Index: ") || text.hasPrefix("diff -u") { return true }
        if text.hasPrefix("--- "), index + 1 < lines.count, withoutReplyMarks(lines[index + 1].text).hasPrefix("+++ ") { return true }
        return false
    }

    /// A `---` line separates a commit message from notes and the diff only when a diff follows.
    private static func followedByPatch(after index: Int, _ lines: [Line]) -> Bool {
        for next in lines[(index + 1)...] {
            if next.kind == .header { return false }
            let text = withoutReplyMarks(next.text)
            if text.hasPrefix("diff --git ") || text.containsText(" files changed") || text.containsText(" file changed") { return true }
        }
        return false
    }

    static func isTrailer(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), text[text.index(after: colon)...].hasPrefix(" ") else { return false }
        let key = text[..<colon]
        if ["Cc", "CC", "Link", "Fixes", "Closes", "BugLink", "Message-Id", "Message-ID", "Change-Id"].contains(String(key)) { return true }
        return key.hasSuffix("-by") && key.first?.isUppercase == true && !key.contains(" ")
    }

    // MARK: - Script lines

    private struct Candidate {
        var indent: Int
        var body: Substring
        var quoted: Bool
    }

    /// Strips `> ` reply markers and the indentation.
    private static func candidate(_ text: String) -> Candidate {
        var body = Substring(text)
        var quoted = false
        while body.hasPrefix(">") && !body.hasPrefix(">>") {
            body = body.dropFirst()
            if body.hasPrefix(" ") { body = body.dropFirst() }
            quoted = true
        }
        var indent = 0
        while let first = body.first, first == " " || first == "\t" {
            indent += first == "\t" ? 8 : 1
            body = body.dropFirst()
        }
        return Candidate(indent: indent, body: body, quoted: quoted)
    }

    private static func firstWord(_ text: Substring) -> Substring {
        text.prefix { $0 != " " && $0 != "\t" && $0 != ";" && $0 != "(" }
    }

    /// `name()` or `name() {`, `function name`: a function definition.
    private static func isFunctionDefinition(_ body: Substring) -> Bool {
        if body.hasPrefix("function ") { return true }
        let name = firstWord(body)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return false }
        let rest = body.dropFirst(name.count).drop { $0 == " " }
        guard rest.hasPrefix("()") else { return false }
        let after = rest.dropFirst(2).drop { $0 == " " || $0 == "\t" }
        return after.isEmpty || after.hasPrefix("{")
    }

    /// A command line the finder recognises on its own: a known command, an assignment, a marker.
    private static func isKnownCommandLine(_ body: Substring) -> Bool {
        if isFunctionDefinition(body) { return true }
        // A subshell runs the commands inside it: `(cd $dir && rm foo)`, `( $XFS_IO_PROG … ) | _filter`.
        if body.hasPrefix("(") && !body.hasPrefix("((") {
            let inner = body.dropFirst().drop { $0 == " " || $0 == "\t" }
            return inner.isEmpty || isKnownCommandLine(inner)
        }
        let word = firstWord(body)
        if ShellVocabulary.isAssignment(word) { return true }
        guard ShellVocabulary.isKnownCommand(word) else { return false }
        return !ShellVocabulary.looksLikeProse(String(body))
    }

    /// A known command with the shell's marks (an option, a quote, a path, a variable): a command line
    /// even where the text around it uses `$ ` prompts.
    private static func isStandaloneCommandLine(_ body: Substring) -> Bool {
        guard isKnownCommandLine(body), !ShellVocabulary.keywords.contains(String(firstWord(body))) else { return false }
        let words = body.split(separator: " ").dropFirst()
        return words.contains { $0.hasPrefix("-") || $0.hasPrefix("/") || $0.hasPrefix("$") || $0.hasPrefix("\"") || $0.hasPrefix("<") }
    }

    /// After a root prompt `# `, the rest must read as a command, not as a comment that starts with a
    /// command's name ("# mount the fs"): a known command with a flag, a path, a variable or quotes, or alone.
    private static func isRootPromptCommand(_ rest: Substring) -> Bool {
        let words = rest.split(separator: " ")
        guard let first = words.first, ShellVocabulary.isKnownCommand(first), !ShellVocabulary.keywords.contains(String(first)) else { return false }
        if words.count == 1 { return first == "sync" || first.hasPrefix("_") }
        return words.dropFirst().contains { $0.hasPrefix("-") || $0.hasPrefix("/") || $0.hasPrefix("$") || $0.hasPrefix("\"") || $0.contains("=") }
            && !ShellVocabulary.looksLikeProse(String(rest))
    }

    /// An unknown command in a script: a command-shaped first word, and not a sentence.
    private static func isShellShaped(_ body: Substring) -> Bool {
        let word = firstWord(body)
        return ShellVocabulary.isCommandShaped(word) && !ShellVocabulary.looksLikeProse(String(body)) && !body.hasSuffix(".")
    }

    /// A plain script: no line outside comments reads as prose, none is a patch or mail part.
    private static func isPlainScript(_ lines: [Line]) -> Bool {
        var continued = false
        for line in lines {
            guard line.kind == .prose else { return false }
            let body = candidate(line.text).body
            defer { continued = body.hasSuffix("\\") }
            if continued || body.isEmpty || body.hasPrefix("#") { continue }
            if ShellVocabulary.looksLikeProse(String(body)) && !isKnownCommandLine(body) && !ShellVocabulary.isPowerFailureMarker(String(body)) { return false }
        }
        return true
    }

    /// A file that starts with `#!` naming a shell (every fstests test: `#! /bin/bash`) is a program: the
    /// shell reads every line of it, so none is prose, whatever it looks like (`_begin_fstest auto quick`,
    /// `$here/src/t_readdir_3 $dir $files $seed` at column 0, a subshell).
    /// (tests/generic/556 has its SPDX line first: the `#!` may follow a comment or two.)
    static func isShellProgram(_ lines: [Line]) -> Bool {
        let opening = lines.prefix(3)
        guard let first = opening.first(where: { $0.text.hasPrefix("#!") }), first.kind == .prose,
              opening.prefix(while: { $0 != first }).allSatisfy({ $0.kind == .prose && $0.text.hasPrefix("#") }) else { return false }
        let text = first.text.trimmingBlanks
        let interpreter = text.dropFirst(2).split(separator: " ").prefix(2).map { $0.split(separator: "/").last.map(String.init) ?? "" }
        return interpreter.contains { ["sh", "bash", "dash", "ksh", "zsh"].contains($0) }
    }

    private static func classifyBody(_ lines: inout [Line], plainScript: Bool, shellProgram: Bool = false) {
        if shellProgram {
            // The shell reads every line as it stands, here-documents and quoted text included: each line
            // goes to it whole, and its kind is only for the account (no prompt, no prose, no block to
            // find, so nothing is read twice: a long function costs what its lines cost).
            for index in lines.indices where lines[index].kind == .prose {
                let body = candidate(lines[index].text).body
                lines[index].kind = body.isEmpty ? .blank : body.hasPrefix("#") ? .comment : .script
                lines[index].shellText = lines[index].text
            }
            return
        }
        // Prompt style: the mail shows commands after `$ ` (Filipe Manana's style), so a line without
        // a prompt is what the command printed.
        let promptStyle = !shellProgram && lines.contains { line in
            guard line.kind == .prose else { return false }
            let body = candidate(line.text).body
            return body.hasPrefix("$ ") && isKnownCommandLine(body.dropFirst(2))
        }
        var pending = ""           // the script text of a command not yet complete
        var blockIndent: Int?      // the indentation of the script block being read
        var previousScript = false // the previous non-blank line was a script or output line
        // `$ cat test.sh` shows the script itself: the lines after it, up to the next prompt or a
        // line less indented, are read as a script without prompts. `$ ./test.sh` runs it.
        var listingIndent: Int?
        var listedScripts: Set<String> = []
        for index in lines.indices where lines[index].kind == .prose {
            let text = lines[index].text
            let parsed = candidate(text)
            lines[index].quoted = parsed.quoted
            var body = parsed.body
            if let indent = listingIndent, pending.isEmpty, !body.isEmpty, body.hasPrefix("$ ") || parsed.indent < indent {
                listingIndent = nil
                blockIndent = nil
            }
            let promptStyle = promptStyle && listingIndent == nil
            if body.hasPrefix("$ "), pending.isEmpty {
                let words = body.dropFirst(2).split(separator: " ")
                if words.count == 2, words[0] == "cat" {
                    lines[index].kind = .scriptListing
                    listingIndent = parsed.indent
                    listedScripts.insert(String(words[1].split(separator: "/").last ?? words[1]))
                    previousScript = false
                    continue
                }
                if let program = words.first, listedScripts.contains(String(program.split(separator: "/").last ?? program))
                    || (words.count >= 2 && ["sh", "bash"].contains(String(program)) && listedScripts.contains(String(words[1].split(separator: "/").last ?? words[1]))) {
                    lines[index].kind = .scriptRun
                    continue
                }
            }

            if !pending.isEmpty {
                // A continued command: `\` at the end, an open quote, a here-document's body.
                if promptStyle && (body.hasPrefix("> ") || body == ">") { body = body.dropFirst(body == ">" ? 1 : 2) }
                let shellText = parsed.indent > 0 && blockIndent != nil ? String(dropIndent(text, blockIndent!)) : String(body)
                lines[index].kind = .script
                lines[index].shellText = shellText
                pending += "\n" + (lines[index].shellText ?? "")
                if isComplete(pending) { pending = "" }
                previousScript = true
                continue
            }
            if body.isEmpty {
                lines[index].kind = .blank
                if promptStyle { previousScript = false }
                continue
            }

            var command: Substring?
            if ShellVocabulary.isPowerFailureMarker(String(body)) {
                // Before the prompt style's rule (a line without `$ ` is output): `<power fail>` is
                // written between the commands in every style.
                lines[index].kind = .powerFailure
                lines[index].shellText = "'" + String(body.trimmingBlanksSubstring) + "'"
                previousScript = true
                blockIndent = blockIndent ?? parsed.indent
                continue
            }
            if body.hasPrefix("$ ") && !ShellVocabulary.looksLikeProse(String(body.dropFirst(2))) {
                command = body.dropFirst(2)
            } else if body == "$" {
                lines[index].kind = .output
                continue
            } else if promptStyle && (previousScript || !isStandaloneCommandLine(body)) {
                // What a command printed follows it; a command written without a prompt in a mail
                // that uses prompts elsewhere stands after prose or a blank line.
                command = nil
            } else if !plainScript, body.hasPrefix("# "), isRootPromptCommand(body.dropFirst(2)) {
                command = body.dropFirst(2)
            } else if body.hasPrefix("#") {
                lines[index].kind = .comment
                lines[index].shellText = String(body)
                continue
            } else if body.hasPrefix("//"), previousScript || nextIsScript(after: index, lines) {
                // A C-style note among the commands (`// wait for the log to reach the disk`).
                lines[index].kind = .comment
                lines[index].shellText = "#" + String(body.dropFirst(2))
                continue
            } else if shellProgram || isKnownCommandLine(body) || (plainScript && isShellShaped(body)) {
                command = body
            } else if isShellShaped(body), previousScript || (parsed.indent > 0 && blockIndent.map { parsed.indent >= $0 } == true && nextIsScript(after: index, lines)) {
                command = body
            }

            guard let command else {
                if previousScript && (promptStyle || (blockIndent.map { parsed.indent >= $0 && parsed.indent > 0 } ?? false) || body.allSatisfy({ $0 == "." })) {
                    lines[index].kind = .output
                } else {
                    blockIndent = nil
                    previousScript = false
                }
                continue
            }
            lines[index].kind = .script
            lines[index].shellText = String(withoutTrailingNote(command))
            if !promptStyle { blockIndent = parsed.indent }
            previousScript = true
            if !isComplete(String(command)) { pending = String(command) }
        }
        resolveComments(&lines)
        for index in lines.indices where lines[index].inPatchNotes && (lines[index].kind == .prose || lines[index].kind == .blank) {
            lines[index].kind = .patchNotes
        }
    }

    /// `mount /dev/sdb /mnt  //will trigger issue`: a C-style note after a command (blanks, then `//`)
    /// is not part of it. A path's `//` has no blank before it.
    static func withoutTrailingNote(_ command: Substring) -> Substring {
        var search = command.startIndex
        while let slash = command[search...].firstIndex(of: "/") {
            let next = command.index(after: slash)
            if next < command.endIndex, command[next] == "/", slash > command.startIndex, command[command.index(before: slash)] == " " {
                let before = command[..<slash]
                if before.hasSuffix("  ") || command[command.index(after: next)...].first == " " {
                    return before.trimmingBlanksSubstring
                }
            }
            search = next
        }
        return command
    }

    private static func nextIsScript(after index: Int, _ lines: [Line]) -> Bool {
        for next in lines[(index + 1)...] {
            let body = candidate(next.text).body
            if body.isEmpty || body.hasPrefix("#") { continue }
            return isKnownCommandLine(body)
        }
        return false
    }

    private static func dropIndent(_ text: String, _ count: Int) -> Substring {
        var body = candidate(text).quoted ? Substring(text.drop { $0 == ">" || $0 == " " }) : Substring(text)
        var dropped = 0
        while dropped < count, let first = body.first, first == " " || first == "\t" {
            dropped += first == "\t" ? 8 : 1
            body = body.dropFirst()
        }
        return body
    }

    /// True when the text holds whole commands: no `\` at the end, no open quote or here-document,
    /// and every `for`/`while`/`if`/`{` closed.
    static func isComplete(_ text: String) -> Bool {
        if text.hasSuffix("\\") { return false }
        let lexed = ShellLexer.lex(text)
        if lexed.incomplete != nil { return false }
        var depth = 0
        var atCommandStart = true
        for token in lexed.tokens {
            switch token {
            case .word(let word):
                if atCommandStart, !word.hasQuotes, let keyword = word.plainText {
                    switch keyword {
                    case "for", "while", "until", "if", "case", "{", "select": depth += 1
                    case "done", "fi", "esac", "}": depth -= 1
                    default: break
                    }
                    atCommandStart = ["then", "do", "else", "elif", "{", "!"].contains(keyword)
                } else {
                    atCommandStart = false
                }
            case .op(let op, _):
                atCommandStart = true
                if op == "&&" || op == "||" || op == "|" {
                    if token == lexed.tokens.last { return false }
                }
            case .newline:
                atCommandStart = true
            case .redirection:
                atCommandStart = false
            }
        }
        if case .op(let op, _)? = lexed.tokens.last(where: { if case .newline = $0 { return false }; return true }), ["&&", "||", "|"].contains(op) {
            return false
        }
        return depth <= 0
    }

    /// A `#` line is a comment of the script when script lines surround it (it explains the next
    /// command or closes a block); otherwise it is prose that happens to start with `#`.
    private static func resolveComments(_ lines: inout [Line]) {
        func nearestCode(from index: Int, step: Int) -> Kind? {
            var cursor = index + step
            while cursor >= 0 && cursor < lines.count {
                switch lines[cursor].kind {
                case .comment, .blank: cursor += step
                default: return lines[cursor].kind
                }
            }
            return nil
        }
        for index in lines.indices where lines[index].kind == .comment {
            let after = nearestCode(from: index, step: 1)
            let before = nearestCode(from: index, step: -1)
            let isCode: (Kind?) -> Bool = { $0 == .script || $0 == .powerFailure || $0 == .output }
            if !isCode(after) && !isCode(before) {
                lines[index].kind = .prose
                lines[index].shellText = nil
            }
        }
    }
}

private extension Substring {
    var trimmingBlanksSubstring: Substring {
        var text = self
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}

private extension String {
    func containsText(_ needle: String) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        var start = startIndex
        while let found = self[start...].firstIndex(of: needle.first!) {
            if self[found...].hasPrefix(needle) { return true }
            start = index(after: found)
        }
        return false
    }
}
