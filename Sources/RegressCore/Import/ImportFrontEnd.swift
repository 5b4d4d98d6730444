/// The importer's front half in one call: find the script, read it as the shell would, map each
/// command to operations, account for every input line.
public struct ImportFrontEnd {
    public var found: ScriptFinder.Result
    public var script: ShellScript
    /// Each command with its operations, in script order.
    public var operations: [(command: ShellCommand, operations: [ReproducerOperation])]
    public var lines: [ImportLine]

    public init(_ text: String) {
        found = ScriptFinder.find(in: text)
        script = ShellScript.parse(found.scriptLines)
        if found.scriptLines.contains(where: { $0.text.contains("FSTYP") }),
           let filesystem = ImportFrontEnd.declaredFilesystem(script.commands, found) {
            // fstests' `$FSTYP` is the filesystem the test is for, once the script says which.
            script = ShellScript.parse(found.scriptLines, variables: ShellScript.fstestsDefaults.merging(["FSTYP": filesystem]) { $1 })
        }
        script.commands = script.commands.map(Placeholders.resolve)
        var mapper = ReproducerOperationMapper(commands: script.commands)
        var rendering = StepRendering(mapper: mapper)
        var operations: [(command: ShellCommand, operations: [ReproducerOperation])] = []
        lines = ImportAccounting.account(input: text, found: found, script: script) { command in
            let mapped = mapper.map(command)
            operations.append((command, mapped))
            return rendering.disposition(of: mapped)
        }
        self.operations = operations
    }

    /// Every step and header line the rendering produced, in order, with a `filesystems:` line first
    /// when no mkfs named the filesystem but the input does.
    public var renderedLines: [String] {
        var rendering = StepRendering(mapper: ReproducerOperationMapper(commands: script.commands))
        let lines = operations.flatMap { entry -> [String] in
            if case .translated(let lines) = rendering.disposition(of: entry.operations) { return lines }
            return []
        }
        if !lines.contains(where: { $0.hasPrefix("filesystems:") }), let filesystem = inferredFilesystem {
            return ["filesystems: \(filesystem)"] + lines
        }
        return lines
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
