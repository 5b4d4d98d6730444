/// One piece of a shell word. Pieces stay apart until expansion, because what was quoted is neither
/// expanded nor split, and what was not quoted is.
public enum WordPart: Equatable, Sendable {
    /// Text taken as it stands: unquoted characters with their escapes resolved, or single-quoted text.
    case literal(String, quoted: Bool)
    /// `$name`, `${name}`, `${name:-fallback}` (the fallback is itself a word's text).
    case variable(String, fallback: String?, quoted: Bool)
    /// `$(…)` or `` `…` ``: the command's text.
    case commandSubstitution(String, quoted: Bool)
    /// `$((…))`: the expression's text.
    case arithmetic(String, quoted: Bool)
}

/// A word as the lexer read it, with the input line it started on.
public struct ShellWord: Equatable, Sendable {
    public var parts: [WordPart]
    public var line: Int

    /// The word's text when it holds no expansion (keywords, heredoc delimiters, function names).
    public var plainText: String? {
        var text = ""
        for part in parts {
            guard case .literal(let piece, _) = part else { return nil }
            text += piece
        }
        return text
    }

    /// True when some part was quoted: `"done"` is not the keyword `done`.
    public var hasQuotes: Bool {
        parts.contains { part in
            switch part {
            case .literal(_, let quoted), .variable(_, _, let quoted), .commandSubstitution(_, let quoted), .arithmetic(_, let quoted): quoted
            }
        }
    }
}

/// A redirection as written: `2>&1`, `> file`, `>> file`, `&> file`, `< file`, `<<EOF` (with its body).
public struct ShellRedirectionToken: Equatable, Sendable {
    /// The file descriptor written before the operator (`2` in `2>&1`), nil when none was.
    public var descriptor: Int?
    /// `>`, `>>`, `<`, `>&`, `<&`, `&>`, `&>>`, `>|`, `<>`, `<<`, `<<-`, `<<<`.
    public var op: String
    public var target: ShellWord
    /// A here-document's body, for `<<` and `<<-`.
    public var hereDocument: String?
}

public enum ShellToken: Equatable, Sendable {
    case word(ShellWord)
    /// `;`, `&`, `&&`, `||`, `|`, `(`, `)`, `;;`.
    case op(String, line: Int)
    case newline(line: Int)
    case redirection(ShellRedirectionToken, line: Int)

    public var line: Int {
        switch self {
        case .word(let word): word.line
        case .op(_, let line), .newline(let line), .redirection(_, let line): line
        }
    }
}

/// A line of input given to the shell front end: its number in the original input and its text.
public struct NumberedLine: Equatable, Sendable {
    public var number: Int
    public var text: String
    public init(number: Int, text: String) {
        self.number = number
        self.text = text
    }
}
