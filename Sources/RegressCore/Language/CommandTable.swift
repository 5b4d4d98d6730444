/// Every command of the test language, declared once: its name, syntax and parse, whether it acts on a
/// file, what kind of operation it is, which disk backend it needs, its help line and how it changes
/// which files exist. The parser, `regress list`, the importer, the spec's command list (checked by a
/// test) and the fuzz dictionary all read this table; RegressRunner executes each `Command` case.
/// Adding a command: one entry here (and its `Command` case), one case in the executor.
public struct CommandSpec {
    public enum Target: Sendable { case file, filesystem }

    public enum Category: String, Sendable {
        /// Changes what a file holds or which names exist: what a test must do at least once.
        case data
        case read, durability, check, mount, fault
        /// Changes an inode's flags, not what it holds.
        case attribute
        /// Makes or removes a memory mapping: changes nothing a file holds.
        case mapping
        /// Closes the descriptor a file's steps share: changes nothing a file holds.
        case descriptor
    }

    /// What must sit under the filesystem for the command to run.
    public enum Requirement: String, Codable, Sendable, CustomStringConvertible {
        /// Any power-cut backend: the emulated disk, dm-log-writes or dm-flakey.
        case powerCut = "power-cut"
        /// Faults only regress's emulated disk can inject.
        case emulatedDisk = "emulated-disk"
        public var description: String {
            switch self {
            case .powerCut: return "a power-cut backend (the emulated disk, dm-log-writes or dm-flakey)"
            case .emulatedDisk: return "the emulated disk (FUSE)"
            }
        }
    }

    public let name: String
    public let usage: String
    public let help: String
    public let target: Target
    public let category: Category
    public let requirement: Requirement?
    /// How many words xfs_io's command of this name takes, options included (its argmin and argmax): more
    /// or fewer is "bad argument count" there, and a parse error here. Nil for regress's own commands.
    public let arguments: ArgumentCount?
    let parse: (inout ArgumentReader) throws -> Command
    /// Which files the step needs and makes, checked before anything runs (`fsync nosuchfile` is an error).
    let track: (Command, _ file: String?, inout FileTracker, TrackingLocations) throws -> Void

    init(_ name: String, _ usage: String, _ target: Target, _ category: Category, needs requirement: Requirement? = nil,
         arguments: ArgumentCount? = nil,
         help: String, parse: @escaping (inout ArgumentReader) throws -> Command,
         track: @escaping (Command, String?, inout FileTracker, TrackingLocations) throws -> Void = { _, _, _, _ in }) {
        self.name = name
        self.usage = usage
        self.target = target
        self.category = category
        self.requirement = requirement
        self.arguments = arguments
        self.help = help
        self.parse = parse
        self.track = track
    }
}

/// xfs_io's argmin and argmax of a command (io/*.c of xfsprogs 6.1: `argmax = -1` is no limit).
public struct ArgumentCount: Equatable, Sendable, CustomStringConvertible {
    public let least: Int
    public let most: Int?

    public static func exactly(_ count: Int) -> ArgumentCount { ArgumentCount(least: count, most: count) }
    public static func between(_ least: Int, _ most: Int) -> ArgumentCount { ArgumentCount(least: least, most: most) }
    public static func atLeast(_ least: Int) -> ArgumentCount { ArgumentCount(least: least, most: nil) }

    public func admits(_ count: Int) -> Bool { count >= least && (most.map { count <= $0 } ?? true) }

    /// In xfs_io's words: `2 arguments`, `between 2 and 3 arguments`, `at least 1 arguments`.
    public var description: String {
        switch most {
        case least?: return "\(least) arguments"
        case let most?: return "between \(least) and \(most) arguments"
        case nil: return "at least \(least) arguments"
        }
    }
}

public enum CommandTable {
    public static let all: [CommandSpec] = fileCommands + filesystemCommands + faultCommands

    public static func spec(_ name: String) -> CommandSpec? { byName[name] }
    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    // MARK: commands on one file (`FILE: command …`), with xfs_io's syntax and defaults

    static let fileCommands: [CommandSpec] = [
        CommandSpec("falloc", "falloc [-c] [-i] [-k] [-p] [-u] OFF LEN", .file, .data, arguments: .atLeast(2),
                    help: "fallocate(2); as in xfs_io each option replaces the mode: -c collapse, -i insert, -k keep size, -p punch (keep size), -u unshare; none allocates",
                    parse: { args in
                        var flags: AllocateFlags = []
                        for option in try args.getopt("cikpu") {
                            switch option.flag {
                            case "c": flags = .collapseRange
                            case "i": flags = .insertRange
                            case "k": flags = .keepSize
                            case "p": flags = [.punchHole, .keepSize]
                            default: flags = .unshareRange
                            }
                        }
                        return .fallocate(flags, try args.range())
                    }, track: createsFile),
        CommandSpec("fpunch", "fpunch OFF LEN", .file, .data, arguments: .exactly(2), help: "punches a hole (FALLOC_FL_PUNCH_HOLE | KEEP_SIZE)",
                    parse: { .fallocate([.punchHole, .keepSize], try $0.range()) }, track: createsFile),
        CommandSpec("fzero", "fzero [-k] OFF LEN", .file, .data, arguments: .between(2, 3), help: "zeroes a range (FALLOC_FL_ZERO_RANGE, -k: KEEP_SIZE)",
                    parse: { args in
                        let keep = try !args.getopt("k").isEmpty
                        return .fallocate(keep ? [.zeroRange, .keepSize] : .zeroRange, try args.range())
                    }, track: createsFile),
        CommandSpec("fcollapse", "fcollapse OFF LEN", .file, .data, arguments: .exactly(2), help: "removes a range and shifts the rest down (FALLOC_FL_COLLAPSE_RANGE)",
                    parse: { .fallocate(.collapseRange, try $0.range()) }, track: createsFile),
        CommandSpec("finsert", "finsert OFF LEN", .file, .data, arguments: .exactly(2), help: "inserts a hole and shifts the rest up (FALLOC_FL_INSERT_RANGE)",
                    parse: { .fallocate(.insertRange, try $0.range()) }, track: createsFile),
        CommandSpec("funshare", "funshare OFF LEN", .file, .data, arguments: .exactly(2), help: "unshares shared extents (FALLOC_FL_UNSHARE_RANGE alone, as xfs_io)",
                    parse: { .fallocate(.unshareRange, try $0.range()) }, track: createsFile),
        CommandSpec("pwrite", "pwrite [-S SEED] [-b BSIZE] [-F|-B] [-V N] [-D] [-N] [-W] [-w] [-C] [-q] OFF LEN", .file, .data, arguments: .atLeast(2),
                    help: "writes the seed's low byte over a range, BSIZE (default 4096) a call, as xfs_io's pwrite",
                    parse: parseWrite, track: createsFile),
        CommandSpec("pread", "pread [-b BSIZE] [-F|-B] [-V N] [-C] [-q] [-v] OFF LEN", .file, .read, arguments: .atLeast(2),
                    help: "reads a range, BSIZE (default 4096) a call, as xfs_io's pread",
                    parse: parseRead, track: { _, file, files, at in try files.mustExist(file!, at.file) }),
        CommandSpec("truncate", "truncate SIZE", .file, .data, arguments: .exactly(1), help: "ftruncate(2)",
                    parse: { .truncate(try $0.size("size")) }, track: createsFile),
        CommandSpec("reflink", "reflink [-C] [-q] SRC [SRC_OFF DST_OFF LEN]", .file, .data, arguments: .atLeast(1),
                    help: "clones SRC's range into the file (FICLONERANGE; the whole file without offsets)",
                    parse: { args in
                        _ = try args.getopt("Cq")
                        let source = try args.path("source file")
                        if args.isAtEnd { return .reflink(source: source, sourceOffset: 0, offset: 0, length: nil) }
                        let sourceOffset = try args.size("source offset")
                        let offset = try args.size("destination offset")
                        return .reflink(source: source, sourceOffset: sourceOffset, offset: offset, length: try args.size("length"))
                    }, track: { command, file, files, at in
                        guard case .reflink(let source, _, _, _) = command else { return }
                        try files.mustExist(source, at.argument(0))
                        try files.create(file!, at.file)
                    }),
        CommandSpec("dedupe", "dedupe [-C] [-q] SRC SRC_OFF DST_OFF LEN", .file, .data, arguments: .atLeast(4),
                    help: "deduplicates SRC's range with the file's (FIDEDUPERANGE; different data is EBADE)",
                    parse: { args in
                        _ = try args.getopt("Cq")
                        let source = try args.path("source file")
                        let sourceOffset = try args.size("source offset")
                        let offset = try args.size("destination offset")
                        return .dedupe(source: source, sourceOffset: sourceOffset, offset: offset, length: try args.size("length"))
                    }, track: { command, file, files, at in
                        guard case .dedupe(let source, _, _, _) = command else { return }
                        try files.mustExist(source, at.argument(0))
                        try files.mustExist(file!, at.file)
                    }),
        CommandSpec("swapext", "swapext DONOR", .file, .data, arguments: .exactly(1),
                    help: "exchanges the file's extents with DONOR's, whole files of one size (XFS_IOC_SWAPEXT, xfs only), as xfs_io",
                    parse: { args in .swapext(donor: try args.path("donor file")) },
                    track: { command, file, files, at in
                        guard case .swapext(let donor) = command else { return }
                        try files.mustExist(donor, at.argument(0))
                        try files.mustExist(file!, at.file)
                    }),
        CommandSpec("sync_range", "sync_range [-a] [-b] [-w] OFF LEN", .file, .durability, arguments: .atLeast(2),
                    help: "sync_file_range(2), as xfs_io: each option replaces the mode (-a WAIT_AFTER, -b WAIT_BEFORE, -w WRITE, the default); no durability promise",
                    parse: { args in
                        var mode = SyncRangeMode.write
                        for option in try args.getopt("abw") {
                            mode = option.flag == "a" ? .waitAfter : option.flag == "b" ? .waitBefore : .write
                        }
                        return .syncRange(try args.range(), mode)
                    }, track: { _, file, files, at in try files.mustExist(file!, at.file) }),
        CommandSpec("chattr", "chattr +FLAGS|-FLAGS…", .file, .attribute,
                    help: "sets and clears inode flags as chattr(1) does: C no-COW, e extents, c compress, S sync, A noatime, d nodump, a append, i immutable",
                    parse: { args in
                        var add: InodeFlags = [], remove: InodeFlags = []
                        while let word = args.optionalWord() {
                            guard let sign = word.text.first, sign == "+" || sign == "-", word.text.count > 1 else {
                                throw args.error(at: word, "chattr: expected +FLAGS or -FLAGS, found '\(word.text)'")
                            }
                            for letter in word.text.dropFirst() {
                                guard let flag = InodeFlags.letters.first(where: { $0.0 == letter })?.1 else {
                                    throw args.error(at: word, "chattr: unknown flag '\(letter)' (known: \(String(InodeFlags.letters.map(\.0))))")
                                }
                                if sign == "+" { add.insert(flag) } else { remove.insert(flag) }
                            }
                        }
                        guard !add.isEmpty || !remove.isEmpty else { throw Diagnostic(args.endLocation, "chattr: missing +FLAGS or -FLAGS") }
                        return .chattr(add: add, remove: remove)
                    }, track: fileOrDirectoryMustExist),
        CommandSpec("xflags", "xflags +FLAGS|-FLAGS…", .file, .attribute, arguments: .atLeast(1),
                    help: "xfs_io's chattr: sets and clears FS_XFLAG bits (FS_IOC_FSSETXATTR): C CoW extent size, x DAX, e extent size, E inherited extent size, p prealloc, i immutable, a append, s sync, A noatime, d nodump, r realtime, t/P inherit, n nosymlinks, f nodefrag, S filestream",
                    parse: { args in
                        var add: XFlags = [], remove: XFlags = []
                        while let word = args.optionalWord() {
                            // xfs_io's -R, -r, -D, -d recurse through a directory; a step acts on one file.
                            if ["-R", "-r", "-D", "-d"].contains(word.text) {
                                throw args.error(at: word, "xflags: \(word.text) recurses through a directory as xfs_io's chattr does; a step changes one file")
                            }
                            guard let sign = word.text.first, sign == "+" || sign == "-", word.text.count > 1 else {
                                throw args.error(at: word, "xflags: expected +FLAGS or -FLAGS, found '\(word.text)' (xfs_io: bad chattr command, not +/-X)")
                            }
                            for letter in word.text.dropFirst() {
                                guard let flag = XFlags.letters.first(where: { $0.0 == letter })?.1 else {
                                    throw args.error(at: word, "xflags: unknown flag '\(letter)' (known: \(String(XFlags.letters.map(\.0))))")
                                }
                                if sign == "+" { add.insert(flag) } else { remove.insert(flag) }
                            }
                        }
                        return .xflags(add: add, remove: remove)
                    }, track: createsFileUnlessDirectory),
        CommandSpec("extsize", "extsize SIZE", .file, .attribute, arguments: .atLeast(0),
                    help: "sets the extent-size hint (FS_IOC_FSSETXATTR, FS_XFLAG_EXTSIZE; a directory's is inherited), as xfs_io",
                    parse: { .extentSizeHint(try hintSize(&$0), copyOnWrite: false) }, track: createsFileUnlessDirectory),
        CommandSpec("cowextsize", "cowextsize SIZE", .file, .attribute, arguments: .atLeast(0),
                    help: "sets the copy-on-write extent-size hint (FS_IOC_FSSETXATTR, FS_XFLAG_COWEXTSIZE), as xfs_io",
                    parse: { .extentSizeHint(try hintSize(&$0), copyOnWrite: true) }, track: createsFileUnlessDirectory),
        CommandSpec("expect-extents", "expect-extents [-s] N", .file, .check,
                    help: "counts the file's extents with FS_IOC_FIEMAP as filefrag does (-s: FIEMAP_FLAG_SYNC first); another count fails the test",
                    parse: { args in
                        let sync = try !args.getopt("s").isEmpty
                        return .expectExtents(try args.size("extent count"), syncFirst: sync)
                    }, track: { _, file, files, at in try files.mustExist(file!, at.file) }),
    ] + MemoryMapCommands.all + [
        CommandSpec("fsync", "fsync", .file, .durability, arguments: .exactly(0), help: "fsync(2) of the file or directory",
                    parse: { _ in .fsync }, track: fileOrDirectoryMustExist),
        CommandSpec("fdatasync", "fdatasync", .file, .durability, arguments: .exactly(0), help: "fdatasync(2) of the file or directory",
                    parse: { _ in .fdatasync }, track: fileOrDirectoryMustExist),
        CommandSpec("close", "close", .file, .descriptor, arguments: .exactly(0),
                    help: "closes the file's descriptor, as xfs_io's close (or the end of an xfs_io invocation): the file's steps share one open until then",
                    parse: { _ in .close }, track: fileOrDirectoryMustExist),
    ]

    // MARK: whole-filesystem commands

    static let filesystemCommands: [CommandSpec] = [
        CommandSpec("sync", "sync", .filesystem, .durability, help: "sync(2): everything written becomes durable",
                    parse: { _ in .sync }),
        CommandSpec("syncfs", "syncfs", .filesystem, .durability, help: "syncfs(2) of the test's filesystem",
                    parse: { _ in .syncfs }),
        CommandSpec("drop-caches", "drop-caches", .filesystem, .durability,
                    help: "syncfs, then drops clean caches (echo 3 > /proc/sys/vm/drop_caches)", parse: { _ in .dropCaches }),
        CommandSpec("remount", "remount", .filesystem, .mount, help: "a clean unmount and mount", parse: { _ in .remount },
                    track: { _, _, files, _ in files.mappings = [:] }),   // an unmount ends every mapping
        CommandSpec("power-cut", "power-cut", .filesystem, .mount, needs: .powerCut,
                    help: "loses everything no flush made durable, then mounts what the disk kept (log replay runs)",
                    parse: { _ in .powerCut }, track: { _, _, files, _ in files.mappings = [:] }),
        CommandSpec("verify", "verify [FILE…]", .filesystem, .check,
                    help: "compares files (default: every file) with what the model says they hold",
                    parse: { args in
                        var names: [String] = []
                        while !args.isAtEnd { names.append(try args.path("file")) }
                        return .verify(names)
                    }, track: { command, _, files, at in
                        guard case .verify(let names) = command else { return }
                        for (index, name) in names.enumerated() { try files.mustExist(name, at.argument(index)) }
                    }),
        CommandSpec("mkdir", "mkdir DIR", .filesystem, .data, help: "mkdir(2)",
                    parse: { .mkdir(try $0.path("directory")) }, track: { command, _, files, at in
                        guard case .mkdir(let name) = command else { return }
                        try files.parentMustExist(name, at.file)
                        files.directories.insert(name)
                    }),
        CommandSpec("rename", "rename FROM TO", .filesystem, .data, help: "rename(2) of a file or directory",
                    parse: { .rename(try $0.path("source path"), try $0.path("destination path")) },
                    track: { command, _, files, at in
                        guard case .rename(let from, let to) = command else { return }
                        try files.rename(from, to, at.file)
                    }),
        CommandSpec("link", "link FILE NEW", .filesystem, .data, help: "link(2): NEW names the same file",
                    parse: { .link(try $0.path("existing file"), try $0.path("new name")) },
                    track: { command, _, files, at in
                        guard case .link(let from, let to) = command else { return }
                        try files.mustExist(from, at.file)
                        try files.create(to, at.file)
                    }),
        CommandSpec("unlink", "unlink FILE", .filesystem, .data, help: "unlink(2)",
                    parse: { .unlink(try $0.path("file")) }, track: { command, _, files, at in
                        guard case .unlink(let name) = command else { return }
                        try files.mustExist(name, at.file)
                        files.existing.remove(name)
                    }),
    ]

    // MARK: faults of the emulated disk

    static let faultCommands: [CommandSpec] = [
        CommandSpec("inject-error", "inject-error ERRNO [range OFF LEN] [after BYTES]", .filesystem, .fault, needs: .emulatedDisk,
                    help: "the disk fails writes (in the device range, after BYTES more bytes) with ERRNO",
                    parse: { args in
                        let errnoToken = try args.word("errno")
                        guard let errno = Errno(name: errnoToken.text) else { throw args.error(at: errnoToken, "unknown errno '\(errnoToken.text)'") }
                        var range: ByteRange?
                        var after: UInt64 = 0
                        while let word = args.optionalWord() {
                            switch word.text {
                            case "range": range = try args.range()
                            case "after": after = try args.size("byte count")
                            default: throw args.error(at: word, "expected 'range OFFSET LENGTH' or 'after BYTES', found '\(word.text)'")
                            }
                        }
                        return .injectError(errno, range: range, afterBytes: after)
                    }),
        CommandSpec("lying-cache", "lying-cache on|off", .filesystem, .fault, needs: .emulatedDisk,
                    help: "flushes are acknowledged but make nothing durable",
                    parse: { args in
                        let word = try args.word("on or off")
                        guard word.text == "on" || word.text == "off" else { throw args.error(at: word, "expected 'on' or 'off'") }
                        return .lyingCache(word.text == "on")
                    }),
        CommandSpec("reorder-flushes", "reorder-flushes on|off", .filesystem, .fault, needs: .emulatedDisk,
                    help: "flushes are acknowledged but are no barrier: writes issued after one may reach the media before writes issued before it",
                    parse: { args in
                        let word = try args.word("on or off")
                        guard word.text == "on" || word.text == "off" else { throw args.error(at: word, "expected 'on' or 'off'") }
                        return .reorderFlushes(word.text == "on")
                    }),
        CommandSpec("drop-writes", "drop-writes OFF LEN [OFF LEN…]", .filesystem, .fault, needs: .emulatedDisk,
                    help: "writes to the device ranges are acknowledged but never become durable",
                    parse: { args in
                        // Several ranges in one step: a crash state's reproducer loses several writes at once.
                        var ranges = [try args.range()]
                        while !args.isAtEnd { ranges.append(try args.range()) }
                        return .dropWrites(ranges)
                    }),
        CommandSpec("clear-faults", "clear-faults", .filesystem, .fault, needs: .emulatedDisk,
                    help: "ends injected errors, dropped writes, the lying cache and reordered flushes", parse: { _ in .clearFaults }),
    ]

    // MARK: shared parsing and tracking

    static func parseWrite(_ args: inout ArgumentReader) throws -> Command {
        var options = WriteOptions()
        options.blockSize = args.units.block
        var blockSizeToken: Token?
        for option in try args.getopt("b:BCDdf:Fi:NqRs:S:uV:wWZ:") {
            switch option.flag {
            case "S":
                // strtoul, then memset(): any number is taken (what follows its digits is ignored), and only
                // its low byte is written.
                let token = option.argument!
                guard let seed = Size.leadingNumber(token.text) else {
                    throw args.error(at: token, "bad seed '\(token.text)' (a number, as strtoul reads it)")
                }
                options.pattern = UInt8(truncatingIfNeeded: seed)
            case "b":
                options.blockSize = try args.number(option.argument!, "block size")
                blockSizeToken = option.argument
            case "F": options.direction = .forward
            case "B": options.direction = .backward
            case "V": options.vectors = try vectorCount(option.argument!, &args)
            case "D": options.dataSync = true
            case "N": options.noWait = true
            case "W": options.fsyncAfter = true
            case "w": options.fdatasyncAfter = true
            case "C", "q": break   // what xfs_io prints: no other call
            case "u":
                // No memset of the seed: xfs_io writes whatever its buffer held, leftover heap data that
                // differs from run to run (the differential test against xfs_io saw heap pointers).
                throw args.error(at: option.at, "pwrite: -u leaves xfs_io's buffer unfilled, so the bytes it writes are leftover memory no model can know; drop -u (or write zeros with -S 0)")
            case "d", "s": throw args.error(at: option.at, "pwrite: -\(option.flag) belongs to -i FILE, which regress does not take (xfs_io: a usage error without -i); open flags go before the command: 'FILE: -d pwrite …'")
            default: throw args.error(at: option.at, "pwrite: -\(option.flag) is not supported by regress (random or file-sourced writes have no content the model can know)")
            }
        }
        if options.direction == .backward && options.blockSize == 0, let token = blockSizeToken {
            throw args.error(at: token, "pwrite -B with a block size of 0: xfs_io divides the offset by it and dies of SIGFPE")
        }
        return .pwrite(try args.range(), options)
    }

    static func parseRead(_ args: inout ArgumentReader) throws -> Command {
        var options = ReadOptions()
        options.blockSize = args.units.block
        var blockSizeToken: Token?
        for option in try args.getopt("b:BCFqRvV:Z:") {
            switch option.flag {
            case "b":
                options.blockSize = try args.number(option.argument!, "block size")
                blockSizeToken = option.argument
            case "F": options.direction = .forward
            case "B": options.direction = .backward
            case "V": options.vectors = try vectorCount(option.argument!, &args)
            case "C", "q", "v": break
            default: throw args.error(at: option.at, "pread: -\(option.flag) is not supported by regress")
            }
        }
        if options.direction == .backward && options.blockSize == 0, let token = blockSizeToken {
            throw args.error(at: token, "pread -B with a block size of 0: xfs_io divides the offset by it and dies of SIGFPE")
        }
        return .pread(try args.range(), options)
    }

    /// An extent-size hint: the kernel's fsx_extsize and fsx_cowextsize are 32-bit byte counts. xfs_io's -R and
    /// -D (recursion) are not taken: a step acts on one file.
    static func hintSize(_ args: inout ArgumentReader) throws -> UInt64 {
        let token = try args.word("size in bytes")
        let size = try args.number(token, "size")
        guard size <= UInt64(UInt32.max) else { throw args.error(at: token, "\(args.command.text): \(token.text) does not fit the kernel's 32-bit hint") }
        return size
    }

    private static func vectorCount(_ token: Token, _ args: inout ArgumentReader) throws -> UInt32 {
        guard let count = Size.parse(token.text), count >= 1, count <= 1024 else {
            throw args.error(at: token, "bad vector count '\(token.text)' (1 to 1024, as IOV_MAX allows)")
        }
        return UInt32(count)
    }

    static func createsFile(_ command: Command, _ file: String?, _ files: inout FileTracker, _ at: TrackingLocations) throws {
        try files.create(file!, at.file)
    }

    /// xfs_io -f makes the file; a directory made by `mkdir` is opened as it is (its hint is inherited).
    static func createsFileUnlessDirectory(_ command: Command, _ file: String?, _ files: inout FileTracker, _ at: TrackingLocations) throws {
        if !files.directories.contains(file!) { try files.create(file!, at.file) }
    }

    static func fileOrDirectoryMustExist(_ command: Command, _ file: String?, _ files: inout FileTracker, _ at: TrackingLocations) throws {
        // A directory may be fsynced too (to make the names in it durable).
        if !files.directories.contains(file!) { try files.mustExist(file!, at.file) }
    }
}

/// Where a step's file and arguments stand, for tracking errors.
public struct TrackingLocations {
    let file: SourceLocation
    let arguments: [SourceLocation]
    func argument(_ n: Int) -> SourceLocation { n < arguments.count ? arguments[n] : file }
}

/// Which files and directories exist at each step, so that `fsync nosuchfile` is caught before anything runs.
public struct FileTracker {
    var existing: Set<String> = []
    var directories: Set<String> = [""]
    /// The one mapping each file may have (`mmap` to `munmap`), by the name it was made through.
    var mappings: [String: TrackedMapping] = [:]
    public init() {}

    mutating func create(_ name: String, _ at: SourceLocation) throws {
        try parentMustExist(name, at)
        existing.insert(name)
    }

    func mustExist(_ name: String, _ at: SourceLocation) throws {
        guard existing.contains(name) else { throw Diagnostic(at, "unknown file '\(name)': no earlier step creates it") }
    }

    func parentMustExist(_ name: String, _ at: SourceLocation) throws {
        let parent = name.split(separator: "/").dropLast().joined(separator: "/")
        guard directories.contains(parent) else { throw Diagnostic(at, "directory '\(parent)' does not exist: make it with 'mkdir \(parent)'") }
    }

    mutating func rename(_ from: String, _ to: String, _ at: SourceLocation) throws {
        try parentMustExist(to, at)
        if directories.contains(from) {
            // A directory moves with everything beneath it.
            func moved(_ path: String) -> String { path == from ? to : to + path.dropFirst(from.count) }
            directories = Set(directories.map { $0 == from || $0.hasPrefix(from + "/") ? moved($0) : $0 })
            existing = Set(existing.map { $0.hasPrefix(from + "/") ? moved($0) : $0 })
            return
        }
        try mustExist(from, at)
        existing.remove(from)
        existing.insert(to)
    }
}
