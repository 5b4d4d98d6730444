/// What the front end can know about a condition without running anything: a `[ … ]`, `test …` or
/// `[[ … ]]` over words the script fixed (`[ "$FSTYP" = btrfs ]` once FSTYP is known, `[ 4096 -gt 0 ]`),
/// and `true`/`false`. A file test (`[ -f FILE ]`) or a word the script never sets is not known.
enum ShellCondition {
    enum Outcome: Equatable {
        case holds
        case fails
        /// Not known before the script runs.
        case unknown
    }

    /// The programs that evaluate a test expression.
    static let testPrograms: Set<String> = ["[", "test", "[["]

    /// The outcome of one command used as a condition, from its expanded words.
    static func evaluate(_ argv: [String]) -> Outcome {
        guard let program = argv.first else { return .unknown }
        switch program {
        case "true", ":": return .holds
        case "false": return .fails
        case "[", "[[":
            let closer = program == "[" ? "]" : "]]"
            guard argv.count >= 2, argv.last == closer else { return .unknown }
            return expression(Array(argv.dropFirst().dropLast()))
        case "test": return expression(Array(argv.dropFirst()))
        default: return .unknown
        }
    }

    /// POSIX test's rules by the number of words (1 to 4); `-a`, `-o` and parentheses are not read.
    static func expression(_ words: [String]) -> Outcome {
        if words.first == "!" { return negate(expression(Array(words.dropFirst()))) }
        switch words.count {
        case 0: return .fails
        case 1: return words[0].isEmpty ? .fails : .holds
        case 2:
            switch words[0] {
            case "-z": return words[1].isEmpty ? .holds : .fails
            case "-n": return words[1].isEmpty ? .fails : .holds
            default: return .unknown
            }
        case 3: return binary(words[0], words[1], words[2])
        default: return .unknown
        }
    }

    static func negate(_ outcome: Outcome) -> Outcome {
        switch outcome {
        case .holds: .fails
        case .fails: .holds
        case .unknown: .unknown
        }
    }

    private static func binary(_ left: String, _ op: String, _ right: String) -> Outcome {
        switch op {
        case "=", "==": return left == right ? .holds : .fails
        case "!=": return left != right ? .holds : .fails
        case "-eq", "-ne", "-lt", "-le", "-gt", "-ge":
            guard let a = ShellArithmetic.number(left), let b = ShellArithmetic.number(right) else { return .unknown }
            let result = switch op {
            case "-eq": a == b
            case "-ne": a != b
            case "-lt": a < b
            case "-le": a <= b
            case "-gt": a > b
            default: a >= b
            }
            return result ? .holds : .fails
        default: return .unknown
        }
    }

    /// Commands that only report or end the test (`echo`, `_fail`, `_notrun`, `exit`), a branch or the
    /// right side of `||` made only of them changes nothing on the filesystem.
    static let reportingPrograms: Set<String> = ["echo", "printf", "_fail", "_notrun", "exit", "return", "true", "false", ":",
                                                  "_check_dmesg_for", "_fatal", "_echo_verbose", "status"]

    /// True when every command in the node only reports (assignments count: `status=1`).
    static func onlyReports(_ node: ShellNode) -> Bool {
        switch node {
        case .simple(let simple):
            guard let first = simple.words.first else { return true }
            return first.plainText.map { reportingPrograms.contains($0) } ?? false
        case .pipeline(let nodes): return nodes.allSatisfy(onlyReports)
        case .list(let items): return items.allSatisfy { onlyReports($0.node) }
        case .group(let body, _, _): return onlyReports(body)
        case .ifClause(let branches, let elseBody, _):
            return branches.allSatisfy { onlyReports($0.body) && onlyReports($0.condition) } && (elseBody.map(onlyReports) ?? true)
        case .forLoop, .arithmeticFor, .function, .unsupported, .whileLoop: return false
        }
    }

    /// True when the node runs `_notrun` somewhere: a test before it is a requirement
    /// (`test -b "$SCSI_DEBUG_DEV" || _notrun …`), not the reproducer's check of what it did (a `_fail`
    /// is one).
    static func skips(_ node: ShellNode) -> Bool {
        switch node {
        case .simple(let simple): return simple.words.first?.plainText == "_notrun"
        case .pipeline(let nodes): return nodes.contains(where: skips)
        case .list(let items): return items.contains { skips($0.node) }
        case .group(let body, _, _): return skips(body)
        case .ifClause(let branches, let elseBody, _): return branches.contains { skips($0.body) } || (elseBody.map(skips) ?? false)
        case .forLoop, .arithmeticFor, .function, .unsupported, .whileLoop: return false
        }
    }

    /// A test command (`[ … ]`, `test …`) as a node: its first word.
    static func isTest(_ node: ShellNode) -> Bool {
        guard case .simple(let simple) = node, let first = simple.words.first?.plainText else { return false }
        return testPrograms.contains(first)
    }
}
