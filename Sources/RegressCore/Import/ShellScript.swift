/// A shell script read by the front end: the simple commands it would run, in order, each with the
/// input lines it came from, and what else each line held (assignments, comments, loop headers…).
///
/// It is built without running anything: variables are substituted from the script's own assignments
/// (and fstests' defaults), `for` loops are unrolled, functions are expanded where they are called,
/// `$((…))` and `$(seq …)` are evaluated. What it cannot do (`if`, `while`, `case`, a command
/// substitution) is reported with its lines.
public struct ShellScript: Equatable, Sendable {
    public var commands: [ShellCommand]
    /// Lines that became no command, and why (an assignment, a comment, a loop header…).
    public var consumed: [Int: ConsumedReason]
    /// Lines the front end could not read, and why.
    public var unsupported: [Int: String]
    /// Why the text ends in the middle of something, or nil.
    public var incomplete: String?

    public enum ConsumedReason: Equatable, Sendable {
        case assignment(String)
        case comment
        case blank
        /// `for … do`, `done`, `{`, `}`, `(`, `)`, a function's header: structure, not commands.
        case structure(String)
        /// A function the script defines and never calls (fstests' `_cleanup`).
        case uncalledFunction(String)
    }

    /// fstests' variables, with the values a test sees on a machine configured the usual way; a script
    /// that assigns them itself wins.
    public static let fstestsDefaults: [String: String] = [
        "SCRATCH_MNT": "/mnt/scratch", "SCRATCH_DEV": "/dev/scratch",
        "TEST_DIR": "/mnt/test", "TEST_DEV": "/dev/test",
        "XFS_IO_PROG": "xfs_io", "BTRFS_UTIL_PROG": "btrfs", "XFS_DB_PROG": "xfs_db",
        "MKFS_PROG": "mkfs", "FSSUM_PROG": "fssum", "CHATTR_PROG": "chattr", "LSATTR_PROG": "lsattr",
        "FILEFRAG_PROG": "filefrag", "CLONER_PROG": "cloner", "DF_PROG": "df", "MOUNT_PROG": "mount", "UMOUNT_PROG": "umount",
        "SETFATTR_PROG": "setfattr", "GETFATTR_PROG": "getfattr", "ATTR_PROG": "attr", "XFS_QUOTA_PROG": "xfs_quota",
        "FIO_PROG": "fio", "FSSTRESS_PROG": "fsstress", "FSX_PROG": "fsx", "DEBUGFS_PROG": "debugfs", "MKFS_XFS_PROG": "mkfs.xfs",
        "MKFS_BTRFS_PROG": "mkfs.btrfs", "MKFS_EXT4_PROG": "mkfs.ext4", "XFS_REPAIR_PROG": "xfs_repair", "XFS_ADMIN_PROG": "xfs_admin",
        "XFS_GROWFS_PROG": "xfs_growfs", "XFS_SPACEMAN_PROG": "xfs_spaceman", "TUNE2FS_PROG": "tune2fs", "DUMPE2FS_PROG": "dumpe2fs",
        "E2FSCK_PROG": "e2fsck", "BTRFS_TUNE_PROG": "btrfstune", "AIO_TEST": "./src/aio-dio-regress/aiodio_sparse2", "TIMEOUT_PROG": "timeout",
        "SETCAP_PROG": "setcap", "GETCAP_PROG": "getcap", "CHACL_PROG": "chacl", "LSATTR_PROG_": "lsattr", "WIPEFS_PROG": "wipefs",
        "here": ".", "seq": "fstests-seq", "seqres": "/fstests/results/fstests-seq", "tmp": "/tmp/fstests",
        "RESULT_DIR": "/fstests/results",
        "FLAKEY_ALLOW_WRITES": "0", "FLAKEY_DROP_WRITES": "1", "FLAKEY_ERROR_WRITES": "2",
        // check(8)'s defaults for how long and how hard a test runs.
        "LOAD_FACTOR": "1", "TIME_FACTOR": "1",
    ]

    /// The longest loop the front end unrolls; a longer one is reported instead.
    public static let loopBound = 4096

    /// What unrolling may cost in total, over every loop and function call of one top-level command
    /// (nested loops multiply: fstests' xfs/227 runs 9 × 11 × 16 × 20 bodies and grows a string in the
    /// innermost one). Past any of them the top-level command is "too large to unroll" and makes no
    /// command; the front end goes on with the next one.
    public struct UnrollBudget: Equatable, Sendable {
        /// Commands recorded.
        public var commands = 3_000
        /// Loop bodies and function bodies run.
        public var bodies = 4_000
        /// Bytes of the values assigned to variables and of the words of the commands recorded (a
        /// string grown in a loop): the measure of the time unrolling takes, counted rather than timed,
        /// so that the cap falls at the same place on every machine and in every build.
        public var bytes = 16 << 20
        /// Bodies run over the whole script, those of the top-level commands given up counted too (each
        /// of them gets the counts above afresh): past it, nothing more is unrolled.
        public var scriptBodies = 40_000

        public init() {}
    }

    public static func parse(_ text: String, firstLine: Int = 1, variables: [String: String] = fstestsDefaults,
                             budget: UnrollBudget = UnrollBudget()) -> ShellScript {
        let split = text.split(separator: "\n", omittingEmptySubsequences: false)
        return parse(split.enumerated().map { NumberedLine(number: firstLine + $0.offset, text: String($0.element)) }, variables: variables, budget: budget)
    }

    public static func parse(_ lines: [NumberedLine], variables: [String: String] = fstestsDefaults,
                             budget: UnrollBudget = UnrollBudget()) -> ShellScript {
        let lexed = ShellLexer.lex(lines)
        let tree = ShellSyntaxParser.parse(lexed.tokens)
        var interpreter = ShellInterpreter(variables: variables, budget: budget)
        interpreter.run(tree)
        var consumed = interpreter.consumed
        // A comment line is a comment, also where it stands among an `if`'s keywords.
        for (line, _) in lexed.comments where consumed[line] == nil || [.structure("then"), .structure("else"), .structure("elif")].contains(consumed[line]) { consumed[line] = .comment }
        for line in lines where line.text.trimmingBlanks.isEmpty && consumed[line.number] == nil {
            consumed[line.number] = .blank
        }
        for command in interpreter.commands {
            for line in command.lines { consumed[line] = nil }
        }
        return ShellScript(commands: interpreter.commands, consumed: consumed, unsupported: interpreter.unsupported,
                           incomplete: lexed.incomplete)
    }
}

/// Walks the syntax tree as the shell would, without running a command: it records them.
struct ShellInterpreter {
    var variables: [String: String]
    var commands: [ShellCommand] = []
    var consumed: [Int: ShellScript.ConsumedReason] = [:]
    var unsupported: [Int: String] = [:]
    private var functions: [String: (body: ShellNode, lines: ClosedRange<Int>)] = [:]
    private var calledFunctions: Set<String> = []
    /// Variables holding `df`'s free space, which the script never knows.
    private var freeSpaceVariables: Set<String> = []
    /// Variables holding the output of a command the front end does not run and no check of regress
    /// stands for (`rg=$(xfs_bmap -v F | _filter_bmap_gno)`, `ino=$(stat -c %i F)`): a test on them is the
    /// reproducer's own check, which an import must not drop as one that "only reports".
    private var unknownOutputVariables: Set<String> = []

    /// The variables a node uses that hold such output.
    private func unknownOutputs(in node: ShellNode) -> [String] {
        guard case .simple(let simple) = node else {
            if case .list(let items) = node { return items.flatMap { unknownOutputs(in: $0.node) } }
            return []
        }
        var names: [String] = []
        for word in simple.words {
            for part in word.parts {
                if case .variable(let name, _, _) = part, unknownOutputVariables.contains(name), !names.contains(name) { names.append(name) }
            }
        }
        return names
    }
    private var positional: [String] = []
    private var callDepth = 0
    /// What is left of the budget, and why it ran out (then every node returns at once, up to the
    /// top-level command that started the unrolling).
    private var budget: ShellScript.UnrollBudget
    private let limits: ShellScript.UnrollBudget
    private var exhausted: String?
    /// Loops and function calls being run; 0 at the script's top level.
    private var unrollDepth = 0

    init(variables: [String: String], budget: ShellScript.UnrollBudget = ShellScript.UnrollBudget()) {
        self.variables = variables
        self.budget = budget
        self.limits = budget
    }

    /// Takes one unit of work; false (and the reason noted) when the budget is spent.
    private mutating func spend(commands: Int = 0, bodies: Int = 0, bytes: Int = 0) -> Bool {
        guard exhausted == nil else { return false }
        budget.commands -= commands
        budget.bodies -= bodies
        budget.bytes -= bytes
        budget.scriptBodies -= bodies
        if budget.commands < 0 { exhausted = "more than \(limits.commands) commands" }
        else if budget.bodies < 0 { exhausted = "more than \(limits.bodies) loop or function bodies" }
        else if budget.bytes < 0 { exhausted = "more than \(limits.bytes >> 20) MiB of words and values" }
        else if budget.scriptBodies < 0 { exhausted = "more than \(limits.scriptBodies) loop or function bodies in the whole script" }
        return exhausted == nil
    }

    /// Runs a loop or a function call. At the top level, one that spends the budget leaves no command:
    /// its lines, and those of the commands it made, are "too large to unroll", and the budget is what it
    /// was before it, for the rest of the script.
    private mutating func unrolling(_ lines: ClosedRange<Int>, _ body: (inout ShellInterpreter) -> Void) {
        guard exhausted == nil else { return }
        guard unrollDepth == 0 else {
            unrollDepth += 1
            body(&self)
            unrollDepth -= 1
            return
        }
        let (commandCount, saved, savedVariables) = (commands.count, budget, variables)
        unrollDepth += 1
        body(&self)
        unrollDepth -= 1
        guard let why = exhausted else { return }
        let tooLarge = "too large to unroll: \(why)"
        for command in commands[commandCount...] {
            for line in command.lines where unsupported[line] == nil { unsupported[line] = tooLarge }
        }
        commands.removeSubrange(commandCount...)
        for line in lines where unsupported[line] == nil { unsupported[line] = tooLarge }
        let left = budget.scriptBodies
        budget = saved
        budget.scriptBodies = left
        variables = savedVariables
        // Past the script's total, nothing more is unrolled; the lines after say so where they are loops.
        exhausted = left < 0 ? why : nil
    }

    mutating func run(_ node: ShellNode) {
        run(node, connector: nil)
        for (name, function) in functions where !calledFunctions.contains(name) {
            for line in function.lines where consumed[line] == nil || consumed[line] == .structure("function") {
                consumed[line] = .uncalledFunction(name)
            }
        }
    }

    private mutating func run(_ node: ShellNode, connector: String?) {
        guard exhausted == nil else { return }
        switch node {
        case .simple(let simple):
            runSimple(simple, pipeline: nil, connector: connector)
        case .pipeline(let nodes):
            for (index, node) in nodes.enumerated() {
                let position = ShellCommand.PipelinePosition(index: index, count: nodes.count)
                if case .simple(let simple) = node {
                    runSimple(simple, pipeline: position, connector: index == nodes.count - 1 ? connector : "|")
                } else {
                    run(node, connector: index == nodes.count - 1 ? connector : "|")
                }
            }
        case .list(let items):
            var index = 0
            while index < items.count {
                let item = items[index]
                // `[ "$avail" -ge N ] || _notrun …`, `test $a != $b && echo mismatch`: a guard or a check
                // that only reports; nothing of it acts on the filesystem.
                if item.connector == "||" || item.connector == "&&", index + 1 < items.count,
                   ShellCondition.isTest(item.node), !isFileTest(item.node) || ShellCondition.skips(items[index + 1].node),
                   ShellCondition.onlyReports(items[index + 1].node) {
                    if let names = Optional(unknownOutputs(in: item.node)), !names.isEmpty, !ShellCondition.skips(items[index + 1].node) {
                        for line in ShellNode.span([item.node.lines, items[index + 1].node.lines].compactMap { $0 }) ?? 0...0 where unsupported[line] == nil {
                            unsupported[line] = "the reproducer's own check, on \(names.map { "$" + $0 }.joined(separator: ", ")), which no check of regress looks at"
                        }
                        index += 2
                        continue
                    }
                    requireFreeSpace(item.node)
                    for line in ShellNode.span([item.node.lines, items[index + 1].node.lines].compactMap { $0 }) ?? 0...0 where consumed[line] == nil {
                        consumed[line] = .structure("a guard or check that only reports: regress's own checks stand for it")
                    }
                    index += 2
                    continue
                }
                run(item.node, connector: item.connector)
                index += 1
            }
        case .ifClause(let branches, let elseBody, let lines):
            runIf(branches, elseBody: elseBody, lines: lines)
        case .whileLoop(let condition, let until, let body, let lines):
            unrolling(lines) { $0.runWhile(condition: condition, until: until, body: body, lines: lines) }
        case .group(let body, let subshell, let lines):
            markStructure(lines, subshell ? "subshell" : "group")
            run(body, connector: connector)
        case .forLoop(let variable, let words, let body, let lines):
            unrolling(lines) { $0.runFor(variable: variable, words: words, body: body, lines: lines) }
        case .arithmeticFor(let initial, let condition, let step, let body, let lines):
            unrolling(lines) { $0.runArithmeticFor(initial: initial, condition: condition, step: step, body: body, lines: lines) }
        case .function(let name, let body, let lines):
            functions[name] = (body, lines)
            markStructure(lines, "function")
        case .unsupported(let keyword, let lines):
            let why = ["if", "while", "until", "case", "select"].contains(keyword)
                ? "'\(keyword)' is not unrolled: a reproducer's steps must not depend on a test"
                : keyword == "for" ? "'for' without 'do'"
                : keyword == "unterminated" ? "the script ends before this block's end ('done' or '}')"
                : "unexpected '\(keyword)'"
            for line in lines where unsupported[line] == nil { unsupported[line] = why }
        }
    }

    /// Marks the lines of a compound command as structure, where nothing more specific is known yet.
    private mutating func markStructure(_ lines: ClosedRange<Int>, _ what: String) {
        for line in [lines.lowerBound, lines.upperBound] where consumed[line] == nil {
            consumed[line] = .structure(what)
        }
    }

    private mutating func runFor(variable: String, words: [ShellWord]?, body: ShellNode, lines: ClosedRange<Int>) {
        var values: [String] = []
        var unexpanded: [String] = []
        for word in words ?? [] {
            let expansion = expand(word)
            values += expansion.fields
            unexpanded += expansion.unexpanded
        }
        if words == nil { values = positional }
        guard unexpanded.isEmpty else {
            for line in lines where unsupported[line] == nil { unsupported[line] = "loop over '\(unexpanded.joined(separator: " "))', which is not expanded" }
            return
        }
        guard values.count <= ShellScript.loopBound else {
            for line in lines where unsupported[line] == nil { unsupported[line] = "loop of \(values.count) iterations: more than \(ShellScript.loopBound)" }
            return
        }
        markLoop(lines, body: body, "for \(variable): \(values.count) iterations")
        for value in values {
            guard spend(bodies: 1) else { return }
            variables[variable] = value
            run(body, connector: nil)
        }
    }

    /// `[ "$avail" -ge KB ] || _notrun` with `avail` from `df -P`: the test needs that much free space,
    /// which regress gives as the image size (with room for the filesystem's own metadata). It becomes
    /// fstests' `_require_scratch_size`, which the mapper reads.
    private mutating func requireFreeSpace(_ node: ShellNode) {
        guard case .simple(let simple) = node else { return }
        let words = simple.words.filter { $0.plainText != "[" && $0.plainText != "]" }
        guard words.count == 3, ["-ge", "-gt"].contains(words[1].plainText ?? ""),
              words[0].parts.contains(where: { if case .variable(let name, _, _) = $0 { return freeSpaceVariables.contains(name) }; return false }),
              let kilobytes = words[2].plainText.flatMap({ ShellArithmetic.number($0) }), kilobytes > 0 else { return }
        let needed = kilobytes + kilobytes / 8 + 65536
        commands.append(ShellCommand(argv: ["_require_scratch_size", String(needed)], environment: [:], redirections: [],
                                     firstLine: simple.lines.lowerBound, lastLine: simple.lines.upperBound, pipeline: nil,
                                     connector: nil, unexpanded: []))
    }

    /// `[ -f FILE ]`-style tests look at a file: the mapper makes them a `verify`.
    private func isFileTest(_ node: ShellNode) -> Bool {
        guard case .simple(let simple) = node else { return false }
        return simple.words.contains { ["-f", "-e", "-d", "-s"].contains($0.plainText ?? "") }
    }

    /// An `if` whose conditions are known (a test over words the script fixed, `true`) runs the branch
    /// they choose. A command as the condition (`if ! _try_scratch_mount …`) is run, and the reproducer
    /// is taken to expect it to succeed. A condition only a run can decide makes the whole clause
    /// untranslated, unless every branch only reports (`echo`, `_fail`, `_notrun`).
    private mutating func runIf(_ branches: [ShellNode.IfBranch], elseBody: ShellNode?, lines: ClosedRange<Int>) {
        func skip(_ node: ShellNode?, _ why: String) {
            guard let range = node?.lines else { return }
            for line in range where consumed[line] == nil { consumed[line] = .structure(why) }
        }
        /// `then`, `elif` and `else` may stand on lines of their own, with comments around them: every line
        /// between a condition and its body, and between the last body and the `else` body.
        func markGap(after end: Int?, before start: Int?, _ what: String) {
            guard let end, let start, start - 1 >= end + 1 else { return }
            for line in (end + 1)...(start - 1) where consumed[line] == nil { consumed[line] = .structure(what) }
        }
        func markKeywords() {
            markStructure(lines, "if")
            var previousEnd: Int? = nil
            for branch in branches {
                markGap(after: previousEnd, before: branch.condition.lines?.lowerBound, "elif")
                markGap(after: branch.condition.lines?.upperBound ?? lines.lowerBound, before: branch.body.lines?.lowerBound, "then")
                previousEnd = branch.body.lines?.upperBound
            }
            markGap(after: previousEnd, before: elseBody?.lines?.lowerBound, "else")
        }
        for (position, branch) in branches.enumerated() {
            var outcome: ShellCondition.Outcome
            var why: String
            if let test = testOutcome(branch.condition) {
                (outcome, why) = (test.outcome, test.why)
                if outcome != .unknown { skip(branch.condition, "if \(test.text): \(branch.negated != (outcome == .fails) ? "false" : "true")") }
            } else {
                // A command as the condition: it is one of the reproducer's commands, and it must succeed.
                run(branch.condition, connector: nil)
                outcome = .holds
                why = "the reproducer expects its condition to succeed"
            }
            if branch.negated { outcome = ShellCondition.negate(outcome) }
            switch outcome {
            case .holds:
                run(branch.body, connector: nil)
                for later in branches[(position + 1)...] {
                    skip(later.condition, "not taken: an earlier branch runs")
                    skip(later.body, "not taken: an earlier branch runs")
                }
                skip(elseBody, "not taken: \(why)")
                markKeywords()
                return
            case .fails:
                skip(branch.body, "not taken: \(why)")
            case .unknown:
                let checked = unknownOutputs(in: branch.condition)
                let skips = branches.contains { ShellCondition.skips($0.body) } || (elseBody.map(ShellCondition.skips) ?? false)
                if !checked.isEmpty && !skips {
                    for line in lines where unsupported[line] == nil {
                        unsupported[line] = "the reproducer's own check, on \(checked.map { "$" + $0 }.joined(separator: ", ")), which no check of regress looks at"
                    }
                } else if branches.allSatisfy({ ShellCondition.onlyReports($0.body) }) && (elseBody.map(ShellCondition.onlyReports) ?? true) {
                    for line in lines where consumed[line] == nil { consumed[line] = .structure("a check that only reports: regress's own checks stand for it") }
                } else {
                    for line in lines where unsupported[line] == nil { unsupported[line] = "'if' on a condition only a run decides: \(why)" }
                }
                return
            }
        }
        if let elseBody { run(elseBody, connector: nil) }
        markKeywords()
    }

    /// A condition that is one test over words (`[ $i -lt 10 ]`, `true`): its outcome with the words the
    /// script fixed, or nil for a command as the condition.
    private func testOutcome(_ condition: ShellNode) -> (outcome: ShellCondition.Outcome, why: String, text: String)? {
        guard case .list(let items) = condition, items.count == 1, case .simple(let simple) = items[0].node,
              let program = simple.words.first?.plainText, ShellCondition.testPrograms.contains(program) || ["true", "false", ":"].contains(program) else { return nil }
        var argv: [String] = []
        var unexpanded: [String] = []
        for word in simple.words {
            let expansion = expand(word)
            argv += expansion.fields
            unexpanded += expansion.unexpanded
        }
        let text = argv.joined(separator: " ")
        if argv.contains(where: { $0.contains("<output of ") }) { return (.unknown, "'\(text)' compares what the reproducer read from files", text) }
        if !unexpanded.isEmpty { return (.unknown, "'\(text)' uses \(unexpanded.joined(separator: ", ")), which the script does not set", text) }
        return (ShellCondition.evaluate(argv), "'\(text)'", text)
    }

    /// `while [ $i -lt N ]; do …; i=$((i + 1)); done`: a loop whose condition is a test the script's own
    /// variables decide is unrolled, the condition taken again before each pass. One that a run decides
    /// (a command, `read`, a value read from a file), or that does not end within the bound, is reported
    /// whole, with nothing of it kept.
    private mutating func runWhile(condition: ShellNode, until: Bool, body: ShellNode, lines: ClosedRange<Int>) {
        let (commandCount, savedVariables) = (commands.count, variables)
        func fail(_ why: String) {
            for command in commands[commandCount...] {
                for line in command.lines where unsupported[line] == nil { unsupported[line] = why }
            }
            commands.removeSubrange(commandCount...)
            variables = savedVariables
            for line in lines where unsupported[line] == nil { unsupported[line] = why }
        }
        var iterations = 0
        while true {
            guard var test = testOutcome(condition) else {
                return fail("'\(until ? "until" : "while")' on a command: only a run decides how often it runs")
            }
            if until { test.outcome = ShellCondition.negate(test.outcome) }
            switch test.outcome {
            case .unknown: return fail("'\(until ? "until" : "while")' on a condition only a run decides: \(test.why)")
            case .fails:
                markLoop(lines, body: body, "\(until ? "until" : "while") \(test.text): \(iterations) iterations")
                return
            case .holds:
                iterations += 1
                guard iterations <= ShellScript.loopBound else { return fail("'while' loop of more than \(ShellScript.loopBound) iterations") }
                guard spend(bodies: 1) else { return }
                run(body, connector: nil)
                guard exhausted == nil else { return }
            }
        }
    }

    /// The loop's header lines (up to the body) and its `done` line are structure.
    private mutating func markLoop(_ lines: ClosedRange<Int>, body: ShellNode, _ header: String) {
        let bodyStart = body.lines?.lowerBound ?? lines.upperBound
        consumed[lines.lowerBound] = consumed[lines.lowerBound] ?? .structure(header)
        if bodyStart - 1 > lines.lowerBound {
            for line in (lines.lowerBound + 1)...(bodyStart - 1) where consumed[line] == nil { consumed[line] = .structure(header) }
        }
        if lines.upperBound != lines.lowerBound { consumed[lines.upperBound] = consumed[lines.upperBound] ?? .structure("done") }
    }

    /// `for ((init; condition; step))`: init and step are assignments (`i = 0`, `i++`, `i += 4`),
    /// the condition a comparison; all integer arithmetic.
    private mutating func runArithmeticFor(initial: String, condition: String, step: String, body: ShellNode, lines: ClosedRange<Int>) {
        func fail(_ why: String) {
            for line in lines where unsupported[line] == nil { unsupported[line] = why }
        }
        // `$nr_files`, `$(($BLOCKS/(2**$i)))` in the expressions: expanded before each evaluation, as the
        // shell does inside `((…))`.
        guard assignArithmetic(expandText(initial)) else { return fail("loop start '\(initial)' is not an integer assignment") }
        var iterations = 0
        while true {
            guard let holds = ShellArithmetic.compare(expandText(condition), variables: variables) else {
                return fail("loop condition '\(condition)' is not an integer comparison")
            }
            if !holds { break }
            iterations += 1
            guard iterations <= ShellScript.loopBound else { return fail("loop of more than \(ShellScript.loopBound) iterations") }
            guard assignArithmetic(expandText(step)) else { return fail("loop step '\(step)' is not an integer assignment") }
        }
        guard assignArithmetic(expandText(initial)) else { return }
        markLoop(lines, body: body, "for ((\(initial); \(condition); \(step))): \(iterations) iterations")
        for _ in 0..<iterations {
            guard spend(bodies: 1) else { return }
            run(body, connector: nil)
            _ = assignArithmetic(expandText(step))
        }
    }

    /// `i = expr`, `i += expr`, `i -= expr`, `i++`, `i--`, `++i`, `--i`; an empty text does nothing.
    private mutating func assignArithmetic(_ text: String) -> Bool {
        let compact = text.filter { $0 != " " && $0 != "\t" }
        if compact.isEmpty { return true }
        for (suffix, delta) in [("++", 1), ("--", -1)] {
            var name = ""
            if compact.hasSuffix(suffix) { name = String(compact.dropLast(2)) }
            if compact.hasPrefix(suffix) { name = String(compact.dropFirst(2)) }
            if !name.isEmpty, let value = variables[name].flatMap({ ShellArithmetic.number($0) }) {
                variables[name] = String(value + delta)
                return true
            }
        }
        for op in ["+=", "-=", "*=", "="] {
            guard let range = compact.firstRange(of: op) else { continue }
            let name = String(compact[..<range.lowerBound])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
                  let value = ShellArithmetic.evaluate(String(compact[range.upperBound...]), variables: variables) else { return false }
            let old = variables[name].flatMap { ShellArithmetic.number($0) } ?? 0
            variables[name] = String(op == "+=" ? old + value : op == "-=" ? old - value : op == "*=" ? old * value : value)
            return true
        }
        return false
    }

    private mutating func runSimple(_ node: SimpleNode, pipeline: ShellCommand.PipelinePosition?, connector: String?) {
        var environment: [String: String] = [:]
        var unexpanded: [String] = []
        for assignment in node.assignments {
            let (name, value, missing) = expandAssignment(assignment)
            unexpanded += missing
            environment[name] = value
        }
        var argv: [String] = []
        for word in node.words {
            let expansion = expand(word)
            argv += expansion.fields
            unexpanded += expansion.unexpanded
        }
        // `unset NAME…`: the names have no value from now on.
        if argv.first == "unset", argv.count >= 2, node.redirections.isEmpty, unexpanded.isEmpty {
            for name in argv.dropFirst() where !name.hasPrefix("-") { variables[name] = nil; unknownOutputVariables.remove(name) }
            for line in node.lines where consumed[line] == nil { consumed[line] = .assignment("unset " + argv.dropFirst().joined(separator: " ")) }
            return
        }
        // `let i=$i+1`, `let "n += 4"`: arithmetic assignments.
        if argv.first == "let", argv.count >= 2, node.redirections.isEmpty, unexpanded.isEmpty {
            let expressions = Array(argv.dropFirst())
            if expressions.allSatisfy({ assignArithmetic($0) }) {
                for line in node.lines where consumed[line] == nil { consumed[line] = .assignment(expressions.joined(separator: " ")) }
                return
            }
        }
        if argv.first == "export" || argv.first == "local" || argv.first == "readonly" {
            // `local NAME` starts the name empty in the function (else a string grown in a function
            // called in a loop grows across the calls).
            if argv.first == "local" { argv = [argv[0]] + argv.dropFirst().map { $0.contains("=") ? $0 : $0 + "=" } }
            let assignments = argv.dropFirst().filter { $0.contains("=") }
            if assignments.count == argv.count - 1 {
                for assignment in assignments {
                    let name = String(assignment[..<assignment.firstIndex(of: "=")!])
                    environment[name] = String(assignment[assignment.index(after: assignment.firstIndex(of: "=")!)...])
                }
                argv = []
            }
        }
        if argv.isEmpty && node.redirections.isEmpty {
            // A bare assignment: it sets the script's variables. One that captures a command's output
            // (`before=$(stat …)`) is a check the front end cannot make.
            if let substitution = unexpanded.first(where: { $0.hasPrefix("$(") }) {
                captureOutput(of: String(substitution.dropFirst(2).dropLast()), into: environment.keys.sorted().first ?? "", node: node)
                return
            }
            guard spend(bytes: environment.values.reduce(0) { $0 + $1.utf8.count }) else { return }
            for (name, value) in environment { variables[name] = value; unknownOutputVariables.remove(name) }
            let text = environment.keys.sorted().map { "\($0)=\(environment[$0]!)" }.joined(separator: " ")
            for line in node.lines where consumed[line] == nil { consumed[line] = .assignment(text) }
            return
        }
        if let name = argv.first, let function = functions[name], callDepth < 16 {
            calledFunctions.insert(name)
            // The call's own line runs the function's lines, which carry the commands.
            for line in node.lines where consumed[line] == nil { consumed[line] = .structure("calls \(name), whose lines follow") }
            let arguments = Array(argv.dropFirst())
            unrolling(node.lines) { interpreter in
                guard interpreter.spend(bodies: 1) else { return }
                let saved = interpreter.positional
                interpreter.positional = arguments
                interpreter.callDepth += 1
                interpreter.run(function.body, connector: connector)
                interpreter.callDepth -= 1
                interpreter.positional = saved
            }
            return
        }
        var redirections: [ShellRedirection] = []
        for redirection in node.redirections {
            var target = redirection.target.plainText ?? ""
            if redirection.hereDocument == nil {
                let expansion = expand(redirection.target)
                target = expansion.fields.joined(separator: " ")
                unexpanded += expansion.unexpanded
            }
            redirections.append(ShellRedirection(descriptor: redirection.descriptor, op: redirection.op, target: target,
                                                 hereDocument: redirection.hereDocument))
        }
        guard spend(commands: 1, bytes: argv.reduce(0) { $0 + $1.utf8.count }) else { return }
        commands.append(ShellCommand(argv: argv, environment: environment, redirections: redirections,
                                     firstLine: node.lines.lowerBound, lastLine: node.lines.upperBound,
                                     pipeline: pipeline, connector: connector, unexpanded: unexpanded))
    }

    /// Programs whose output is a look at a file's content or size: what `verify` checks.
    static let contentChecks: Set<String> = ["md5sum", "sha1sum", "sha256sum", "cksum", "stat", "od", "hexdump", "xxd", "cat",
                                             "_md5_checksum", "_hexdump", "_sha256_checksum"]

    /// `sum=$(md5sum FILE | cut …)`, `size=$(stat -c %s FILE)`: the reproducer looks at the file; that
    /// look is run as a command (a `verify`), and the variable holds a mark naming it, so that comparing
    /// two such looks is known to be a check. Any other output (`avail=$(df …)`) is not known: the
    /// variable stays unset, and a command that uses it is reported where it does.
    private mutating func captureOutput(of text: String, into name: String, node: SimpleNode) {
        let lexed = ShellLexer.lex([NumberedLine(number: node.lines.lowerBound, text: text)])
        var argv: [String] = []
        var known = true
        for token in lexed.tokens {
            guard case .word(let word) = token else { break }
            let expansion = expand(word)
            argv += expansion.fields
            known = known && expansion.unexpanded.isEmpty
        }
        // `stat -f` looks at the filesystem (its free space), not at a file.
        let filesystemStat = argv.first == "stat" && argv.contains { $0 == "-f" || $0 == "--file-system" }
        if known, !filesystemStat, let program = argv.first, ShellInterpreter.contentChecks.contains(program), argv.count >= 2 {
            commands.append(ShellCommand(argv: argv, environment: [:], redirections: [], firstLine: node.lines.lowerBound,
                                         lastLine: node.lines.upperBound, pipeline: nil, connector: nil, unexpanded: []))
            variables[name] = "<output of \(argv.joined(separator: " "))>"
            return
        }
        variables[name] = nil
        // `df -P`/`df -k` print 1 KiB blocks: a guard on the value is a free-space requirement.
        if argv.first == "df", argv.contains("-P") || argv.contains("-k") { freeSpaceVariables.insert(name) }
        else if let program = argv.first, !["df", "_get_page_size", "_get_block_size", "getconf", "basename", "dirname", "id", "whoami", "uname", "date", "mktemp", "realpath", "readlink", "_scratch_mount_options"].contains(program) {
            unknownOutputVariables.insert(name)
        }
        for line in node.lines where consumed[line] == nil {
            consumed[line] = .assignment("\(name)=$(\(text)): not run; a command that uses $\(name) is reported")
        }
    }

    private mutating func expandAssignment(_ word: ShellWord) -> (String, String, [String]) {
        guard case .literal(let text, false) = word.parts[0], let equals = text.firstIndex(of: "=") else { return ("", "", []) }
        let name = String(text[..<equals])
        var rest = word
        rest.parts[0] = .literal(String(text[text.index(after: equals)...]), quoted: false)
        let expansion = expand(rest, split: false)
        return (name, expansion.fields.joined(separator: " "), expansion.unexpanded)
    }

    struct Expansion {
        var fields: [String]
        var unexpanded: [String]
    }

    /// Expands one word into fields. Unquoted expansions are split on blanks (so `$MKFS_OPTIONS` gives
    /// several words); what cannot be expanded stays as written and is listed.
    func expand(_ word: ShellWord, split: Bool = true) -> Expansion {
        var fields: [String] = []
        var current = ""
        var hasContent = false
        var unexpanded: [String] = []
        func appendSplitting(_ value: String, quoted: Bool) {
            guard split && !quoted else {
                current += value
                hasContent = true
                return
            }
            let pieces = value.split(omittingEmptySubsequences: false, whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            for (index, piece) in pieces.enumerated() {
                if index > 0 {
                    if hasContent || !current.isEmpty { fields.append(current) }
                    current = ""
                    hasContent = false
                }
                current += piece
                if !piece.isEmpty { hasContent = true }
            }
        }
        for part in word.parts {
            switch part {
            case .literal(let text, let quoted):
                current += text
                if quoted || !text.isEmpty { hasContent = true }
            case .variable(let name, let fallback, let quoted):
                if let value = lookup(name) {
                    appendSplitting(value, quoted: quoted)
                } else if let fallback {
                    appendSplitting(expandText(fallback), quoted: quoted)
                } else {
                    unexpanded.append("$" + name)
                    current += "$" + name
                    hasContent = true
                }
            case .arithmetic(let expression, let quoted):
                if let value = ShellArithmetic.evaluate(expandText(expression), variables: variables) {
                    appendSplitting(String(value), quoted: quoted)
                } else {
                    unexpanded.append("$((\(expression)))")
                    current += "$((\(expression)))"
                    hasContent = true
                }
            case .commandSubstitution(let text, let quoted):
                if let value = substitute(text) {
                    appendSplitting(value, quoted: quoted)
                } else {
                    unexpanded.append("$(\(text))")
                    current += "$(\(text))"
                    hasContent = true
                }
            }
        }
        if hasContent || !current.isEmpty { fields.append(current) }
        return Expansion(fields: fields, unexpanded: unexpanded)
    }

    private func lookup(_ name: String) -> String? {
        if let index = Int(name), index >= 1 { return index <= positional.count ? positional[index - 1] : "" }
        if name == "#" { return String(positional.count) }
        if name == "@" || name == "*" { return positional.joined(separator: " ") }
        return variables[name]
    }

    /// Expands `$var` and `${var}` inside a text (a fallback, an arithmetic expression).
    private func expandText(_ text: String) -> String {
        let lexed = ShellLexer.lex([NumberedLine(number: 0, text: "\"" + text + "\"")])
        guard case .word(let word)? = lexed.tokens.first else { return text }
        return expand(word, split: false).fields.joined()
    }

    static let fixedGeometry: Set<String> = ["_get_block_size", "_get_file_block_size", "_get_page_size", "_get_data_block_size"]

    /// `$(seq …)` is the one command substitution reproducers need to be unrolled: it is evaluated.
    private func substitute(_ text: String) -> String? {
        let lexed = ShellLexer.lex([NumberedLine(number: 0, text: text)])
        var words: [String] = []
        for token in lexed.tokens {
            if case .newline = token { continue }
            guard case .word(let word) = token else { return nil }
            let expansion = expand(word)
            guard expansion.unexpanded.isEmpty else { return nil }
            words += expansion.fields
        }
        // fstests' geometry helpers: regress makes every filesystem with 4 KiB blocks, on 4 KiB pages.
        if let helper = words.first, ShellInterpreter.fixedGeometry.contains(helper) { return "4096" }
        if words == ["getconf", "PAGE_SIZE"] || words == ["getconf", "PAGESIZE"] { return "4096" }
        guard words.first == "seq" else { return nil }
        let numbers = words.dropFirst().map { ShellArithmetic.number($0) }
        guard !numbers.isEmpty, numbers.count <= 3, numbers.allSatisfy({ $0 != nil }) else { return nil }
        let values = numbers.map { $0! }
        let (first, step, last) = values.count == 1 ? (1, 1, values[0]) : values.count == 2 ? (values[0], 1, values[1]) : (values[0], values[1], values[2])
        guard step != 0 else { return nil }
        let count = step > 0 ? (last >= first ? (last - first) / step + 1 : 0) : (first >= last ? (first - last) / -step + 1 : 0)
        guard count <= ShellScript.loopBound else { return nil }
        return (0..<count).map { String(first + $0 * step) }.joined(separator: "\n")
    }
}
