/// Writes `ReproducerOperation`s as test-language lines: `key: value` header lines for mkfs, mount options
/// and requirements, and steps. Every step is read back through the command table as it is written (with
/// the files earlier steps made), so what the importer writes is what the language accepts; a step the
/// table refuses makes its input line untranslated, with the table's reason.
public struct StepRendering {
    /// Mounted now; was mounted at some point since the mkfs (a mount after an unmount is a remount).
    private var mounted = false
    private var wasMounted = false
    private var afterShutdown = false
    /// A power cut happened and nothing was unmounted or mounted since: the script's next `mount`
    /// is the one after the reboot, which `power-cut` already does.
    private var afterPowerCut = false
    /// dm-flakey drops writes from now on, and no step ran since: if the unmount comes next, nothing the
    /// unmount writes reaches the disk and the mount after it finds what a power failure leaves
    /// (`_flakey_drop_and_remount` written out): a `power-cut`, never a clean remount.
    private var droppingWrites = false
    /// A step was written: a mkfs now would start over on a new filesystem, which a test cannot do.
    private var stepsWritten = false
    /// The filesystem the script made, which its mount options are for.
    private var filesystem: String?
    private let mapper: ReproducerOperationMapper
    private let parser = TestParser(path: "import", name: "import")
    private var files = FileTracker()
    /// The filesystem's size as mkfs was told it (`-b 512M`), else the image size regress gives a test.
    private var filesystemSize: UInt64 = 512 << 20

    public init(mapper: ReproducerOperationMapper) { self.mapper = mapper }

    /// The disposition of one command's operations.
    public mutating func disposition(of operations: [ReproducerOperation]) -> CommandDisposition {
        var lines: [String] = []
        var ignored: [String] = []
        for operation in operations {
            // Writes dropped and then a step before the unmount: the drop is the emulated disk's.
            if droppingWrites, StepRendering.touchesTheFilesystem(operation) {
                droppingWrites = false
                lines.append("drop-writes 0 0")
            }
            switch render(operation) {
            case .translated(let rendered): lines += rendered
            case .ignored(let why): ignored.append(why)
            case .untranslated(let why): return .untranslated(why)
            }
        }
        lines += StepRendering.closes(lines)
        // Steps through the command table; header lines as they are.
        var checked: [String] = []
        var trial = files
        for line in lines {
            if StepRendering.isHeaderLine(line) { checked.append(line); continue }
            do {
                let step = try parser.parseStep(line, lineNumber: 1, files: &trial)
                checked.append(fillsTheFilesystem(step) ? line + "   allow ENOSPC" : line)
            } catch let diagnostic as Diagnostic {
                return .untranslated("'\(line)': \(diagnostic.message)")
            } catch {
                return .untranslated("'\(line)': \(error)")
            }
        }
        files = trial
        if checked.contains(where: { !StepRendering.isHeaderLine($0) }) { stepsWritten = true }
        if !wasMounted && checked.contains(where: { !StepRendering.isHeaderLine($0) }) {
            // Steps before any mount (a script that starts on a mounted filesystem): it is mounted.
            mounted = true
            wasMounted = true
        }
        if !checked.isEmpty || ignored.isEmpty { return .translated(checked) }
        return .ignored(ignored.joined(separator: "; "))
    }

    /// One program's steps share each file's descriptor, as xfs_io's `-c` commands share the file it
    /// opened: where the program ends, so does the descriptor (`F: close`, in the order the files were
    /// first used). chattr and filefrag's `expect-extents` open their file for their one call.
    /// A mapping the program made and did not unmap ends with it too (`F: munmap`), as the process's
    /// mappings do when it exits.
    static func closes(_ steps: [String]) -> [String] {
        var files: [String] = []
        var mapped: [String] = []
        for step in steps where !isHeaderLine(step) {
            let words = step.split(separator: " ")
            guard words.count >= 2, let first = words.first, first.hasSuffix(":") else { continue }
            let file = String(first.dropLast())
            let command = words.dropFirst().first { !$0.hasPrefix("-") }.map(String.init) ?? ""
            if command == "close" { files.removeAll { $0 == file }; continue }
            if command == "mmap" && !mapped.contains(file) { mapped.append(file) }
            if command == "munmap" { mapped.removeAll { $0 == file } }
            if command == "chattr" || command == "expect-extents" { continue }
            if !files.contains(file) { files.append(file) }
        }
        return mapped.map { "\($0): munmap" } + files.map { "\($0): close" }
    }

    /// Operations that run a step on the filesystem while it is mounted (not the unmount, not setup).
    static func touchesTheFilesystem(_ operation: ReproducerOperation) -> Bool {
        switch operation {
        case .umount, .flakeyDropWrites, .flakeyAllowWrites, .setupIgnored, .terminalOutput, .metadata, .requireFeature, .unrecognised,
             .mkfs, .mount, .powerFail:
            return false
        case .remount, .cycleMount, .shutdown, .errorWrites, .dropCaches, .kernelSetting, .sync, .syncfs, .xfsIO, .touch, .writeText,
             .copyReflink, .copy, .mkdir, .rm, .rmMatching, .mv, .ln, .truncate, .chattr, .fallocate, .dd, .checksum, .extentCount:
            return true
        }
    }

    static func isHeaderLine(_ line: String) -> Bool {
        let key = line.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return ["filesystems", "mkfs", "mount", "requires", "size", "fix", "commit"].contains { key == $0 || key.hasPrefix($0 + ".") }
    }

    /// A write or allocation as large as the filesystem is meant to fill it (the padding of a reproducer
    /// that needs a full filesystem): it may end in ENOSPC, and only such a step is allowed to.
    private func fillsTheFilesystem(_ step: Step) -> Bool {
        switch step.command {
        case .pwrite(let range, _): return range.length >= filesystemSize
        case .fallocate(let flags, let range): return flags.isEmpty && range.length >= filesystemSize
        default: return false
        }
    }

    public mutating func render(_ operation: ReproducerOperation) -> CommandDisposition {
        switch operation {
        case .mkfs(let filesystem, let options):
            if stepsWritten { return .untranslated("a second mkfs after the test's steps: a test has one filesystem, made once") }
            mounted = false
            wasMounted = false
            guard let filesystem else { return .translated(options.isEmpty ? [] : ["mkfs: " + options.joined(separator: " ")]) }
            self.filesystem = filesystem
            mounted = false
            wasMounted = false
            if let index = options.firstIndex(of: "-b"), filesystem == "btrfs", index + 1 < options.count,
               let size = Size.parse(options[index + 1].lowercased()) {
                filesystemSize = size
            }
            let lines = ["filesystems: \(filesystem)"] + (options.isEmpty ? [] : ["mkfs.\(filesystem): " + options.joined(separator: " ")])
                + (filesystem == "btrfs" && options.contains("-b") ? ["size: \(Size.format(filesystemSize))"] : [])
            return .translated(lines)
        case .mount(let filesystem, let options):
            defer { mounted = true; wasMounted = true; afterPowerCut = false }
            if afterShutdown { afterShutdown = false; return .translated([]) }
            if afterPowerCut && mounted { return .translated([]) }
            if wasMounted { return mounted ? .untranslated("mounted twice") : .translated(["remount"]) }
            let key = (filesystem ?? self.filesystem).map { "mount.\($0)" } ?? "mount"
            return .translated(options.isEmpty ? [] : ["\(key): " + options.joined(separator: ",")])
        case .umount:
            guard mounted else { return .ignored("an unmount before the script mounted anything: regress mounts and unmounts the test filesystem itself") }
            if droppingWrites {
                // The power cut: the mount after it is the one after the reboot.
                droppingWrites = false
                afterPowerCut = true
                return .translated(["power-cut"])
            }
            mounted = false
            afterPowerCut = false
            return .translated([])
        case .remount(let options):
            return options.isEmpty ? .translated(["remount"]) : .untranslated("remount with other options (\(options.joined(separator: ",")))")
        case .cycleMount: return .translated(["remount"])
        case .powerFail:
            afterPowerCut = true
            return .translated(["power-cut"])
        case .shutdown(let flushLog):
            afterShutdown = true
            return flushLog ? .untranslated("a shutdown that flushes the log first") : .translated(["power-cut"])
        case .flakeyDropWrites:
            droppingWrites = true
            return .ignored("dm-flakey drops writes from here: with the unmount after it, a power cut")
        case .flakeyAllowWrites:
            if afterPowerCut { return .ignored("writes allowed again: the power cut's reboot brings the disk back") }
            if droppingWrites { droppingWrites = false; return .ignored("writes dropped and allowed again with no step between") }
            return .translated(["clear-faults"])
        case .errorWrites: return .translated(["inject-error EIO"])
        case .dropCaches: return .translated(["drop-caches"])
        case .kernelSetting(let path, let value): return .untranslated("kernel setting \(path) = \(value) has no step")
        case .sync(let file): return .translated([file.map { "\($0): fsync" } ?? "sync"])
        case .syncfs: return .translated(["syncfs"])
        case .xfsIO(let openFlags, let file, let commands):
            guard let file else { return .untranslated("xfs_io without a file") }
            // xfs_io's open flags are the step's: `xfs_io -d -s -c CMD f` is `f: -d -s CMD`.
            let stepFlags = openFlags.filter { $0 == "-d" || $0 == "-s" }
            return .translated(commands.map { command in
                var words = command.split(separator: " ").map { word in mapper.relative(String(word)) ?? String(word) }
                // XFS's own preallocation ioctls, as xfs_io names them: the fallocate modes they match.
                if let alias = StepRendering.xfsPreallocation[words.first ?? ""] { words.replaceSubrange(0..<1, with: alias) }
                // xfs_io's chattr sets FS_XFLAG bits (its +C is the CoW extent-size flag), not chattr(1)'s flags.
                if words.first == "chattr" { words[0] = "xflags" }
                if file == "." && (words.first == "syncfs" || words.first == "sync") { return words.first! }
                return "\(file): " + (stepFlags + words).joined(separator: " ")
            })
        // touch makes the file and leaves its content alone: an empty write creates it.
        case .touch(let file): return .translated(["\(file): pwrite 0 0"])
        case .writeText(let file, let text, let append):
            return StepRendering.writeText(Array(text.utf8), to: file, append: append, existing: files)
        case .copyReflink(let source, let destination): return .translated(["\(destination): reflink \(source)"])
        case .copy: return .untranslated("a data copy has no step")
        case .mkdir(let directory):
            if directory == "." { return .ignored("the filesystem's root exists") }
            if files.directories.contains(directory) { return .ignored("\(directory) exists (mkdir -p)") }
            return .translated(["mkdir \(directory)"])
        case .rm(let file):
            // fstests' `rm -f $SCRATCH_MNT/foo` before making foo: on regress's fresh filesystem there is
            // nothing to remove.
            if !files.existing.contains(file) && !files.directories.contains(file) { return .ignored("removes \(file), which no step made: nothing to remove") }
            return .translated(["unlink \(file)"])
        case .rmMatching(let pattern):
            let matched = (files.existing.union(files.directories)).filter { StepRendering.matches(pattern, $0) }.sorted()
            if matched.isEmpty { return .ignored("removes what \(pattern) matches, and no step made such a file") }
            // Files before the directories that hold them.
            return .translated(matched.sorted { $0.count > $1.count }.map { "unlink \($0)" })
        case .mv(let from, let to): return .translated(["rename \(from) \(to)"])
        case .ln(let target, let name, let symbolic):
            return symbolic ? .untranslated("a symbolic link has no step") : .translated(["link \(target) \(name)"])
        case .truncate(let file, let size): return .translated(["\(file): truncate \(size)"])
        case .chattr(let file, let flags): return .translated(["\(file): chattr " + flags.joined(separator: " ")])
        case .fallocate(let file, let flags, let offset, let length):
            return .translated(["\(file): " + (StepRendering.fallocateCommand(flags) + [offset, length]).joined(separator: " ")])
        case .dd(let input, let output, let blockSize, let count, let seek, _, let flags):
            return StepRendering.dd(input: input, output: output, blockSize: blockSize, count: count, seek: seek, flags: flags)
        case .checksum(let file): return .translated([file == "." ? "verify" : "verify \(file)"])
        case .extentCount(let file, let count, let sync): return .translated(["\(file): expect-extents " + (sync ? "-s " : "") + "\(count)"])
        case .requireFeature(let feature):
            // `_require_scratch_size KB`: the image must be at least that large.
            let words = feature.split(separator: " ")
            if words.first == "scratch_size", words.count == 2, let kilobytes = UInt64(words[1]) {
                filesystemSize = max(filesystemSize, kilobytes << 10)
                return .translated(["size: \(Size.format(kilobytes << 10))"])
            }
            // A feature `requires:` names skips the test where it is missing; any other is the harness's own.
            if FilesystemKind.Feature(rawValue: feature) != nil { return .translated(["requires: \(feature)"]) }
            return .ignored("requires \(feature) (a header requirement)")
        case .metadata(let key, let value):
            if key == "fix" || key == "commit" || key.hasPrefix("mkfs.") { return .translated(["\(key): \(value)"]) }
            return .ignored("\(key): \(value) (test metadata)")
        case .setupIgnored(let why): return .ignored(why)
        case .terminalOutput: return .ignored("output to the terminal")
        case .unrecognised(let why): return .untranslated(why)
        }
    }
}

extension StepRendering {
    /// The shell's `*` and `?` over one path (`*` does not cross a `/`).
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let pattern = Array(pattern), path = Array(path)
        func match(_ p: Int, _ s: Int) -> Bool {
            if p == pattern.count { return s == path.count }
            switch pattern[p] {
            case "*":
                var next = s
                while true {
                    if match(p + 1, next) { return true }
                    guard next < path.count, path[next] != "/" else { return false }
                    next += 1
                }
            case "?": return s < path.count && path[s] != "/" && match(p + 1, s + 1)
            default: return s < path.count && path[s] == pattern[p] && match(p + 1, s + 1)
            }
        }
        return match(0, 0)
    }

    /// xfs_io's `resvsp` (XFS_IOC_RESVSP64: allocate, size unchanged) and `unresvsp` (free the range).
    static let xfsPreallocation: [String: [String]] = ["resvsp": ["falloc", "-k"], "unresvsp": ["fpunch"]]

    /// util-linux fallocate's mode as a step's command. Its options add up (`-n -p` is a punch), where falloc's
    /// each replace the mode (`falloc -p -k` only preallocates), so each mode is written alone: `-z` is fzero
    /// (`-n`: `-k`), `-p` punches (keeping the size anyway), `-c` collapses, `-i` inserts, none allocates.
    static func fallocateCommand(_ flags: [String]) -> [String] {
        let keep = flags.contains("-k")
        if flags.contains("-z") { return keep ? ["fzero", "-k"] : ["fzero"] }
        if flags.contains("-p") { return ["falloc", "-p"] }
        if flags.contains("-c") { return ["falloc", "-c"] }
        if flags.contains("-i") { return ["falloc", "-i"] }
        return keep ? ["falloc", "-k"] : ["falloc"]
    }

    /// `echo TEXT > f`: the language writes runs of one byte, so a short text becomes one write per run.
    /// An append goes after the file's model size is unknown to the importer, so only `>` is taken.
    static func writeText(_ bytes: [UInt8], to file: String, append: Bool, existing: FileTracker) -> CommandDisposition {
        guard !append else { return .untranslated("text appended to \(file): the importer does not know the file's size") }
        guard bytes.count <= 256 else { return .untranslated("\(bytes.count) bytes of text written to \(file): too long to write byte run by byte run") }
        var steps = ["\(file): truncate 0"]
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] == bytes[start] { end += 1 }
            steps.append("\(file): pwrite -S 0x\(String(bytes[start], radix: 16)) \(start) \(end - start)")
            start = end
        }
        return .translated(steps)
    }

    /// `dd if=/dev/zero of=f bs=B count=N seek=S [oflag=direct,sync] [conv=notrunc,fsync,fdatasync]`: the
    /// zeros it writes as one pwrite of B-byte calls, after dd's own truncation to S*B unless notrunc.
    static func dd(input: String?, output: String?, blockSize: String?, count: String?, seek: String?, flags: [String]) -> CommandDisposition {
        guard input == "/dev/zero" else { return .untranslated("dd from \(input ?? "standard input"): only /dev/zero's bytes are known") }
        guard let output else { return .untranslated("dd without of=") }
        let block = blockSize.flatMap { Size.parse($0.lowercased()) } ?? 512
        guard let count = count.flatMap({ Size.parse($0.lowercased()) }) else { return .untranslated("dd without count=") }
        let seekBytes = (seek.flatMap { Size.parse($0.lowercased()) } ?? 0) * block
        // `conv=notrunc,fsync` is two flags.
        let flags = Set(flags.flatMap { flag -> [String] in
            let parts = flag.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 ? parts[1].split(separator: ",").map { "\(parts[0])=\($0)" } : [flag]
        })
        let open = (flags.contains("oflag=direct") ? ["-d"] : []) + (flags.contains("oflag=sync") || flags.contains("oflag=dsync") ? ["-s"] : [])
        var steps: [String] = []
        if !flags.contains("conv=notrunc") { steps.append("\(output): truncate \(seekBytes)") }
        steps.append("\(output): " + (open + ["pwrite", "-S", "0", "-b", "\(block)", "\(seekBytes)", "\(count * block)"]).joined(separator: " "))
        if flags.contains("conv=fsync") { steps.append("\(output): fsync") }
        if flags.contains("conv=fdatasync") { steps.append("\(output): fdatasync") }
        return .translated(steps)
    }
}
