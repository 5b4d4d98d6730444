/// Splits shell text into words, operators, redirections and newlines, as POSIX sh reads them: `\`
/// line continuations, single and double quotes, backslash escapes, `#` comments, `$var`, `${var}`,
/// `$(…)`, `` `…` ``, `$((…))` and here-documents. It never runs anything.
///
/// Each token keeps the number of the input line it came from, so that every command the parser
/// builds can name the lines it was read from.
public struct ShellLexer {
    public struct Output: Equatable, Sendable {
        public var tokens: [ShellToken]
        /// Input lines that held a comment (the whole line or its end), with the comment's text.
        public var comments: [Int: String]
        /// Why the text ends in the middle of something (an open quote, a `\` on the last line, a
        /// here-document without its end), or nil when it is complete.
        public var incomplete: String?
    }

    private var characters: [Character] = []
    private var lines: [Int] = []
    private var index = 0
    private var tokens: [ShellToken] = []
    private var comments: [Int: String] = [:]
    private var incomplete: String?
    /// Here-documents whose body starts after the next newline: token index, delimiter, strip tabs.
    private var pendingHereDocuments: [(token: Int, delimiter: String, stripTabs: Bool)] = []

    public static func lex(_ input: [NumberedLine]) -> Output {
        var lexer = ShellLexer()
        for (position, line) in input.enumerated() {
            var text = line.text
            if text.hasSuffix("\r") { text.removeLast() }
            for character in text {
                lexer.characters.append(character)
                lexer.lines.append(line.number)
            }
            if position < input.count - 1 || !text.isEmpty {
                lexer.characters.append("\n")
                lexer.lines.append(line.number)
            }
        }
        lexer.run()
        return Output(tokens: lexer.tokens, comments: lexer.comments, incomplete: lexer.incomplete)
    }

    public static func lex(_ text: String, firstLine: Int = 1) -> Output {
        let split = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lex(split.enumerated().map { NumberedLine(number: firstLine + $0.offset, text: String($0.element)) })
    }

    private var current: Character? { index < characters.count ? characters[index] : nil }
    private func peek(_ offset: Int = 1) -> Character? { index + offset < characters.count ? characters[index + offset] : nil }
    private var line: Int { lines.isEmpty ? 1 : lines[min(index, lines.count - 1)] }

    private mutating func run() {
        while let character = current {
            switch character {
            case " ", "\t", "\r":
                index += 1
            case "\\" where peek() == "\n":
                index += 2
            case "\n":
                tokens.append(.newline(line: line))
                index += 1
                readHereDocuments()
            case "#":
                let start = line
                var text = ""
                while let next = current, next != "\n" {
                    text.append(next)
                    index += 1
                }
                comments[start] = text
            case ";", "&", "|", "(", ")":
                readOperator()
            case "<" where placeholderLength() != nil:
                // `<file>`, `<mnt>`: a placeholder a mail writes where a path goes, not two redirections.
                let length = placeholderLength()!
                tokens.append(.word(ShellWord(parts: [.literal(String(characters[index..<(index + length)]), quoted: true)], line: line)))
                index += length
            case "<", ">":
                readRedirection(descriptor: nil)
            default:
                readWordOrRedirection()
            }
        }
        if !pendingHereDocuments.isEmpty && incomplete == nil {
            incomplete = "here-document without its end '\(pendingHereDocuments[0].delimiter)'"
        }
    }

    /// The length of a placeholder word at the cursor: `<`, a name (letters, digits, `_`, `-`), `>`, then
    /// a blank, `;`, `:` or the end of the line. nil for anything else (`<in`, `<<EOF`, `<&3`).
    private func placeholderLength() -> Int? {
        guard current == "<", let first = peek(), first.isASCII, first.isLetter else { return nil }
        var end = index + 1
        while end < characters.count, characters[end].isASCII, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" || characters[end] == "-" {
            end += 1
        }
        guard end < characters.count, characters[end] == ">" else { return nil }
        let after = end + 1 < characters.count ? characters[end + 1] : "\n"
        guard [" ", "\t", "\n", ";", ":", "\r"].contains(after) else { return nil }
        return end + 1 - index
    }

    private mutating func readOperator() {
        let start = line
        let first = current!
        let second = peek()
        index += 1
        switch (first, second) {
        case ("&", "&"), ("|", "|"), (";", ";"):
            index += 1
            tokens.append(.op(String([first, second!]), line: start))
        case ("&", ">"):
            index -= 1
            readRedirection(descriptor: nil)
        default:
            tokens.append(.op(String(first), line: start))
        }
    }

    /// A word made only of digits directly followed by `<` or `>` is a file descriptor (`2>&1`).
    private mutating func readWordOrRedirection() {
        var lookahead = index
        while lookahead < characters.count, characters[lookahead].isASCII, characters[lookahead].isNumber { lookahead += 1 }
        if lookahead > index, lookahead < characters.count, characters[lookahead] == "<" || characters[lookahead] == ">" {
            let descriptor = Int(String(characters[index..<lookahead]))
            index = lookahead
            readRedirection(descriptor: descriptor)
            return
        }
        if let word = readWord() { tokens.append(.word(word)) }
    }

    private mutating func readRedirection(descriptor: Int?) {
        let start = line
        var op = ""
        if current == "&" { op = "&"; index += 1 }
        let first = current!
        op.append(first)
        index += 1
        switch (first, current) {
        case (">", ">"), (">", "&"), (">", "|"), ("<", "&"), ("<", ">"):
            op.append(current!)
            index += 1
            if op == "&>>" || op == "&>", current == ">" { op.append(">"); index += 1 }
        case ("<", "<"):
            op.append("<")
            index += 1
            if current == "-" || current == "<" { op.append(current!); index += 1 }
        default:
            break
        }
        if op == "&>", current == ">" { op = "&>>"; index += 1 }
        while current == " " || current == "\t" { index += 1 }
        guard let target = readWord() else {
            incomplete = incomplete ?? "redirection '\(op)' without a target"
            return
        }
        var redirection = ShellRedirectionToken(descriptor: descriptor, op: op, target: target, hereDocument: nil)
        if op == "<<" || op == "<<-" {
            let delimiter = target.parts.map { part -> String in
                if case .literal(let text, _) = part { return text }
                return ""
            }.joined()
            redirection.hereDocument = ""
            pendingHereDocuments.append((tokens.count, delimiter, op == "<<-"))
        }
        tokens.append(.redirection(redirection, line: start))
    }

    /// Reads the bodies of the here-documents opened on the line just ended.
    private mutating func readHereDocuments() {
        while !pendingHereDocuments.isEmpty {
            let pending = pendingHereDocuments.removeFirst()
            var body = ""
            var closed = false
            while index < characters.count {
                var text = ""
                while let next = current, next != "\n" {
                    text.append(next)
                    index += 1
                }
                if current == "\n" { index += 1 }
                let compared = pending.stripTabs ? String(text.drop { $0 == "\t" }) : text
                if compared == pending.delimiter { closed = true; break }
                body += compared + "\n"
            }
            if case .redirection(var redirection, let at) = tokens[pending.token] {
                redirection.hereDocument = body
                tokens[pending.token] = .redirection(redirection, line: at)
            }
            if !closed { incomplete = incomplete ?? "here-document without its end '\(pending.delimiter)'" }
        }
    }

    /// Reads one word; nil when the next character cannot start one.
    private mutating func readWord() -> ShellWord? {
        let start = line
        var parts: [WordPart] = []
        var literal = ""
        func flush() {
            if !literal.isEmpty { parts.append(.literal(literal, quoted: false)); literal = "" }
        }
        loop: while let character = current {
            switch character {
            case " ", "\t", "\n", ";", "&", "|", "<", ">", "(", ")":
                break loop
            case "\r":
                index += 1
            case "\\":
                if peek() == "\n" { index += 2; continue }
                if let escaped = peek() {
                    flush()
                    parts.append(.literal(String(escaped), quoted: true))
                    index += 2
                } else {
                    index += 1
                }
            case "'":
                flush()
                index += 1
                var text = ""
                while let next = current, next != "'" { text.append(next); index += 1 }
                if current == nil { incomplete = incomplete ?? "unterminated single quote" }
                index += 1
                parts.append(.literal(text, quoted: true))
            case "\"":
                flush()
                index += 1
                parts += readDoubleQuoted()
            case "$":
                flush()
                if let expansion = readDollar(quoted: false) { parts.append(expansion) } else { literal.append("$") }
            case "`":
                flush()
                index += 1
                var text = ""
                while let next = current, next != "`" { text.append(next); index += 1 }
                if current == nil { incomplete = incomplete ?? "unterminated backquote" }
                index += 1
                parts.append(.commandSubstitution(text, quoted: false))
            default:
                literal.append(character)
                index += 1
            }
        }
        flush()
        return parts.isEmpty ? nil : ShellWord(parts: parts, line: start)
    }

    private mutating func readDoubleQuoted() -> [WordPart] {
        var parts: [WordPart] = []
        var literal = ""
        var sawAnything = false
        func flush() {
            if !literal.isEmpty { parts.append(.literal(literal, quoted: true)); literal = "" }
        }
        while let character = current, character != "\"" {
            sawAnything = true
            switch character {
            case "\\":
                if let next = peek(), "$`\"\\\n".contains(next) {
                    if next != "\n" { literal.append(next) }
                    index += 2
                } else {
                    literal.append("\\")
                    index += 1
                }
            case "$":
                flush()
                if let expansion = readDollar(quoted: true) { parts.append(expansion) } else { literal.append("$") }
            case "`":
                flush()
                index += 1
                var text = ""
                while let next = current, next != "`" { text.append(next); index += 1 }
                index += 1
                parts.append(.commandSubstitution(text, quoted: true))
            default:
                literal.append(character)
                index += 1
            }
        }
        if current == nil { incomplete = incomplete ?? "unterminated double quote" }
        index += 1
        flush()
        if parts.isEmpty && !sawAnything { parts.append(.literal("", quoted: true)) }
        return parts
    }

    /// At a `$`: reads the expansion after it, or returns nil (and consumes only the `$`) for a lone `$`.
    private mutating func readDollar(quoted: Bool) -> WordPart? {
        index += 1
        guard let next = current else { return nil }
        if next == "(" && peek() == "(" {
            index += 2
            let text = readBalanced(open: "(", close: ")", depth: 2)
            return .arithmetic(String(text.dropLast()), quoted: quoted)
        }
        if next == "(" {
            index += 1
            return .commandSubstitution(readBalanced(open: "(", close: ")", depth: 1), quoted: quoted)
        }
        if next == "{" {
            index += 1
            let body = readBalanced(open: "{", close: "}", depth: 1)
            // `${name:-word}`, `${name-word}`, `${name:=word}`, `${name=word}`: the word is the fallback.
            let nameEnd = body.firstIndex { !($0.isLetter || $0.isNumber || $0 == "_") } ?? body.endIndex
            let name = String(body[..<nameEnd])
            var rest = body[nameEnd...]
            if rest.first == ":" { rest = rest.dropFirst() }
            if let operator_ = rest.first, operator_ == "-" || operator_ == "=" {
                return .variable(name, fallback: String(rest.dropFirst()), quoted: quoted)
            }
            return .variable(body, fallback: nil, quoted: quoted)
        }
        if next.isLetter || next == "_" {
            var name = ""
            while let character = current, character.isLetter || character.isNumber || character == "_" {
                name.append(character)
                index += 1
            }
            return .variable(name, fallback: nil, quoted: quoted)
        }
        if next.isNumber || "?#@*$!-".contains(next) {
            index += 1
            return .variable(String(next), fallback: nil, quoted: quoted)
        }
        return nil
    }

    /// Reads up to the close that brings depth to zero; returns the text before that close.
    private mutating func readBalanced(open: Character, close: Character, depth: Int) -> String {
        var depth = depth
        var text = ""
        while let character = current {
            index += 1
            if character == open { depth += 1 }
            if character == close {
                depth -= 1
                if depth == 0 { return text }
            }
            text.append(character)
        }
        incomplete = incomplete ?? "unterminated '\(open)'"
        return text
    }
}
