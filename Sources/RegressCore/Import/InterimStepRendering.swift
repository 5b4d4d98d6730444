/// Writes `ReproducerOperation`s as test-language lines (tests.d steps, and `key: value` header lines
/// for mkfs, mount options and requirements), as far as the language goes today, passing xfs_io's `-c`
/// commands through as written. It stands in for the command table's translation, which replaces it;
/// meanwhile it lets the importer's accounting and the corpus measurement run end to end.
public struct InterimStepRendering {
    /// Mounted now; was mounted at some point since the mkfs (a mount after an unmount is a remount).
    private var mounted = false
    private var wasMounted = false
    private var afterShutdown = false
    /// The filesystem the script made, which its mount options are for.
    private var filesystem: String?
    private let mapper: ReproducerOperationMapper

    public init(mapper: ReproducerOperationMapper) { self.mapper = mapper }

    /// The disposition of one command's operations.
    public mutating func disposition(of operations: [ReproducerOperation]) -> CommandDisposition {
        var steps: [String] = []
        var ignored: [String] = []
        for operation in operations {
            switch render(operation) {
            case .translated(let lines): steps += lines
            case .ignored(let why): ignored.append(why)
            case .untranslated(let why): return .untranslated(why)
            }
        }
        if !steps.isEmpty || ignored.isEmpty { return .translated(steps) }
        return .ignored(ignored.joined(separator: "; "))
    }

    public mutating func render(_ operation: ReproducerOperation) -> CommandDisposition {
        switch operation {
        case .mkfs(let filesystem, let options):
            mounted = false
            wasMounted = false
            guard let filesystem else { return .translated(options.isEmpty ? [] : ["mkfs: " + options.joined(separator: " ")]) }
            self.filesystem = filesystem
            mounted = false
            wasMounted = false
            let lines = ["filesystems: \(filesystem)"] + (options.isEmpty ? [] : ["mkfs.\(filesystem): " + options.joined(separator: " ")])
            return .translated(lines)
        case .mount(let filesystem, let options):
            defer { mounted = true; wasMounted = true }
            if afterShutdown { afterShutdown = false; return .translated([]) }
            if wasMounted { return mounted ? .untranslated("mounted twice") : .translated(["remount"]) }
            let key = (filesystem ?? self.filesystem).map { "mount.\($0)" } ?? "mount"
            return .translated(options.isEmpty ? [] : ["\(key): " + options.joined(separator: ",")])
        case .umount:
            guard mounted else { return .ignored("an unmount before the script mounted anything: regress mounts and unmounts the test filesystem itself") }
            mounted = false
            return .translated([])
        case .remount(let options):
            return options.isEmpty ? .translated(["remount"]) : .untranslated("remount with other options (\(options.joined(separator: ",")))")
        case .cycleMount: return .translated(["remount"])
        case .powerFail: return .translated(["power-cut"])
        case .shutdown(let flushLog):
            afterShutdown = true
            return flushLog ? .untranslated("a shutdown that flushes the log first") : .translated(["power-cut"])
        case .flakeyDropWrites: return .translated(["drop-writes 0 0"])
        case .flakeyAllowWrites: return .translated(["clear-faults"])
        case .errorWrites: return .translated(["inject-error EIO"])
        case .dropCaches: return .translated(["drop-caches"])
        case .kernelSetting(let path, let value): return .untranslated("kernel setting \(path) = \(value) has no step")
        case .sync(let file): return .translated([file.map { "\($0): fsync" } ?? "sync"])
        case .syncfs: return .translated(["syncfs"])
        case .xfsIO(let openFlags, let file, let commands):
            guard let file else { return .untranslated("xfs_io without a file") }
            // The open's flags, as the language spells them on each write: O_SYNC is a write made
            // durable on return (-W), O_DIRECT is -d.
            let writeFlags = (openFlags.contains("-s") ? ["-W"] : []) + (openFlags.contains("-d") ? ["-d"] : [])
            return .translated(commands.map { command in
                var words = command.split(separator: " ").map { word in mapper.relative(String(word)) ?? String(word) }
                if words.first == "pwrite" { words.insert(contentsOf: writeFlags, at: 1) }
                if file == "." && (words.first == "syncfs" || words.first == "sync") { return words.first! }
                return "\(file): " + words.joined(separator: " ")
            })
        case .touch(let file): return .translated(["\(file): truncate 0"])
        case .writeText(let file, _, _): return .untranslated("text written to \(file): the language writes runs of one byte")
        case .copyReflink(let source, let destination): return .translated(["\(destination): reflink \(source)"])
        case .copy: return .untranslated("a data copy has no step")
        case .mkdir(let directory): return .translated(["mkdir \(directory)"])
        case .rm(let file): return .translated(["unlink \(file)"])
        case .mv(let from, let to): return .translated(["rename \(from) \(to)"])
        case .ln(let target, let name, let symbolic):
            return symbolic ? .untranslated("a symbolic link has no step") : .translated(["link \(target) \(name)"])
        case .truncate(let file, let size): return .translated(["\(file): truncate \(size)"])
        case .fallocate(let file, let flags, let offset, let length):
            return .translated(["\(file): falloc " + (flags + [offset, length]).joined(separator: " ")])
        case .dd: return .untranslated("dd: left to the command table")
        case .checksum(let file): return .translated(["verify \(file)"])
        case .requireFeature(let feature): return .ignored("requires \(feature) (a header requirement)")
        case .metadata(let key, let value): return .ignored("\(key): \(value) (test metadata)")
        case .setupIgnored(let why): return .ignored(why)
        case .terminalOutput: return .ignored("output to the terminal")
        case .sleep(let seconds): return .untranslated("sleep \(seconds): no step waits")
        case .unrecognised(let why): return .untranslated(why)
        }
    }
}
