/// What became of one input line of a reproducer: every line ends up translated (into which steps),
/// ignored on purpose (and why), or untranslated (and why). `regress import` prints this per line, so
/// that nothing a developer posted is dropped without the importer saying so.
public struct ImportLine: Equatable, Sendable {
    public var number: Int
    public var text: String
    public var disposition: Disposition

    public init(number: Int, text: String, disposition: Disposition) {
        self.number = number
        self.text = text
        self.disposition = disposition
    }

    public enum Disposition: Equatable, Sendable {
        /// The line's command(s) became these steps (empty for a command that sets state only, such as
        /// the first mount, whose options go to the test's header).
        case translated([String])
        /// The line continues the command that starts on that line; see that line.
        case continues(Int)
        case ignored(IgnoredReason)
        case untranslated(String)
    }

    public enum IgnoredReason: Equatable, Sendable {
        case prose
        case mailHeader
        case patchNotes
        case diff
        case trailer
        case signature
        case commandOutput
        case blank
        case comment
        case skippedPart(String)
        case assignment(String)
        /// `for … do`, `done`, braces, a function's header.
        case structure(String)
        case uncalledFunction(String)
        /// Setup, harness or metadata lines: `set -e`, `_require_…` (mapped to the header), `. ./common/rc`…
        case setup(String)
        /// `echo` to the terminal, an output filter.
        case terminalOutput
        /// `$ cat test.sh`, which shows the script that follows.
        case scriptListing
        /// `$ ./test.sh`, which runs the script shown.
        case scriptRun

        public var description: String {
            switch self {
            case .prose: "prose"
            case .mailHeader: "mail header"
            case .patchNotes: "patch notes or diffstat"
            case .diff: "the patch's diff"
            case .trailer: "trailer"
            case .signature: "signature"
            case .commandOutput: "a command's output"
            case .blank: "blank"
            case .comment: "comment"
            case .skippedPart(let why): why
            case .assignment(let what): "assignment \(what)"
            case .structure(let what): what
            case .uncalledFunction(let name): "function \(name) is never called"
            case .setup(let why): why
            case .terminalOutput: "output to the terminal"
            case .scriptListing: "shows the script that follows"
            case .scriptRun: "runs the script shown"
            }
        }
    }
}

/// How one shell command was dealt with; the translation layer (the command table) supplies it.
public enum CommandDisposition: Equatable, Sendable {
    case translated([String])
    case ignored(String)
    case untranslated(String)
}
