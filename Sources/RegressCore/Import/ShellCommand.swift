/// A simple command after expansion: what the shell would run, with the input lines it came from.
public struct ShellCommand: Equatable, Sendable {
    public var argv: [String]
    /// `NAME=value` prefixes, which set the command's environment only.
    public var environment: [String: String]
    public var redirections: [ShellRedirection]
    /// The first and last input line of the command (a command continued with `\` spans several).
    public var firstLine: Int
    public var lastLine: Int
    /// Where the command sits in a pipeline (`index` of `count`), nil when it is not in one.
    public var pipeline: PipelinePosition?
    /// The operator after the command: `;`, `&`, `&&`, `||`, or nil at the end of a line.
    public var connector: String?
    /// Words left as written because the front end does not run them (`$(stat …)`, an unknown `$var`).
    public var unexpanded: [String]

    public struct PipelinePosition: Equatable, Sendable {
        public var index: Int
        public var count: Int
    }

    public var lines: ClosedRange<Int> { firstLine...lastLine }

    public init(argv: [String], environment: [String: String] = [:], redirections: [ShellRedirection] = [],
                firstLine: Int, lastLine: Int, pipeline: PipelinePosition? = nil, connector: String? = nil,
                unexpanded: [String] = []) {
        self.argv = argv
        self.environment = environment
        self.redirections = redirections
        self.firstLine = firstLine
        self.lastLine = lastLine
        self.pipeline = pipeline
        self.connector = connector
        self.unexpanded = unexpanded
    }

    /// The file the command's standard output goes to (`> f`, `>> f`, `&> f`), with whether it appends.
    public var standardOutputTarget: (path: String, append: Bool)? {
        for redirection in redirections.reversed() where redirection.descriptor == nil || redirection.descriptor == 1 {
            switch redirection.op {
            case ">", ">|", "&>": return (redirection.target, false)
            case ">>", "&>>": return (redirection.target, true)
            default: continue
            }
        }
        return nil
    }

    /// True when the output reaches the terminal: not redirected to a file, not piped on.
    public var writesToTerminal: Bool {
        if let pipeline, pipeline.index < pipeline.count - 1 { return false }
        return standardOutputTarget == nil
    }
}

/// A redirection after expansion of its target.
public struct ShellRedirection: Equatable, Sendable {
    public var descriptor: Int?
    public var op: String
    public var target: String
    public var hereDocument: String?

    public init(descriptor: Int? = nil, op: String, target: String, hereDocument: String? = nil) {
        self.descriptor = descriptor
        self.op = op
        self.target = target
        self.hereDocument = hereDocument
    }
}
