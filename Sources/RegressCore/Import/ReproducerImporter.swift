/// Turns a shell reproducer, as posted to a mailing list, into a test file: `mkfs.*` lines give the
/// filesystem and its options, `mount -o` the mount options, each `xfs_io -c "…" FILE` command a step on
/// that file, `sync` and `md5sum` their steps, an `umount` followed by a `mount` a remount. What it cannot
/// translate is listed with its line, never dropped silently.
///
/// Two choices a reader should know: xfs_io goes on after a failed command, so imported writes allow
/// ENOSPC (reproducers fill filesystems on purpose); and the test ends with `verify`, a remount and
/// `verify` again, because a reproducer's own check is usually a person reading its output.
public struct ReproducerImporter {
    public struct Output {
        public var text: String
        /// `LINE: text — why` for each line of the script that became nothing.
        public var untranslated: [String]
    }

    public init() {}

    public func importScript(_ source: String, name: String) -> Output {
        let script = extractScript(source)
        var variables: [String: String] = [:]
        var filesystem: String?
        var mkfsOptions: [String] = []
        var size: String?
        var mountOptions = ""
        var mountPoint: String?
        var device: String?
        var mounted = false
        var pendingRemount = false
        var steps: [Step] = []
        var untranslated: [String] = []
        // Every step is read back through the command table as it is made: what the importer writes is
        // what the test language accepts, or the line is listed as untranslated with the parser's reason.
        let parser = TestParser(path: name, name: name)
        var tracker = FileTracker()
        func add(_ text: String, from line: (Int, String)) {
            do { steps.append(try parser.parseStep(text, lineNumber: line.0, files: &tracker)) }
            catch let diagnostic as Diagnostic { note(line, "'\(text)': \(diagnostic.message)") }
            catch { note(line, "'\(text)': \(error)") }
        }
        var files: [String] = []

        func note(_ line: (Int, String), _ why: String) { untranslated.append("\(line.0): \(line.1.trimmed) — \(why)") }
        /// `$mnt/dir/file` → `dir/file`; nil when the path is not beneath the mount.
        func relative(_ path: String) -> String? {
            guard let mountPoint else { return nil }
            for prefix in [mountPoint + "/"] where path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
            return nil
        }

        for (number, raw) in script {
            let words = ShellWords.split(raw, variables: variables)
            guard let command = words.first else { continue }
            if command.hasPrefix("#") { continue }
            if words.count == 1, let equals = command.firstIndex(of: "="), !command.hasPrefix("-") {
                variables[String(command[..<equals])] = String(command[command.index(after: equals)...])
                continue
            }
            let arguments = Array(words.dropFirst()).filter { !$0.hasPrefix(">") && $0 != "/dev/null" && $0 != "2>&1" }
            switch command {
            case _ where command.hasPrefix("mkfs."):
                filesystem = String(command.dropFirst(5))
                var index = 0
                while index < arguments.count {
                    let word = arguments[index]
                    if ["-f", "-F", "-q"].contains(word) { index += 1; continue }
                    if word.hasPrefix("/dev/") { device = word; index += 1; continue }
                    mkfsOptions.append(word)
                    if word == "-b", filesystem == "btrfs", index + 1 < arguments.count {
                        size = arguments[index + 1].lowercased()
                        mkfsOptions.append(arguments[index + 1])
                        index += 2
                        continue
                    }
                    index += 1
                }
            case "mount":
                var positional: [String] = []
                var index = 0
                var options = ""
                while index < arguments.count {
                    if arguments[index] == "-o", index + 1 < arguments.count { options = arguments[index + 1]; index += 2; continue }
                    positional.append(arguments[index])
                    index += 1
                }
                if positional.count >= 2 { device = device ?? positional[0]; mountPoint = positional[1] }
                if !mounted && steps.isEmpty && !pendingRemount {
                    mountOptions = options
                } else if pendingRemount {
                    add("remount", from: (number, raw))
                } else {
                    note((number, raw), "a second mount is not supported")
                }
                mounted = true
                pendingRemount = false
            case "umount":
                mounted = false
                pendingRemount = true
            case "sync":
                add("sync", from: (number, raw))
            case "md5sum":
                for path in arguments {
                    if let file = relative(path) { add("verify \(file)", from: (number, raw)) } else { note((number, raw), "md5sum of a path outside the mount") }
                }
            case "xfs_io":
                var index = 0
                var commands: [String] = []
                var target: String?
                while index < arguments.count {
                    let word = arguments[index]
                    if word == "-c", index + 1 < arguments.count { commands.append(arguments[index + 1]); index += 2; continue }
                    if word.hasPrefix("-") { index += 1; continue }   // -f (create) is what regress does anyway
                    target = word
                    index += 1
                }
                guard let path = target, let file = relative(path) else {
                    note((number, raw), "xfs_io on a path outside the mount"); continue
                }
                if !files.contains(file) { files.append(file) }
                for xfsCommand in commands {
                    if let step = translate(xfsCommand, file: file, relative: relative) { add(step, from: (number, raw)) }
                    else { note((number, raw), "xfs_io command '\(xfsCommand)' has no regress step") }
                }
            case "set", "echo", "exit", "true", "cd", "mkdir", "rm":
                continue  // shell housekeeping: nothing for a test to do
            default:
                note((number, raw), "not a command regress imports")
            }
        }

        let fs = filesystem ?? "btrfs"
        if filesystem == nil { untranslated.append("0: no mkfs line — assumed btrfs") }
        var lines = ["# Imported by `regress import` from \(name). Review before committing:",
                     "# the summary, groups and the fix it guards are for a person to write.",
                     "summary: imported reproducer \(name)",
                     "groups: auto imported",
                     "filesystems: \(fs)"]
        if let size { lines.append("size: \(size)") }
        if !mkfsOptions.isEmpty { lines.append("mkfs.\(fs): " + mkfsOptions.joined(separator: " ")) }
        if !mountOptions.isEmpty { lines.append("mount.\(fs): " + mountOptions) }
        if steps.contains(where: { $0.name == "reflink" }) { lines.append("requires: reflink") }
        else if steps.contains(where: { $0.name == "dedupe" }) { lines.append("requires: dedupe") }
        lines.append("")
        lines.append("steps:")
        lines += steps.map(\.text)
        lines.append("# Added by the import: the data must be right, also after a clean remount.")
        lines.append("verify")
        lines.append("remount")
        lines.append("verify")
        _ = device
        return Output(text: lines.joined(separator: "\n") + "\n", untranslated: untranslated)
    }

    /// One xfs_io command to one step; paths beneath the mount become file names.
    func translate(_ command: String, file: String, relative: (String) -> String?) -> String? {
        var words = command.split(separator: " ").map(String.init)
        guard let verb = words.first else { return nil }
        switch verb {
        case "pwrite", "pread":
            let allowsFull = verb == "pwrite"
            return "\(file): " + words.joined(separator: " ") + (allowsFull ? "   allow ENOSPC" : "")
        case "falloc", "fpunch", "fzero", "fcollapse", "finsert", "funshare", "truncate", "fsync", "fdatasync":
            // xfs_io goes on after an error; a reproducer that fills the fs relies on it.
            let allowsFull = verb == "falloc"
            return "\(file): " + words.joined(separator: " ") + (allowsFull ? "   allow ENOSPC" : "")
        case "reflink", "dedupe":
            guard words.count >= 2, let source = relative(words[1]) ?? (words[1].contains("/") ? nil : words[1]) else { return nil }
            words[1] = source
            return "\(file): " + words.joined(separator: " ")
        case "syncfs": return "syncfs"
        default: return nil
        }
    }

    /// The script inside a mail: from the `#!` line, the lines indented like it (mails indent quoted scripts).
    /// A plain script is taken whole.
    func extractScript(_ source: String) -> [(Int, String)] {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.trimmed.hasPrefix("#!") }) else {
            return lines.enumerated().map { ($0.offset + 1, $0.element) }
        }
        let indent = String(lines[start].prefix { $0 == " " || $0 == "\t" })
        var result: [(Int, String)] = []
        for index in start..<lines.count {
            let line = lines[index]
            if line.trimmed.isEmpty { continue }
            guard line.hasPrefix(indent) else { break }
            result.append((index + 1, String(line.dropFirst(indent.count))))
        }
        return result
    }
}

/// Just enough of the shell's word splitting for reproducers: blanks, '…' and "…" quotes, backslashes,
/// `$var` and `${var}` from earlier assignments, and `#` comments.
enum ShellWords {
    static func split(_ line: String, variables: [String: String]) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var characters = Array(line)[...]
        while let c = characters.popFirst() {
            if let q = quote {
                if c == q { quote = nil; continue }
                if c == "$" && q == "\"" { current += expand(&characters, variables); continue }
                current.append(c)
                continue
            }
            switch c {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'", "\"":
                quote = c; inWord = true
            case "\\":
                if let next = characters.popFirst() { current.append(next); inWord = true }
            case "#" where !inWord:
                return words
            case "$":
                current += expand(&characters, variables); inWord = true
            case ";", "&", "|":
                if inWord { words.append(current); current = ""; inWord = false }
                if c == "|" || c == "&" { return words }  // pipelines and background jobs: keep the first command
            default:
                current.append(c); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    private static func expand(_ characters: inout ArraySlice<Character>, _ variables: [String: String]) -> String {
        var name = ""
        if characters.first == "{" {
            characters.removeFirst()
            while let c = characters.popFirst(), c != "}" { name.append(c) }
        } else {
            while let c = characters.first, c.isLetter || c.isNumber || c == "_" { name.append(c); characters.removeFirst() }
        }
        return variables[name] ?? "$" + name
    }
}
