/// Maps the shell-level commands of a reproducer to `ReproducerOperation`s: mkfs and mount in their
/// spellings, umount, sync, file commands (`touch`, `echo > f`, `cp --reflink`, `mkdir`, `rm`, `mv`,
/// `ln`, `truncate`, `fallocate`, `dd`), content checks, `/proc/sys` writes, fstests' helpers and the
/// power-failure idioms. xfs_io is split into its open flags, file and `-c` commands, no further.
///
/// Paths become relative to the test filesystem: the mount points are learnt from the script's
/// mounts and unmounts (and fstests' `$SCRATCH_MNT`), or, without any, from the paths it uses.
public struct ReproducerOperationMapper {
    public private(set) var mountPoints: [String]
    public private(set) var devices: Set<String>
    /// The working directory, when a `cd` moved it.
    private var workingDirectory: String?
    /// The reproducer has a golden output (an fstests test's `.out`), which holds what its commands
    /// print: what `ls` lists there is a check of names, which `verify` does not make.
    public var hasGoldenOutput = false
    /// `filefrag F | grep "N extents found"`: the count each such filefrag's pipeline checks, by its first line.
    private(set) var extentChecks: [Int: Int] = [:]

    /// Learns the mount points and devices from the whole script before mapping any command, so that
    /// the first `xfs_io … /mnt/foo` knows `/mnt` even when the mount comes later or never.
    public init(commands: [ShellCommand]) {
        var mountPoints: [String] = []
        var devices: Set<String> = [ShellScript.fstestsDefaults["SCRATCH_DEV"]!]
        func add(_ path: String) {
            let path = ReproducerOperationMapper.normalise(path)
            if path.hasPrefix("/"), path != "/", !mountPoints.contains(path) { mountPoints.append(path) }
        }
        for command in commands {
            guard let name = command.argv.first else { continue }
            let positional = ReproducerOperationMapper.positionalArguments(Array(command.argv.dropFirst()), takingValue: ["-o", "-t", "-O", "-L"])
            switch ReproducerOperationMapper.baseName(name) {
            case "mount":
                if positional.count >= 2 { devices.insert(positional[0]); add(positional[1]) }
                else if let only = positional.first, only != "...", !only.hasPrefix("/dev/") { add(only) }
            case "umount":
                for argument in positional where !argument.hasPrefix("/dev/") && !devices.contains(argument) { add(argument) }
            default:
                if name.hasPrefix("mkfs") || name == "mke2fs" {
                    for argument in positional where argument.hasPrefix("/dev/") { devices.insert(argument) }
                }
            }
        }
        let scratch = ShellScript.fstestsDefaults["SCRATCH_MNT"]!
        func uses(_ mountPoint: String) -> Bool {
            commands.contains { command in
                // Also inside a word: dd's `of=/mnt/scratch/f`, `--restore=…`.
                (command.argv + command.redirections.map(\.target)).contains { $0 == mountPoint || $0.contains(mountPoint + "/") || $0.hasSuffix("=" + mountPoint) }
            }
        }
        if uses(scratch) {
            add(scratch)
        } else if mountPoints.isEmpty, uses(ShellScript.fstestsDefaults["TEST_DIR"]!) {
            // fstests' test filesystem, when the test uses no scratch one: regress's fresh filesystem stands
            // for it (what the test does there does not depend on what earlier tests left on it).
            add(ShellScript.fstestsDefaults["TEST_DIR"]!)
        }
        if mountPoints.isEmpty, let inferred = ReproducerOperationMapper.inferMountPoint(commands) { mountPoints = [inferred] }
        self.mountPoints = mountPoints
        self.devices = devices
        self.extentChecks = ReproducerOperationMapper.checkedExtentCounts(commands)
    }

    /// Without a mount in the script: the directory under `/mnt` its file commands share.
    static func inferMountPoint(_ commands: [ShellCommand]) -> String? {
        var candidates: [String: Int] = [:]
        for command in commands {
            for argument in command.argv where argument.hasPrefix("/mnt/") || argument == "/mnt" {
                let components = argument.split(separator: "/")
                let depth = components.count >= 3 ? 2 : 1
                candidates["/" + components.prefix(depth).joined(separator: "/"), default: 0] += 1
            }
        }
        return candidates.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key
    }

    // MARK: - Paths

    static func normalise(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        while path.contains("//") { path = path.replacingAll("//", with: "/") }
        return path
    }

    /// The path relative to the test filesystem's root, `.` for the root, nil when it lies outside.
    public func relative(_ path: String) -> String? {
        var path = ReproducerOperationMapper.normalise(path)
        if !path.hasPrefix("/"), let workingDirectory {
            path = workingDirectory + "/" + path
        }
        for mountPoint in mountPoints.sorted(by: { $0.count > $1.count }) {
            if path == mountPoint { return "." }
            if path.hasPrefix(mountPoint + "/") {
                var rest = String(path.dropFirst(mountPoint.count + 1))
                if rest.hasPrefix("./") { rest.removeFirst(2) }
                return rest.isEmpty ? "." : rest
            }
        }
        return nil
    }

    /// fstests' bookkeeping files ($seqres.full, $tmp.*), which a test writes beside, not on, the filesystem.
    static func isHarnessPath(_ path: String) -> Bool {
        path.hasPrefix("/fstests/") || path.hasPrefix("/tmp/fstests") || path == "/dev/null" || path.hasPrefix("/dev/fd/")
    }

    // MARK: - Commands

    static func baseName(_ program: String) -> String {
        program.split(separator: "/").last.map(String.init) ?? program
    }

    /// Arguments that are not options, skipping the value of each option in `takingValue`.
    static func positionalArguments(_ arguments: [String], takingValue: Set<String>) -> [String] {
        var positional: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if takingValue.contains(argument) { index += 2; continue }
            if argument.hasPrefix("-") && argument.count > 1 { index += 1; continue }
            positional.append(argument)
            index += 1
        }
        return positional
    }

    /// What one command does. Commands in the middle or at the end of a pipeline that only filter
    /// output (`_filter_xfs_io`, `tee`, `grep`) are terminal output.
    public mutating func map(_ command: ShellCommand) -> [ReproducerOperation] {
        guard let program = command.argv.first else {
            return command.redirections.isEmpty ? [] : [.unrecognised("a redirection without a command")]
        }
        if ShellVocabulary.isPowerFailureMarker(program) { return [.powerFail] }
        if let pipeline = command.pipeline, pipeline.index > 0 {
            return [Self.isOutputFilter(program) ? .terminalOutput : .unrecognised("'\(program)' reads another command's output")]
        }
        let arguments = Array(command.argv.dropFirst())
        let name = Self.baseName(program)
        // A device in a variable the script never sets (`mount $dev /mnt`) does not matter: regress
        // brings its own device. Anywhere else an unknown value does.
        // What is echoed to the terminal is for a person, whatever it holds.
        if (name == "echo" || name == "printf") && command.writesToTerminal { return [.terminalOutput] }
        // What a test logs for fstests (`echo "freesp $before -> $after" >> $seqres.full`), whatever it holds.
        if (name == "echo" || name == "printf"), let target = command.standardOutputTarget, Self.isHarnessPath(target.path) {
            return [.setupIgnored("logged for fstests")]
        }
        let setsUpDevice = ["mount", "umount", "mke2fs"].contains(name) || name.hasPrefix("mkfs")
        // A device-mapper table's size and device are regress's own (its emulated disk).
        let unknown = name == "dmsetup" ? [] : command.unexpanded.filter { !(setsUpDevice && command.argv.contains($0)) }
        if !unknown.isEmpty {
            return [.unrecognised("\(ImportAccounting.unique(unknown).joined(separator: ", ")) not expanded (no value in the script)")]
        }
        if name.hasPrefix("mkfs") || name == "mke2fs" { return mapMkfs(name, arguments) }
        if name.hasPrefix("_") { return mapFstestsHelper(name, arguments, command) }
        switch name {
        case "mount": return mapMount(arguments)
        case "umount": return [.umount]
        case "xfs_io": return mapXfsIO(arguments)
        case "sync": return mapSync(arguments)
        case "echo", "printf": return mapEcho(name, arguments, command)
        case "cat": return mapCat(arguments, command)
        case "cp": return mapCopy(arguments)
        case "touch": return files(Self.positionalArguments(arguments, takingValue: ["-d", "-t", "-r"]), ReproducerOperation.touch)
        case "mkdir": return mapMkdir(arguments)
        case "rm", "rmdir", "unlink": return mapRemove(arguments)
        case "mv": return mapTwoPaths(arguments, "mv") { .mv(from: $0, to: $1) }
        case "ln": return mapTwoPaths(arguments, "ln") { .ln(target: $0, name: $1, symbolic: arguments.contains { $0.hasPrefix("-") && $0.contains("s") }) }
        case "truncate": return mapTruncate(arguments)
        case "fallocate": return mapFallocate(arguments)
        case "cloner": return mapCloner(arguments)
        case "chattr":
            // `chattr +C -e FILE…`: the flag words, then the files.
            let flags = arguments.filter { ($0.hasPrefix("+") || $0.hasPrefix("-")) && $0.count > 1 && $0.dropFirst().allSatisfy(\.isLetter) }
            return files(arguments.filter { !flags.contains($0) }) { .chattr(file: $0, flags: flags) }
        case "filefrag": return mapFilefrag(arguments, command)
        case "dd": return mapDD(arguments)
        case "od", "hexdump", "xxd", "md5sum", "sha1sum", "sha256sum", "cmp", "fssum": return mapChecksum(name, arguments)
        // `ls -R /mnt/dir` after a power cut checks which names survived; `verify` checks every file.
        case "ls" where hasGoldenOutput && command.standardOutputTarget == nil:
            // tests/generic/376: the names `ls -R` prints after a power cut must all be there; `verify`
            // would let a name the model takes as never made durable vanish.
            return [.unrecognised("ls lists names for the golden output: the language has no check that names exist")]
        case "ls":
            let checked = files(Self.positionalArguments(arguments, takingValue: ["-I", "--ignore"])) { _ in .checksum(file: ".") }
            return checked.contains(.checksum(file: ".")) ? [.checksum(file: ".")] : Array(checked.prefix(1))
        case "godown": return [.shutdown(flushLog: arguments.contains("-f"))]
        case "[", "test": return mapTest(name, arguments)
        case "stat": return mapStat(arguments)
        case "btrfs": return mapBtrfs(arguments)
        case "dmsetup": return mapDmsetup(arguments)
        case "cd":
            workingDirectory = arguments.first.map(Self.normalise)
            return [.setupIgnored("cd: later relative paths start from \(arguments.first ?? "~")")]
        case "sleep": return [.setupIgnored("a pause: no step waits, and the model promises nothing a pause makes durable")]
        case "wait": return [.setupIgnored("waits for background commands, which the import runs in order")]
        case "set": return [.setupIgnored("shell option 'set \(arguments.joined(separator: " "))'")]
        case "exit": return [.setupIgnored("the end of the script")]
        case "true", ":": return [.setupIgnored("does nothing")]
        case ".", "source": return [.setupIgnored("reads fstests' library \(arguments.first ?? "")")]
        case "e2fsck", "fsck", "xfs_repair", "btrfsck": return [.setupIgnored("regress checks the filesystem after every test")]
        case "sysctl": return mapSysctl(arguments)
        case "perl", "python", "python3", "sh", "bash": return [.unrecognised("a \(name) program: its I/O is not read")]
        default:
            if name.hasPrefix("fsck.") { return [.setupIgnored("regress checks the filesystem after every test")] }
            return [.unrecognised("'\(name)' has no operation")]
        }
    }

    /// Words of arguments passed on in one quoted variable (`"$xfs_io_args"`): split, the empty ones dropped.
    static func words(_ arguments: ArraySlice<String>) -> [String] {
        arguments.flatMap { $0.split(separator: " ").map(String.init) }
    }

    static func isOutputFilter(_ program: String) -> Bool {
        program.hasPrefix("_filter") || ["tee", "grep", "egrep", "sed", "awk", "sort", "uniq", "head", "tail", "wc", "cut", "cat", "tr", "xargs"].contains(baseName(program))
    }

    /// `mkdir -p a/b/c` makes each missing level: one `mkdir` a level (the first ones may exist).
    private func mapMkdir(_ arguments: [String]) -> [ReproducerOperation] {
        let paths = Self.positionalArguments(arguments, takingValue: ["-m"])
        guard arguments.contains(where: { $0 == "-p" || $0 == "--parents" || ($0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("p")) }) else {
            return files(paths, ReproducerOperation.mkdir)
        }
        return files(paths, ReproducerOperation.mkdir).flatMap { operation -> [ReproducerOperation] in
            guard case .mkdir(let path) = operation else { return [operation] }
            let components = path.split(separator: "/")
            return (1...components.count).map { .mkdir(components.prefix($0).joined(separator: "/")) }
        }
    }

    /// `[ -f FILE ]`, `[ -e FILE ]`: the reproducer checks that a file exists; `verify` checks that and more.
    private func mapTest(_ name: String, _ arguments: [String]) -> [ReproducerOperation] {
        var words = arguments
        if name == "[" {
            guard words.last == "]" else { return [.unrecognised("'[' without ']'")] }
            words.removeLast()
        }
        guard words.count == 2, words[0] == "-f" || words[0] == "-e" else {
            return [.unrecognised("the test '\(words.joined(separator: " "))' has no operation")]
        }
        return files([words[1]]) { .checksum(file: $0) }
    }

    func files(_ paths: [String], _ make: (String) -> ReproducerOperation) -> [ReproducerOperation] {
        guard !paths.isEmpty else { return [.unrecognised("no file named")] }
        return paths.map { path in
            if Self.isHarnessPath(path) { return .setupIgnored("fstests' own file \(path)") }
            if path.contains("*") || path.contains("?") { return .unrecognised("\(path) is a pattern: the files it matches are not known") }
            if let relative = relative(path) { return make(relative) }
            return .unrecognised("\(path) is outside the test filesystem")
        }
    }

    private func mapMkfs(_ name: String, _ arguments: [String]) -> [ReproducerOperation] {
        var filesystem: String? = name.hasPrefix("mkfs.") ? String(name.dropFirst(5)) : (name == "mke2fs" ? "ext2" : nil)
        var options: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "-t" || argument == "-T" && name == "mkfs", index + 1 < arguments.count {
                filesystem = arguments[index + 1]
                index += 2
                continue
            }
            if ["-f", "-F", "-q", "-K"].contains(argument) || devices.contains(argument) || argument.hasPrefix("/dev/") {
                index += 1
                continue
            }
            options.append(argument)
            index += 1
        }
        if name == "mke2fs", filesystem == "ext2", !arguments.contains("-t") { filesystem = "ext2" }
        return [.mkfs(filesystem: filesystem, options: options)]
    }

    private func mapMount(_ arguments: [String]) -> [ReproducerOperation] {
        var options: [String] = []
        var filesystem: String?
        var index = 0
        var positional: [String] = []
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "-o", index + 1 < arguments.count {
                options += arguments[index + 1].split(separator: ",").map(String.init)
                index += 2
            } else if argument == "-t", index + 1 < arguments.count {
                filesystem = arguments[index + 1]
                index += 2
            } else if argument.hasPrefix("-o") && argument.count > 2 {
                options += argument.dropFirst(2).split(separator: ",").map(String.init)
                index += 1
            } else {
                if !argument.hasPrefix("-") { positional.append(argument) }
                index += 1
            }
        }
        if options.contains("remount") { return [.remount(options: options.filter { $0 != "remount" })] }
        options.removeAll { $0 == "loop" }
        return [.mount(filesystem: filesystem, options: options)]
    }

    private func mapXfsIO(_ arguments: [String]) -> [ReproducerOperation] {
        var flags: [String] = []
        var commands: [String] = []
        var files: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument.count > 1 else { files.append(argument); continue }
            // Clustered flags: `-fc "cmd"`, `-fdc "cmd"`.
            for flag in argument.dropFirst() {
                if flag == "c" || flag == "C" {
                    if index < arguments.count { commands.append(arguments[index]); index += 1 }
                } else if flag == "p" {
                    index += 1
                } else {
                    flags.append("-" + String(flag))
                }
            }
        }
        guard files.count <= 1 else { return [.unrecognised("xfs_io with \(files.count) files")] }
        guard let file = files.first else { return [.xfsIO(openFlags: flags, file: nil, commands: commands)] }
        guard let relative = relative(file) else {
            return [.unrecognised("\(file) is outside the test filesystem")]
        }
        if commands.contains(where: { $0.hasPrefix("shutdown") }) && flags.contains("-x") {
            return [.shutdown(flushLog: commands.contains { $0.contains("-f") })]
        }
        let (kept, printsOnly) = Self.xfsIOMappingAndLayoutCommands(commands)
        // The map is the reproducer's check (a person's eyes, or fstests' golden output): regress counts
        // extents but cannot compare a map, so the line says so rather than pass for translated.
        if let shown = printsOnly.first {
            return [.unrecognised("xfs_io '\(shown)' prints the extent map for a person or a golden output to judge: write 'F: expect-extents N' with the count the fixed kernel gives")]
        }
        return [.xfsIO(openFlags: flags, file: relative, commands: kept)]
    }

    private func mapSync(_ arguments: [String]) -> [ReproducerOperation] {
        if arguments.contains("-f") || arguments.contains("--file-system") { return [.syncfs] }
        let paths = arguments.filter { !$0.hasPrefix("-") }
        if paths.isEmpty { return [.sync(file: nil)] }
        return files(paths) { .sync(file: $0) }
    }

    private func mapEcho(_ name: String, _ arguments: [String], _ command: ShellCommand) -> [ReproducerOperation] {
        var words = arguments
        var newline = true
        if name == "echo" {
            while let first = words.first, ["-n", "-e", "-ne", "-en", "-E"].contains(first) {
                if first.contains("n") { newline = false }
                words.removeFirst()
            }
        }
        var text = name == "printf" ? (words.first ?? "") : words.joined(separator: " ") + (newline ? "\n" : "")
        if name == "printf" { text = text.replacingAll("\\n", with: "\n") }
        guard let target = command.standardOutputTarget else {
            // Into a pipe (`echo … | tee -a $seqres.full`): what reads it is a command of its own, reported
            // as such where it does more than show the text.
            if let pipeline = command.pipeline, pipeline.index < pipeline.count - 1 { return [.terminalOutput] }
            return [.terminalOutput]
        }
        return mapWrite(target.path, text, append: target.append)
    }

    private func mapWrite(_ path: String, _ text: String, append: Bool) -> [ReproducerOperation] {
        if path.hasPrefix("/proc/sys/vm/drop_caches") { return [.dropCaches] }
        // Magic SysRq: `b` reboots at once, without syncing or unmounting (a power failure), `s` syncs.
        if path == "/proc/sysrq-trigger" {
            switch text.trimmingBlanks {
            case "b", "c", "o": return [.powerFail]
            case "s": return [.sync(file: nil)]
            default: return [.unrecognised("sysrq '\(text.trimmingBlanks)' has no operation")]
            }
        }
        // SCSI disk taken offline (`echo offline > /sys/…/device/state`): nothing more reaches it, as in
        // a power failure; `running` brings it back, which the power cut's own remount does.
        if path.hasPrefix("/sys/"), path.hasSuffix("/device/state") {
            switch text.trimmingBlanks {
            case "offline": return [.powerFail]
            case "running": return [.setupIgnored("the disk comes back: regress's power cut brings it back")]
            default: break
            }
        }
        if path.hasPrefix("/proc/sys/") || path.hasPrefix("/sys/") {
            return [.kernelSetting(path: path, value: text.trimmingBlanks)]
        }
        if Self.isHarnessPath(path) { return [.setupIgnored("output discarded or logged for fstests")] }
        guard let relative = relative(path) else { return [.unrecognised("\(path) is outside the test filesystem")] }
        return [.writeText(file: relative, bytes: text, append: append)]
    }

    private func mapCat(_ arguments: [String], _ command: ShellCommand) -> [ReproducerOperation] {
        if let hereDocument = command.redirections.first(where: { $0.hereDocument != nil })?.hereDocument,
           let target = command.standardOutputTarget {
            return mapWrite(target.path, hereDocument, append: target.append)
        }
        let paths = arguments.filter { !$0.hasPrefix("-") }
        if let target = command.standardOutputTarget, !Self.isHarnessPath(target.path) {
            guard paths.count == 1, let source = relative(paths[0]), let destination = relative(target.path) else {
                return [.unrecognised("cat into \(target.path)")]
            }
            return [.copy(source: source, destination: destination)]
        }
        return files(paths) { .checksum(file: $0) }
    }

    private func mapCopy(_ arguments: [String]) -> [ReproducerOperation] {
        let paths = arguments.filter { !$0.hasPrefix("-") }
        guard paths.count == 2 else { return [.unrecognised("cp with \(paths.count) paths")] }
        guard let source = relative(paths[0]), let destination = relative(paths[1]) else {
            return [.unrecognised("cp from or to outside the test filesystem")]
        }
        let reflink = arguments.first { $0.hasPrefix("--reflink") }
        if let reflink, reflink == "--reflink" || reflink == "--reflink=always" {
            return [.copyReflink(source: source, destination: destination)]
        }
        if reflink == "--reflink=auto" { return [.unrecognised("cp --reflink=auto: a reflink or a copy, as the filesystem allows")] }
        return [.copy(source: source, destination: destination)]
    }

    private func mapRemove(_ arguments: [String]) -> [ReproducerOperation] {
        let paths = arguments.filter { !$0.hasPrefix("-") }
        guard !paths.isEmpty else { return [.unrecognised("no file named")] }
        return paths.flatMap { path -> [ReproducerOperation] in
            // A pattern on the test filesystem removes what matches among the files the steps made.
            if !Self.isHarnessPath(path), path.contains("*") || path.contains("?"), let relative = relative(path), !relative.contains("[") {
                return [.rmMatching(relative)]
            }
            return files([path]) { .rm($0) }
        }
    }

    private func mapTwoPaths(_ arguments: [String], _ name: String, _ make: (String, String) -> ReproducerOperation) -> [ReproducerOperation] {
        var paths = arguments.filter { !$0.hasPrefix("-") }
        guard paths.count == 2 else { return [.unrecognised("\(name) with \(paths.count) paths")] }
        // `mv a dir/`: the name goes into the directory.
        if paths[1].hasSuffix("/"), let base = paths[0].split(separator: "/").last { paths[1] += base }
        guard let first = relative(paths[0]) ?? (name == "ln" ? paths[0] : nil), let second = relative(paths[1]) else {
            return [.unrecognised("\(name) from or to outside the test filesystem")]
        }
        return [make(first, second)]
    }

    private func mapTruncate(_ arguments: [String]) -> [ReproducerOperation] {
        var size: String?
        var paths: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "-s" || argument == "--size", index + 1 < arguments.count {
                size = arguments[index + 1]
                index += 2
                continue
            }
            if argument.hasPrefix("--size=") { size = String(argument.dropFirst(7)) }
            else if argument.hasPrefix("-s"), argument.count > 2 { size = String(argument.dropFirst(2)) }
            else if !argument.hasPrefix("-") { paths.append(argument) }
            index += 1
        }
        guard let size else { return [.unrecognised("truncate without -s")] }
        return files(paths) { .truncate(file: $0, size: size) }
    }

    private func mapFallocate(_ arguments: [String]) -> [ReproducerOperation] {
        var flags: [String] = []
        var offset = "0"
        var length: String?
        var paths: [String] = []
        var index = 0
        let flagNames = ["-n": "-k", "--keep-size": "-k", "-p": "-p", "--punch-hole": "-p", "-z": "-z", "--zero-range": "-z",
                         "-c": "-c", "--collapse-range": "-c", "-i": "-i", "--insert-range": "-i"]
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "-o" || argument == "--offset", index + 1 < arguments.count { offset = arguments[index + 1]; index += 2; continue }
            if argument == "-l" || argument == "--length", index + 1 < arguments.count { length = arguments[index + 1]; index += 2; continue }
            if argument.count > 2, ["-o", "-l"].contains(String(argument.prefix(2))) {
                // `-l1m`, `-o4096`: the value attached.
                if argument.hasPrefix("-o") { offset = String(argument.dropFirst(2)) } else { length = String(argument.dropFirst(2)) }
                index += 1
                continue
            }
            if let flag = flagNames[argument] { flags.append(flag) }
            else if argument.hasPrefix("-") { return [.unrecognised("fallocate option \(argument)")] }
            else { paths.append(argument) }
            index += 1
        }
        guard let length else { return [.unrecognised("fallocate without -l")] }
        return files(paths) { .fallocate(file: $0, flags: flags, offset: offset, length: length) }
    }

    /// fstests' `src/cloner [-s SRC_OFF] [-d DST_OFF] [-l LEN] SRC DST`: FICLONERANGE (FICLONE without offsets).
    private func mapCloner(_ arguments: [String]) -> [ReproducerOperation] {
        var values: [String: String] = ["-s": "0", "-d": "0", "-l": "0"]
        var paths: [String] = []
        var index = 0
        while index < arguments.count {
            if values[arguments[index]] != nil, index + 1 < arguments.count { values[arguments[index]] = arguments[index + 1]; index += 2; continue }
            if !arguments[index].hasPrefix("-") { paths.append(arguments[index]) }
            index += 1
        }
        guard paths.count == 2, relative(paths[0]) != nil, let destination = relative(paths[1]) else { return [.unrecognised("cloner from or to outside the test filesystem")] }
        return [.xfsIO(openFlags: [], file: destination, commands: ["reflink \(paths[0]) \(values["-s"]!) \(values["-d"]!) \(values["-l"]!)"])]
    }

    private func mapDD(_ arguments: [String]) -> [ReproducerOperation] {
        var values: [String: String] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else { return [.unrecognised("dd operand \(argument)")] }
            values[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
        }
        func path(_ key: String) -> String?? {
            guard let value = values[key] else { return .some(nil) }
            if value.hasPrefix("/dev/zero") || value.hasPrefix("/dev/urandom") || value.hasPrefix("/dev/random") { return .some(value) }
            return relative(value).map { .some($0) } ?? nil
        }
        // `dd if=F of=/dev/null`: the file is read, all of it; `verify` reads it and checks what it holds.
        if values["of"] == "/dev/null", let source = values["if"], let relative = relative(source) { return [.checksum(file: relative)] }
        guard let input = path("if"), let output = path("of") else { return [.unrecognised("dd from or to outside the test filesystem")] }
        let flags = ["conv", "oflag", "iflag"].compactMap { key in values[key].map { "\(key)=\($0)" } }
        return [.dd(input: input, output: output, blockSize: values["bs"], count: values["count"], seek: values["seek"],
                    skip: values["skip"], flags: flags)]
    }

    private func mapChecksum(_ name: String, _ arguments: [String]) -> [ReproducerOperation] {
        let positional = Self.positionalArguments(arguments, takingValue: ["-t", "-A", "-N", "-j", "-n", "-s", "-l", "-c"])
        guard !positional.isEmpty else { return [.unrecognised("\(name) without a file")] }
        return files(positional) { .checksum(file: $0) }
    }

    private func mapBtrfs(_ arguments: [String]) -> [ReproducerOperation] {
        let words = arguments.filter { !$0.hasPrefix("-") }
        guard words.count >= 2 else { return [.unrecognised("btrfs \(arguments.joined(separator: " "))")] }
        if "filesystem".hasPrefix(words[0]) && words[0].count >= 2 && words[1] == "sync" { return [.syncfs] }
        if "check".hasPrefix(words[0]) && words[0].count >= 3 { return [.setupIgnored("regress checks the filesystem after every test")] }
        return [.unrecognised("btrfs \(words[0]) \(words[1]) has no operation")]
    }

    /// dm-flakey written out, as `_flakey_drop_and_remount` does it: `dmsetup load DEV --table "0 N flakey
    /// DEV 0 0 180 1 drop_writes"` (writes dropped from now on, which with the unmount after it is a power
    /// cut), a `linear` or an always-up flakey table (writes allowed again), `error_writes` (writes fail).
    /// Suspending, resuming and making the device are the emulated disk's own business.
    private func mapDmsetup(_ arguments: [String]) -> [ReproducerOperation] {
        guard let subcommand = arguments.first else { return [.unrecognised("dmsetup without a command")] }
        switch subcommand {
        case "suspend", "resume", "remove", "mknodes", "info", "status", "table", "ls", "wait", "udevcomplete_all":
            return [.setupIgnored("dmsetup \(subcommand): regress's emulated disk needs no device-mapper")]
        case "create", "load", "reload":
            let table: String
            if let at = arguments.firstIndex(of: "--table"), at + 1 < arguments.count { table = arguments[at + 1] }
            else if let inline = arguments.first(where: { $0.hasPrefix("--table=") }) { table = String(inline.dropFirst(8)) }
            else { return [.unrecognised("dmsetup \(subcommand) without --table: the table comes from standard input")] }
            let fields = table.split(separator: " ").map(String.init)
            guard fields.count >= 3 else { return [.unrecognised("dmsetup table '\(table)'")] }
            switch fields[2] {
            case "linear", "log-writes":
                return [subcommand == "create" ? .setupIgnored("dmsetup create: regress's emulated disk needs no device-mapper") : .flakeyAllowWrites]
            case "flakey":
                // flakey DEV OFFSET UP DOWN [N FEATURES…]: what happens while down.
                let features = fields.count > 7 ? Array(fields[7...]) : []
                let down = fields.count > 6 ? fields[6] : "0"
                if features.contains("drop_writes") { return [.flakeyDropWrites] }
                if features.contains("error_writes") || (down != "0" && features.isEmpty && fields.count > 5 && fields[5] == "0") { return [.errorWrites] }
                if down == "0" {
                    return [subcommand == "create" ? .setupIgnored("dmsetup create: regress's emulated disk needs no dm-flakey") : .flakeyAllowWrites]
                }
                return [.unrecognised("a dm-flakey table that is up and down in turns ('\(table)')")]
            case "error": return [.errorWrites]
            default: return [.unrecognised("a device-mapper '\(fields[2])' table")]
            }
        case "message":
            if arguments.count >= 5, arguments[3] == "mark" { return [.powerFail] }
            return [.unrecognised("dmsetup message \(arguments.dropFirst().joined(separator: " "))")]
        default: return [.unrecognised("dmsetup \(subcommand) has no operation")]
        }
    }

    /// `stat -c FORMAT FILE…` prints what FORMAT asks for, which the golden output then holds: a name,
    /// the type and the size are what `verify` checks (the model knows each file's size); the block
    /// count, inode number, link count, mode and times have no check in the language.
    private func mapStat(_ arguments: [String]) -> [ReproducerOperation] {
        var format: String?
        var paths: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if ["-c", "--format", "--printf"].contains(argument), index + 1 < arguments.count { format = arguments[index + 1]; index += 2; continue }
            if argument.hasPrefix("--format=") || argument.hasPrefix("--printf=") { format = String(argument.drop { $0 != "=" }.dropFirst()) }
            else if argument == "-f" || argument == "--file-system" { return [.unrecognised("stat -f looks at the filesystem, which no check does")] }
            else if !argument.hasPrefix("-") { paths.append(argument) }
            index += 1
        }
        guard let format else { return [.unrecognised("stat without -c prints everything, times and inode numbers too: no check says the same")] }
        var directives: [Character] = []
        var rest = Substring(format)
        while let percent = rest.firstIndex(of: "%") {
            rest = rest[rest.index(after: percent)...]
            if let directive = rest.first { directives.append(directive); rest = rest.dropFirst() }
        }
        let checked: Set<Character> = ["s", "n", "N", "F", "%"]
        if let unchecked = directives.first(where: { !checked.contains($0) }) {
            return [.unrecognised("stat %\(unchecked): the language has no check of what it prints")]
        }
        return files(paths) { .checksum(file: $0) }
    }

    private func mapSysctl(_ arguments: [String]) -> [ReproducerOperation] {
        guard let setting = arguments.first(where: { $0.contains("=") }) else { return [.unrecognised("sysctl without a setting")] }
        let key = setting.split(separator: "=", maxSplits: 1)
        if key[0] == "vm.drop_caches" { return [.dropCaches] }
        return [.kernelSetting(path: "/proc/sys/" + String(key[0]).replacingAll(".", with: "/"), value: key.count > 1 ? String(key[1]) : "")]
    }

    private mutating func mapFstestsHelper(_ name: String, _ arguments: [String], _ command: ShellCommand) -> [ReproducerOperation] {
        switch name {
        case "_scratch_mkfs", "_scratch_mkfs_sized", "_scratch_mkfs_xfs", "_scratch_mkfs_ext4", "_scratch_mkfs_btrfs":
            var options = arguments
            if name == "_scratch_mkfs_sized", let size = arguments.first { options = ["size=\(size)"] + arguments.dropFirst() }
            let filesystem = name == "_scratch_mkfs" || name == "_scratch_mkfs_sized" ? nil : String(name.dropFirst("_scratch_mkfs_".count))
            return [.mkfs(filesystem: filesystem, options: options)]
        // common/rc: mkfs with that block size, in each filesystem's own option.
        case "_scratch_mkfs_blocksized" where arguments.count == 1 && Size.parse(arguments[0]) != nil:
            let size = arguments[0]
            return [.mkfs(filesystem: nil, options: []), .metadata(key: "mkfs.xfs", value: "-b size=\(size)"),
                    .metadata(key: "mkfs.ext4", value: "-b \(size)"), .metadata(key: "mkfs.btrfs", value: "-s \(size)")]
        case "_scratch_mount", "_mount_flakey", "_scratch_mount_idmapped", "_try_scratch_mount":
            var options: [String] = []
            // `-o a,b` as two words or one (`_try_scratch_mount "-o dioread_nolock"`).
            let words = arguments.flatMap { $0.split(separator: " ").map(String.init) }
            var index = 0
            while index < words.count {
                if words[index] == "-o", index + 1 < words.count {
                    options += words[index + 1].split(separator: ",").map(String.init)
                    index += 1
                } else if words[index].hasPrefix("-o"), words[index].count > 2 {
                    options += words[index].dropFirst(2).split(separator: ",").map(String.init)
                }
                index += 1
            }
            return [.mount(filesystem: nil, options: options)]
        case "_scratch_unmount", "_unmount_flakey", "_scratch_umount": return [.umount]
        case "_scratch_cycle_mount": return [.cycleMount]
        // The test filesystem is regress's filesystem when the test uses no scratch one.
        case "_test_cycle_mount" where mountPoints == [ShellScript.fstestsDefaults["TEST_DIR"]!]: return [.cycleMount]
        // common/rc: `cmp -n LEN` of two ranges; `verify` of both files checks each against the model.
        case "_compare_range" where arguments.count >= 5: return files([arguments[0], arguments[2]]) { .checksum(file: $0) }
        case "_scratch_remount": return [.remount(options: arguments.flatMap { $0.split(separator: ",").map(String.init) })]
        case "_flakey_drop_and_remount": return [.powerFail]
        case "_scratch_shutdown": return [.shutdown(flushLog: arguments.contains("-f"))]
        case "_scratch_sync": return [.syncfs]
        case "_load_flakey_table":
            switch arguments.first {
            case "1"?, "$FLAKEY_DROP_WRITES"?: return [.flakeyDropWrites]
            case "0"?, "$FLAKEY_ALLOW_WRITES"?: return [.flakeyAllowWrites]
            case "2"?, "$FLAKEY_ERROR_WRITES"?: return [.errorWrites]
            default: return [.unrecognised("_load_flakey_table \(arguments.joined(separator: " "))")]
            }
        case "_init_flakey", "_cleanup_flakey": return [.setupIgnored("regress's emulated disk needs no dm-flakey")]
        // common/rc and common/reflink: xfs_io and cp in a function (`$XFS_IO_PROG $args -f -c "pwrite -S
        // $pattern $offset $len" "$file"`), mapped as what they run.
        case "_pwrite_byte" where arguments.count >= 4:
            return mapXfsIO(Self.words(arguments.dropFirst(4)) + ["-f", "-c", "pwrite -S \(arguments[0]) \(arguments[1]) \(arguments[2])", arguments[3]])
        case "_reflink_range" where arguments.count >= 5:
            return mapXfsIO(Self.words(arguments.dropFirst(5)) + ["-f", "-c", "reflink \(arguments[0]) \(arguments[1]) \(arguments[3]) \(arguments[4])", arguments[2]])
        case "_dedupe_range" where arguments.count >= 5:
            return mapXfsIO(Self.words(arguments.dropFirst(5)) + ["-f", "-c", "dedupe \(arguments[0]) \(arguments[1]) \(arguments[3]) \(arguments[4])", arguments[2]])
        case "_mwrite_byte" where arguments.count >= 5:
            return mapXfsIO(["-f", "-c", "mmap -rw 0 \(arguments[3])", "-c", "mwrite -S \(arguments[0]) \(arguments[1]) \(arguments[2])", arguments[4]])
        case "_exit": return [.setupIgnored("the end of the script")]
        case "_exclude_scratch_mount_option": return [.setupIgnored("regress mounts with the test's own options only")]
        case "_reflink" where arguments.count == 2: return mapXfsIO(["-f", "-c", "reflink \(arguments[0])", arguments[1]])
        case "_cp_reflink" where arguments.count == 2: return mapCopy(["--reflink=always", arguments[0], arguments[1]])
        // The fix the test guards: its `fix:` line (and `commit:`, unless the id is a placeholder).
        case "_fixed_by_kernel_commit", "_fixed_by_git_commit" :
            var words = arguments
            if name == "_fixed_by_git_commit" {
                guard words.first == "kernel" else { return [.setupIgnored("a fix in \(words.first ?? "a tool"), not in the kernel")] }
                words.removeFirst()
            }
            guard let id = words.first else { return [.unrecognised("\(name) without a commit")] }
            let subject = words.dropFirst().joined(separator: " ")
            let isHex = id.count >= 7 && id.allSatisfy(\.isHexDigit)
            return (subject.isEmpty ? [] : [.metadata(key: "fix", value: subject)]) + (isHex ? [.metadata(key: "commit", value: id.lowercased())] : [])
        case "_wants_kernel_commit", "_wants_git_commit", "_fixed_by_fs_commit":
            return [.setupIgnored("\(name): a commit the test suggests, not the fix it guards")]
        case "_register_cleanup": return [.setupIgnored("fstests' cleanup: regress cleans up after every test itself")]
        case "_disable_dmesg_check": return [.setupIgnored("fstests' kernel-log check is off: regress's own reading of the kernel log decides")]
        // dm-log-writes: a test marks the log where it would cut the power, and later replays the log up
        // to the mark and mounts what it left: a power cut at the mark.
        case "_log_writes_mark": return [.powerFail]
        case "_log_writes_init", "_log_writes_remove", "_log_writes_cleanup", "_log_writes_replay_log", "_log_writes_replay_log_range",
             "_require_log_writes", "_require_log_writes_dax_mountopt":
            return [.setupIgnored("the power cut at the log's mark stands for the log's replay")]
        case "_log_writes_mkfs": return [.mkfs(filesystem: nil, options: arguments)]
        case "_log_writes_mount": return [.mount(filesystem: nil, options: [])]
        case "_log_writes_unmount": return [.umount]
        case "_scratch_drop_caches", "_drop_caches": return [.dropCaches]
        case "_hexdump", "_md5_checksum", "_od", "_sha256_checksum":
            return files(arguments.filter { !$0.hasPrefix("-") }) { .checksum(file: $0) }
        case "_supported_fs", "_exclude_fs": return [.metadata(key: name == "_supported_fs" ? "filesystems" : "not-filesystems", value: arguments.joined(separator: " "))]
        case "_begin_fstest": return [.metadata(key: "groups", value: arguments.joined(separator: " "))]
        case "_require_scratch", "_require_scratch_nocheck", "_require_test", "_require_dm_target",
             "_require_metadata_journaling", "_require_scratch_shutdown":
            return [.setupIgnored("\(name): regress always has a scratch filesystem on its own disk")]
        case "_check_scratch_fs", "_check_test_fs": return [.setupIgnored("regress checks the filesystem after every test")]
        case "_fail", "_notrun": return [.setupIgnored("\(name): fstests' verdict")]
        default:
            if let feature = Self.languageRequirement(name, arguments) { return [.requireFeature(feature)] }
            // A device regress does not make: the test's meaning depends on it (placement in realtime
            // groups or zones, several devices, DAX), so the requirement must not vanish.
            if name.hasPrefix("_require_"), !name.contains("non_zoned"),
               let device = ["realtime": "a realtime device", "zoned": "a zoned device", "dev_pool": "several devices",
                             "dax": "a DAX device", "logdev": "an external log device", "tape": "a tape"].first(where: { name.contains($0.key) })?.value {
                return [.unrecognised("\(name): the test needs \(device), which regress does not give it")]
            }
            if name.hasPrefix("_require_") {
                return [.requireFeature(([String(name.dropFirst("_require_".count))] + arguments).joined(separator: " "))]
            }
            if name.hasPrefix("_filter") { return [.terminalOutput] }
            return [.unrecognised("fstests helper \(name) has no operation")]
        }
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let first = rest.firstIndex(of: target.first!) {
            if rest[first...].hasPrefix(target) {
                result += rest[..<first] + replacement
                rest = rest[rest.index(first, offsetBy: target.count)...]
            } else {
                result += rest[...first]
                rest = rest[rest.index(after: first)...]
            }
        }
        return result + rest
    }
}
