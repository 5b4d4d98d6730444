/// The importer's front half in one call: find the script, read it as the shell would, map each
/// command to operations, account for every input line.
public struct ImportFrontEnd {
    public var found: ScriptFinder.Result
    public var script: ShellScript
    /// Each command with its operations, in script order.
    public var operations: [(command: ShellCommand, operations: [ReproducerOperation])]
    public var lines: [ImportLine]
    /// What became of each line of the golden output (empty without one): a failure it reports is the
    /// expectation of the step that makes it, or untranslated; the other lines are the commands' output.
    public var goldenLines: [ImportLine] = []

    /// `goldenOutput`: what the reproducer prints when the bug is fixed (an fstests test's `.out`).
    public init(_ text: String, goldenOutput: String? = nil) {
        found = ScriptFinder.find(in: text)
        script = ShellScript.parse(found.scriptLines)
        if found.scriptLines.contains(where: { $0.text.contains("FSTYP") }),
           let filesystem = ImportFrontEnd.declaredFilesystem(script.commands, found) {
            // fstests' `$FSTYP` is the filesystem the test is for, once the script says which.
            script = ShellScript.parse(found.scriptLines, variables: ShellScript.fstestsDefaults.merging(["FSTYP": filesystem]) { $1 })
        }
        script.commands = script.commands.map(Placeholders.resolve)
        var mapper = ReproducerOperationMapper(commands: script.commands)
        mapper.hasGoldenOutput = goldenOutput != nil
        var rendering = StepRendering(mapper: mapper)
        var operations: [(command: ShellCommand, operations: [ReproducerOperation])] = []
        var rendered: [String] = []
        var origins: [Int] = []
        lines = ImportAccounting.account(input: text, found: found, script: script) { command in
            let mapped = mapper.map(command)
            operations.append((command, mapped))
            let disposition = rendering.disposition(of: mapped)
            if case .translated(let lines) = disposition {
                rendered += lines
                origins += Array(repeating: command.firstLine, count: lines.count)
            }
            return disposition
        }
        self.operations = operations
        self.steps = rendered
        if let goldenOutput { applyGoldenOutput(GoldenOutput(goldenOutput), origins: origins) }
        if !steps.contains("power-cut") { flagPowerFailureProse() }
    }

    /// Prose after the script's first line that speaks of a power failure ("then power fail the box",
    /// "after a power loss the file is empty") in an import without a power cut: the importer cannot
    /// tell where the prose puts it, and must not end in a clean remount where the source cut the
    /// power, so the line is untranslated and says so.
    private mutating func flagPowerFailureProse() {
        guard let firstScript = found.lines.first(where: { $0.kind == .script })?.source.lowerBound else { return }
        let phrases = ["power fail", "power-fail", "powerfail", "power loss", "power cut", "power off", "power outage",
                       "pull the plug", "cut the power", "cuts the power", "crash the machine", "hard reset", "sysrq"]
        let prose = Set(found.lines.filter { $0.kind == .prose && $0.source.lowerBound > firstScript }.flatMap { Array($0.source) })
        for index in lines.indices where prose.contains(lines[index].number) {
            let text = lines[index].text.lowercased()
            if phrases.contains(where: text.contains) {
                lines[index].disposition = .untranslated("the prose asks for a power failure: write `power-cut` where it happens")
            }
        }
    }

    /// Gives each failure the golden output reports to the step that makes it (`expect ERRNO`), in the
    /// steps and in the account of the input line the step came from.
    private mutating func applyGoldenOutput(_ golden: GoldenOutput, origins: [Int]) {
        let stepIndices = steps.indices.filter { !StepRendering.isHeaderLine(steps[$0]) }
        let matches = golden.match(stepIndices.map { steps[$0] })
        var failures: [Int: (GoldenOutput.Failure, Int?)] = [:]
        for (failure, match) in zip(golden.failures, matches) {
            guard let match else { failures[failure.line] = (failure, nil); continue }
            let index = stepIndices[match]
            let old = steps[index], new = GoldenOutput.expecting(failure.errno, old)
            steps[index] = new
            failures[failure.line] = (failure, index)
            // The input line's account shows the step as it now is.
            if let line = lines.firstIndex(where: { $0.number == origins[index] }), case .translated(var shown) = lines[line].disposition,
               let at = shown.firstIndex(of: old) {
                shown[at] = new
                lines[line].disposition = .translated(shown)
            }
        }
        goldenLines = golden.lines.enumerated().map { offset, text in
            let number = offset + 1
            guard let (failure, index) = failures[number] else {
                return ImportLine(number: number, text: text, disposition: text.trimmingBlanks.isEmpty ? .ignored(.blank) : .ignored(.commandOutput))
            }
            guard let index else {
                return ImportLine(number: number, text: text, disposition: .untranslated(
                    "the golden output reports a failure (\(failure.errno.name)) that no step of the import makes"
                    + (failure.commands.isEmpty ? "; the line does not say which call failed" : " (\(failure.commands.joined(separator: "/")))")))
            }
            return ImportLine(number: number, text: text, disposition: .translated([steps[index]]))
        }
    }

    /// The step and header lines of the translated commands, in script order.
    private var steps: [String]

    /// Every step and header line the rendering produced, in order, with a `filesystems:` line first
    /// when no mkfs named the filesystem but the input does.
    public var renderedLines: [String] {
        if !steps.contains(where: { $0.hasPrefix("filesystems:") }), let filesystem = inferredFilesystem {
            return ["filesystems: \(filesystem)"] + steps
        }
        return steps
    }

    /// The one filesystem the commands or an fstests header name: `mkfs.X`, `_scratch_mkfs_X`, a single
    /// `_supported_fs X`, a filesystem's own helpers (`_require_btrfs_…`, `$BTRFS_UTIL_PROG`; xfs_io is
    /// not XFS's own), or the header comment `# FS QA Test No. ext4/046` (fstests' tests/FS/NNN).
    static func declaredFilesystem(_ commands: [ShellCommand], _ found: ScriptFinder.Result) -> String? {
        let known = ["btrfs", "xfs", "ext4"]
        for command in commands {
            guard let program = command.argv.first else { continue }
            let base = ReproducerOperationMapper.baseName(program)
            for filesystem in known {
                if base == "mkfs.\(filesystem)" || base == "_scratch_mkfs_\(filesystem)" || program == "_\(filesystem)" || program == filesystem { return filesystem }
                if program.hasPrefix("_require_\(filesystem)_") && !program.hasPrefix("_require_xfs_io") { return filesystem }
            }
            if program == "_supported_fs", command.argv.count == 2, known.contains(command.argv[1]) { return command.argv[1] }
        }
        for line in found.lines.prefix(40) where line.text.contains("QA Test") {
            for filesystem in known where line.text.contains(" \(filesystem)/") { return filesystem }
        }
        return nil
    }

    /// The filesystem the reproducer is for, when it says so without a mkfs: fstests' `_supported_fs`
    /// or a filesystem's own helpers (`_require_btrfs_…`, `$BTRFS_UTIL_PROG`), the subject's prefix
    /// (`btrfs: fix …`, `Subject: [PATCH] ext4: …`), or a mount point named after it (`/mnt/xfs`).
    public var inferredFilesystem: String? {
        let known = ["btrfs", "xfs", "ext4"]
        for (_, operations) in operations {
            for operation in operations {
                if case .mkfs(let filesystem?, _) = operation { return filesystem }
                if case .metadata("filesystems", let value) = operation, known.contains(value) { return value }
            }
        }
        if let declared = ImportFrontEnd.declaredFilesystem(operations.map(\.command), found) { return declared }
        let subject = found.lines.first { $0.text.lowercased().hasPrefix("subject:") }?.text
            ?? found.lines.first { $0.kind == .prose && !$0.text.trimmingBlanks.isEmpty }?.text ?? ""
        var words = subject.lowercased().split(separator: " ").map(String.init)
        if words.first == "subject:" { words.removeFirst() }
        for word in words.prefix(4) where word.hasSuffix(":") && known.contains(String(word.dropLast())) {
            return String(word.dropLast())
        }
        for mountPoint in ReproducerOperationMapper(commands: script.commands).mountPoints {
            if let last = mountPoint.split(separator: "/").last, known.contains(String(last)) { return String(last) }
        }
        return nil
    }
}
