/// A word of a test line and the column where it starts (1-based).
public struct Token: Equatable, Sendable {
    public let text: String
    public let column: Int
    public init(text: String, column: Int) { self.text = text; self.column = column }

    /// Splits a line on blanks; `#` at the start of a word begins a comment.
    public static func split(_ line: Substring) -> [Token] {
        var tokens: [Token] = []
        var current = ""
        var start = 0
        for (offset, character) in line.enumerated() {
            if character == " " || character == "\t" || character == "\r" {
                if !current.isEmpty { tokens.append(Token(text: current, column: start + 1)); current = "" }
            } else {
                if current.isEmpty {
                    if character == "#" { return tokens }
                    start = offset
                }
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(Token(text: current, column: start + 1)) }
        return tokens
    }
}

/// Walks a step's arguments as xfs_io's commands read theirs (getopt, then positional words), turning each
/// problem into a diagnostic at the right column.
public struct ArgumentReader {
    public let command: Token
    let file: String
    let line: Int
    /// What `b` and `s` mean, and the default buffer of pwrite and pread.
    public let units: BlockUnits
    private var positional: [Token]
    private var index = 0
    /// The options getopt found, in order, each with its argument.
    private var options: [(flag: Character, argument: Token?, token: Token)] = []

    init(arguments: [Token], command: Token, file: String, line: Int, units: BlockUnits) {
        self.units = units
        self.positional = arguments
        self.command = command
        self.file = file
        self.line = line
    }

    public var isAtEnd: Bool { index >= positional.count }
    public var remaining: [Token] { Array(positional[index...]) }

    public func location(of token: Token) -> SourceLocation { SourceLocation(file: file, line: line, column: token.column) }
    public func error(at token: Token, _ message: String) -> Diagnostic { Diagnostic(location(of: token), message) }

    /// The column just after the last word: where a missing argument should have been.
    public var endLocation: SourceLocation {
        let last = positional.last ?? command
        return SourceLocation(file: file, line: line, column: last.column + last.text.count)
    }

    /// Reads options as glibc's getopt does for xfs_io: `optstring` letters, `:` after a letter that takes an
    /// argument (`-b4k` or `-b 4k`), flags may be grouped (`-wW`), options may come after positional words
    /// (glibc permutes), `--` ends them. Returns each option with its argument, in order.
    public mutating func getopt(_ optstring: String) throws -> [(flag: Character, argument: Token?, at: Token)] {
        var takesArgument: [Character: Bool] = [:]
        var letters = Array(optstring)
        var i = 0
        while i < letters.count {
            let hasArgument = i + 1 < letters.count && letters[i + 1] == ":"
            takesArgument[letters[i]] = hasArgument
            i += hasArgument ? 2 : 1
        }
        letters = letters.filter { $0 != ":" }
        var rest: [Token] = []
        var found: [(Character, Token?, Token)] = []
        var j = index
        while j < positional.count {
            let token = positional[j]
            j += 1
            if token.text == "--" { rest += positional[j...]; break }
            guard token.text.hasPrefix("-"), token.text.count > 1 else { rest.append(token); continue }
            var characters = Array(token.text.dropFirst())
            while !characters.isEmpty {
                let flag = characters.removeFirst()
                guard let hasArgument = takesArgument[flag] else {
                    let known = letters.map { "-\($0)" }.joined(separator: " ")
                    throw error(at: token, "unknown option '-\(flag)' for \(command.text) (known: \(known.isEmpty ? "none" : known))")
                }
                if !hasArgument { found.append((flag, nil, token)); continue }
                if !characters.isEmpty {
                    let attached = String(characters)
                    found.append((flag, Token(text: attached, column: token.column + token.text.count - attached.count), token))
                } else {
                    guard j < positional.count else { throw Diagnostic(endLocation, "\(command.text): option -\(flag) needs a value") }
                    found.append((flag, positional[j], token))
                    j += 1
                }
                break
            }
        }
        positional = Array(positional[..<index]) + rest
        return found
    }

    public mutating func optionalWord() -> Token? {
        guard !isAtEnd else { return nil }
        defer { index += 1 }
        return positional[index]
    }

    public mutating func word(_ what: String) throws -> Token {
        guard let token = optionalWord() else { throw Diagnostic(endLocation, "\(command.text): missing \(what)") }
        return token
    }

    /// A number as xfs_io's cvtnum reads it (see `Size`).
    public mutating func size(_ what: String) throws -> UInt64 {
        try number(word(what), what)
    }

    public func number(_ token: Token, _ what: String) throws -> UInt64 {
        guard let value = Size.parse(token.text, units: units) else { throw error(at: token, "bad \(what) '\(token.text)'") }
        return value
    }

    public mutating func range() throws -> ByteRange {
        let offset = try size("offset")
        let length = try size("length")
        return ByteRange(offset: offset, length: length)
    }

    public mutating func path(_ what: String) throws -> String {
        let token = try word(what)
        try TestParser.checkPath(token.text, at: location(of: token))
        return token.text
    }

    public func expectEnd() throws {
        guard isAtEnd else { throw error(at: positional[index], "\(command.text): unexpected argument '\(positional[index].text)'") }
    }

    /// Where the n-th positional argument stands (for diagnostics found after parsing).
    public func location(ofArgument n: Int) -> SourceLocation {
        n < positional.count ? location(of: positional[n]) : location(of: command)
    }
}
