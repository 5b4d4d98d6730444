/// The shell grammar the importer reads, as a tree: lists joined by `;` `&` `&&` `||`, pipelines,
/// simple commands, `for` loops, `if` clauses, `{ … }` and `( … )` groups and function definitions.
/// Constructs the importer does not run (`while`, `until`, `case`) are kept as one node naming their
/// lines, so that they are reported, never dropped.
public indirect enum ShellNode: Equatable, Sendable {
    case simple(SimpleNode)
    /// Commands joined by `|`, in order.
    case pipeline([ShellNode])
    /// Items each followed by the operator that joins it to the next (`;`, `&`, `&&`, `||`, or nil).
    case list([ListItem])
    case forLoop(variable: String, words: [ShellWord]?, body: ShellNode, lines: ClosedRange<Int>)
    /// `for ((init; condition; step)); do … done`, with the three expressions' texts.
    case arithmeticFor(initial: String, condition: String, step: String, body: ShellNode, lines: ClosedRange<Int>)
    case group(ShellNode, subshell: Bool, lines: ClosedRange<Int>)
    case function(name: String, body: ShellNode, lines: ClosedRange<Int>)
    case unsupported(keyword: String, lines: ClosedRange<Int>)
    /// `while C; do B; done` (`until`: the condition negated).
    case whileLoop(condition: ShellNode, until: Bool, body: ShellNode, lines: ClosedRange<Int>)
    /// `if C; then B; elif C2; then B2; else E; fi`.
    case ifClause(branches: [IfBranch], elseBody: ShellNode?, lines: ClosedRange<Int>)

    public struct ListItem: Equatable, Sendable {
        public var node: ShellNode
        public var connector: String?
    }

    /// One `if`/`elif` condition (`!` in front of it sets `negated`) and the body it guards.
    public struct IfBranch: Equatable, Sendable {
        public var condition: ShellNode
        public var negated: Bool
        public var body: ShellNode
    }

    /// The input lines the node was read from.
    public var lines: ClosedRange<Int>? {
        switch self {
        case .simple(let simple): simple.lines
        case .pipeline(let nodes): ShellNode.span(nodes.compactMap(\.lines))
        case .list(let items): ShellNode.span(items.compactMap(\.node.lines))
        case .forLoop(_, _, _, let lines), .arithmeticFor(_, _, _, _, let lines), .group(_, _, let lines), .function(_, _, let lines), .unsupported(_, let lines), .ifClause(_, _, let lines), .whileLoop(_, _, _, let lines): lines
        }
    }

    static func span(_ ranges: [ClosedRange<Int>]) -> ClosedRange<Int>? {
        guard let low = ranges.map(\.lowerBound).min(), let high = ranges.map(\.upperBound).max() else { return nil }
        return low...high
    }
}

public struct SimpleNode: Equatable, Sendable {
    /// `NAME=value` words before the command name (all the words, for a bare assignment).
    public var assignments: [ShellWord]
    public var words: [ShellWord]
    public var redirections: [ShellRedirectionToken]
    public var lines: ClosedRange<Int>
}

/// Builds the tree from the lexer's tokens. It stops at nothing: a syntax error becomes an
/// `unsupported` node over the lines it spans, and parsing goes on after it.
public struct ShellSyntaxParser {
    private var tokens: [ShellToken]
    private var index = 0
    private var lastLine = 1

    public static func parse(_ tokens: [ShellToken]) -> ShellNode {
        var parser = ShellSyntaxParser(tokens: tokens)
        var items: [ShellNode.ListItem] = []
        while parser.index < parser.tokens.count {
            items += parser.parseList(until: [])
            // A stray closer (`done`, `fi`, `)`) at top level: report its line and go on.
            if parser.index < parser.tokens.count {
                let line = parser.tokens[parser.index].line
                parser.index += 1
                items.append(.init(node: .unsupported(keyword: "unbalanced", lines: line...line), connector: nil))
            }
        }
        return .list(items)
    }

    private init(tokens: [ShellToken]) { self.tokens = tokens }

    private var current: ShellToken? { index < tokens.count ? tokens[index] : nil }

    private func keyword(at position: Int) -> String? {
        guard position < tokens.count, case .word(let word) = tokens[position], !word.hasQuotes else { return nil }
        return word.plainText
    }

    private mutating func skipNewlines() {
        while case .newline? = current { index += 1 }
    }

    private mutating func parseList(until closers: Set<String>) -> [ShellNode.ListItem] {
        var items: [ShellNode.ListItem] = []
        while true {
            skipNewlines()
            guard let token = current else { return items }
            if let word = keyword(at: index), closers.contains(word) { return items }
            if case .op(let op, _) = token, op == ")" || op == ";;" { return items }
            let andOr = parseAndOr()
            items += andOr
            if case .op(let op, _)? = current, op == ";" || op == "&" {
                items[items.count - 1].connector = op
                index += 1
            }
        }
    }

    private mutating func parseAndOr() -> [ShellNode.ListItem] {
        var items: [ShellNode.ListItem] = [.init(node: parsePipeline(), connector: nil)]
        while case .op(let op, _)? = current, op == "&&" || op == "||" {
            index += 1
            skipNewlines()
            items[items.count - 1].connector = op
            items.append(.init(node: parsePipeline(), connector: nil))
        }
        return items
    }

    private mutating func parsePipeline() -> ShellNode {
        if keyword(at: index) == "!" { index += 1 }
        var commands = [parseCommand()]
        while case .op("|", _)? = current {
            index += 1
            skipNewlines()
            commands.append(parseCommand())
        }
        return commands.count == 1 ? commands[0] : .pipeline(commands)
    }

    private mutating func parseCommand() -> ShellNode {
        let startLine = current?.line ?? lastLine
        switch keyword(at: index) {
        case "for":
            return parseFor(startLine: startLine)
        case "if":
            return parseIf(startLine: startLine)
        case "while", "until":
            return parseWhile(startLine: startLine)
        case "case", "select":
            return skipCompound(startLine: startLine)
        case "{":
            index += 1
            let body = parseList(until: ["}"])
            guard let end = expect("}") else { return .unsupported(keyword: "unterminated", lines: startLine...lastTokenLine) }
            skipTrailingRedirections()
            return .group(.list(body), subshell: false, lines: startLine...max(startLine, end))
        case "function":
            index += 1
            let name = keyword(at: index) ?? "?"
            index += 1
            if case .op("(", _)? = current, index + 1 < tokens.count, case .op(")", _) = tokens[index + 1] { index += 2 }
            skipNewlines()
            let body = parseCommand()
            return .function(name: name, body: body, lines: startLine...max(startLine, body.lines?.upperBound ?? startLine))
        default:
            break
        }
        if case .op("(", _)? = current {
            index += 1
            let body = parseList(until: [])
            let end = current?.line ?? startLine
            if case .op(")", _)? = current { index += 1 }
            skipTrailingRedirections()
            return .group(.list(body), subshell: true, lines: startLine...max(startLine, end))
        }
        // `name() { … }`
        if let name = keyword(at: index), index + 2 < tokens.count,
           case .op("(", _) = tokens[index + 1], case .op(")", _) = tokens[index + 2] {
            index += 3
            skipNewlines()
            let body = parseCommand()
            return .function(name: name, body: body, lines: startLine...max(startLine, body.lines?.upperBound ?? startLine))
        }
        return parseSimple(startLine: startLine)
    }

    private mutating func parseSimple(startLine: Int) -> ShellNode {
        var node = SimpleNode(assignments: [], words: [], redirections: [], lines: startLine...startLine)
        var end = startLine
        loop: while let token = current {
            switch token {
            case .word(let word):
                if node.words.isEmpty, ShellSyntaxParser.isAssignment(word) {
                    node.assignments.append(word)
                } else {
                    node.words.append(word)
                }
            case .redirection(let redirection, _):
                node.redirections.append(redirection)
            case .op, .newline:
                break loop
            }
            end = max(end, token.line)
            // A quoted word over several lines (an awk program in '…') ends on its last line.
            if case .word(let word) = token { end = max(end, token.line + ShellSyntaxParser.rawText(word).filter { $0 == "\n" }.count) }
            if case .redirection(let redirection, _) = token, let body = redirection.hereDocument {
                end = max(end, token.line + body.filter { $0 == "\n" }.count + 1)
            }
            index += 1
        }
        if node.words.isEmpty && node.assignments.isEmpty && node.redirections.isEmpty {
            // An operator where a command should be (`; ;`, `| |`): skip it so that parsing advances.
            if case .op(let op, let line)? = current, op != ")" && op != ";;" {
                index += 1
                return .unsupported(keyword: op, lines: line...line)
            }
        }
        node.lines = startLine...end
        lastLine = end
        return .simple(node)
    }

    /// `while LIST; do LIST; done` and `until …`; one without `do` is skipped as one block.
    private mutating func parseWhile(startLine: Int) -> ShellNode {
        let start = index
        let until = keyword(at: index) == "until"
        index += 1
        let condition = parseList(until: ["do"])
        guard expect("do") != nil else {
            index = start
            return skipCompound(startLine: startLine)
        }
        let body = parseList(until: ["done"])
        guard let end = expect("done") else { return .unsupported(keyword: "unterminated", lines: startLine...lastTokenLine) }
        skipTrailingRedirections()
        return .whileLoop(condition: .list(condition), until: until, body: .list(body), lines: startLine...max(startLine, end))
    }

    private mutating func parseFor(startLine: Int) -> ShellNode {
        index += 1
        if case .op("(", _)? = current, index + 1 < tokens.count, case .op("(", _) = tokens[index + 1] {
            return parseArithmeticFor(startLine: startLine)
        }
        let variable = keyword(at: index) ?? ""
        index += 1
        var words: [ShellWord]?
        if keyword(at: index) == "in" {
            index += 1
            words = []
            while case .word(let word)? = current {
                words!.append(word)
                index += 1
            }
        }
        if case .op(";", _)? = current { index += 1 }
        skipNewlines()
        guard keyword(at: index) == "do" else {
            return skipCompound(startLine: startLine, alreadyOpened: true)
        }
        index += 1
        let body = parseList(until: ["done"])
        guard let end = expect("done") else { return .unsupported(keyword: "unterminated", lines: startLine...lastTokenLine) }
        skipTrailingRedirections()
        return .forLoop(variable: variable, words: words, body: .list(body), lines: startLine...max(startLine, end))
    }

    /// `if … then … [elif … then …] [else …] fi`; anything else from `if` on is skipped as one block.
    private mutating func parseIf(startLine: Int) -> ShellNode {
        let start = index
        index += 1
        var branches: [ShellNode.IfBranch] = []
        while true {
            skipNewlines()
            let negated = keyword(at: index) == "!"
            let condition = parseList(until: ["then"])
            guard !condition.isEmpty, expect("then") != nil else { index = start; return skipCompound(startLine: startLine) }
            let body = parseList(until: ["elif", "else", "fi"])
            branches.append(.init(condition: .list(condition), negated: negated, body: .list(body)))
            if expect("elif") != nil { continue }
            let elseBody: ShellNode? = expect("else") != nil ? .list(parseList(until: ["fi"])) : nil
            guard let end = expect("fi") else { index = start; return skipCompound(startLine: startLine) }
            skipTrailingRedirections()
            return .ifClause(branches: branches, elseBody: elseBody, lines: startLine...max(startLine, end))
        }
    }

    /// `for ((i = 0; i < n; i++))`: the lexer split the expressions into words and operators; their
    /// text is put back together (spacing does not matter to arithmetic).
    private mutating func parseArithmeticFor(startLine: Int) -> ShellNode {
        index += 2
        var text = ""
        var depth = 0
        while let token = current {
            index += 1
            switch token {
            case .op("(", _): depth += 1; text += "("
            case .op(")", _):
                if depth == 0 {
                    if case .op(")", _)? = current { index += 1 }
                    return finishArithmeticFor(text, startLine: startLine)
                }
                depth -= 1
                text += ")"
            case .op(let op, _): text += " \(op) "
            case .word(let word): text += " " + (word.plainText ?? ShellSyntaxParser.rawText(word)) + " "
            case .redirection(let redirection, _): text += " " + redirection.op + (redirection.target.plainText ?? ShellSyntaxParser.rawText(redirection.target)) + " "
            case .newline: text += " "
            }
        }
        return .unsupported(keyword: "for", lines: startLine...(current?.line ?? startLine))
    }

    private mutating func finishArithmeticFor(_ text: String, startLine: Int) -> ShellNode {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false).map { String($0).trimmingBlanks }
        if case .op(";", _)? = current { index += 1 }
        skipNewlines()
        guard parts.count == 3, keyword(at: index) == "do" else {
            return skipCompound(startLine: startLine, alreadyOpened: true)
        }
        index += 1
        let body = parseList(until: ["done"])
        guard let end = expect("done") else { return .unsupported(keyword: "unterminated", lines: startLine...lastTokenLine) }
        skipTrailingRedirections()
        return .arithmeticFor(initial: parts[0], condition: parts[1], step: parts[2], body: .list(body), lines: startLine...max(startLine, end))
    }

    /// A word's text with its expansions written back as `$name`, `$((…))`, `$(…)`.
    static func rawText(_ word: ShellWord) -> String {
        word.parts.map { part in
            switch part {
            case .literal(let text, _): text
            case .variable(let name, _, _): "$" + name
            case .arithmetic(let text, _): "$((\(text)))"
            case .commandSubstitution(let text, _): "$(\(text))"
            }
        }.joined()
    }

    /// Consumes an `if`/`while`/`until`/`case` up to its matching end and returns it as one node.
    private mutating func skipCompound(startLine: Int, alreadyOpened: Bool = false) -> ShellNode {
        let opener = alreadyOpened ? "for" : (keyword(at: index) ?? "?")
        var depth = 0
        var end = startLine
        var atCommandStart = true
        if alreadyOpened { depth = 1 }
        while let token = current {
            end = max(end, token.line)
            if atCommandStart, let word = keyword(at: index) {
                switch word {
                case "if", "while", "until", "case", "for", "select": depth += 1
                case "fi", "done", "esac": depth -= 1
                default: break
                }
            }
            switch token {
            case .word(let word): atCommandStart = ["then", "do", "else", "elif", "in", "!"].contains(word.plainText ?? "") && !word.hasQuotes
            case .redirection: atCommandStart = false
            case .op, .newline: atCommandStart = true
            }
            index += 1
            if depth <= 0 { break }
        }
        skipTrailingRedirections()
        return .unsupported(keyword: opener, lines: startLine...end)
    }

    /// The line of the last token read (the end of an unterminated block).
    private var lastTokenLine: Int { tokens.isEmpty ? 1 : tokens[min(index, tokens.count) - (index > 0 ? 1 : 0)].line }

    private mutating func expect(_ word: String) -> Int? {
        guard keyword(at: index) == word else { return nil }
        let line = tokens[index].line
        index += 1
        return line
    }

    private mutating func skipTrailingRedirections() {
        while case .redirection? = current { index += 1 }
    }

    static func isAssignment(_ word: ShellWord) -> Bool {
        guard case .literal(let text, false)? = word.parts.first, let equals = text.firstIndex(of: "=") else { return false }
        let name = text[..<equals]
        guard let first = name.first, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }
}
