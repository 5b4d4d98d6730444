/// What a step promises the files when it returns success, said once for the whole project: the executor
/// applies it (with what it observed instead when the kernel did only part of the work), explore's workload
/// state predicts with it, and the crash-state reproducer asks it which steps make what durable. The switch
/// is exhaustive: a new command does not compile until its promise is written here.
public struct StepPromise: Equatable, Sendable {
    /// What the step does to the content model.
    public let changes: [ModelChange]

    /// What the promise needs beyond the step itself, known only while the test runs.
    public struct Context: Equatable, Sendable {
        /// The range the file's mapping covers (`mmap`'s), for `mwrite` and `msync` without a range.
        public var mappedRange: ByteRange?
        /// The file's size now: an `mwrite` store past the end of file is no part of the file.
        public var fileSize: UInt64?
        /// The step's file is a directory: opening it creates no file.
        public var fileIsDirectory = false
        /// The ranges a `pwrite` loop got written, when the run knows them: xfs_io's loop ends at a short
        /// write without an error (btrfs fills the last space that way), so a write that succeeded may have
        /// written less than it asked.
        public var written: [ByteRange]?
        public init(mappedRange: ByteRange? = nil, fileSize: UInt64? = nil, fileIsDirectory: Bool = false, written: [ByteRange]? = nil) {
            self.mappedRange = mappedRange
            self.fileSize = fileSize
            self.fileIsDirectory = fileIsDirectory
            self.written = written
        }
    }

    public init(_ step: Step, _ context: Context = Context()) {
        self.init(step.command, file: step.file, openFlags: step.openFlags, context)
    }

    public init(_ command: Command, file: String?, openFlags: OpenFlags = [], _ context: Context = Context()) {
        changes = StepPromise.changes(command, file: file ?? "", openFlags: openFlags, context)
    }

    /// Each step's promise, with the mapping each `mwrite` and `msync` acts on known from the steps before
    /// it (the file sizes are not known without running them: a store is taken to land whole).
    public static func promises(of steps: [Step]) -> [StepPromise] {
        var mapped: [String: ByteRange] = [:]
        return steps.map { step in
            let file = step.file ?? ""
            let promise = StepPromise(step, Context(mappedRange: mapped[file]))
            switch step.command {
            case .mmap(let range, _): mapped[file] = range
            case .munmap: mapped[file] = nil
            case .remount, .powerCut: mapped = [:]
            case .fallocate, .pwrite, .pread, .truncate, .reflink, .dedupe, .swapext, .fsync, .fdatasync, .close, .syncRange,
                 .chattr, .xflags, .mwrite, .msync, .expectExtents, .extentSizeHint, .sync, .syncfs, .verify, .dropCaches, .mkdir,
                 .rename, .link, .unlink, .injectError, .lyingCache, .reorderFlushes, .dropWrites, .clearFaults:
                break
            }
            return promise
        }
    }

    /// Whether the step makes `file` durable when it returns (nil: any file), all of it or a range.
    public func makesDurable(_ file: String?) -> Bool {
        changes.contains { change in
            switch change {
            case .makeAllDurable: return true
            case .makeDurable(let name), .makeDataDurable(let name), .makeRangeDurable(let name, _): return file == nil || name == file
            case .write(let name, _, _, let durable): return durable && (file == nil || name == file)
            case .allocate, .truncate, .clone, .create, .rename, .link, .exchange, .remove, .powerCut, .adopt: return false
            }
        }
    }

    private static func changes(_ command: Command, file: String, openFlags: OpenFlags, _ context: Context) -> [ModelChange] {
        switch command {
        case .fallocate(let mode, let range):
            return [.create(file: file), .allocate(file: file, flags: mode, range: range)]
        case .pwrite(let range, let options):
            let durable = openFlags.writesAreDurable || options.dataSync
            let written = context.written ?? [options.span(offset: range.offset, length: range.length)]
            var changes: [ModelChange] = [.create(file: file)]
            changes += written.map { .write(file: file, byte: options.pattern, range: $0, durable: durable) }
            if options.fsyncAfter { changes.append(.makeDurable(file: file)) }
            else if options.fdatasyncAfter { changes.append(.makeDataDurable(file: file)) }
            return changes
        case .truncate(let size):
            return [.create(file: file), .truncate(file: file, size: size)]
        case .reflink(let source, let sourceOffset, let offset, let length):
            return [.create(file: file), .clone(file: file, source: source, sourceOffset: sourceOffset, offset: offset, length: length)]
        case .swapext(let donor):
            return [.exchange(file: file, with: donor)]
        case .mmap:
            return [.create(file: file)]
        case .mwrite(let range, let options):
            // The stores land in the page cache as a pwrite's bytes do; the rest of the file's last page is
            // no part of it. The open flags do not apply: a store is no write(2), so O_SYNC makes nothing durable.
            guard let span = range ?? context.mappedRange else { return [] }
            let inFile = span.span.clamped(to: 0..<(context.fileSize ?? span.end))
            guard !inFile.isEmpty else { return [] }
            return [.write(file: file, byte: options.pattern,
                           range: ByteRange(offset: inFile.lowerBound, length: UInt64(inFile.count)), durable: false)]
        case .msync(let range, let flags):
            // Linux runs MS_SYNC as vfs_fsync_range(file, start, end, datasync=1) over the range's pages
            // (mm/msync.c): a data sync of that range, rounded up to whole pages as msync rounds its length.
            // MS_ASYNC is a no-op since 2.6.19 (msync(2), NOTES); MS_INVALIDATE makes nothing durable.
            guard flags.contains(.sync), let span = range ?? context.mappedRange else { return [] }
            let page = MemoryMapCommands.pageSize
            return [.makeRangeDurable(file: file, range: ByteRange(offset: span.offset, length: (span.length + page - 1) / page * page))]
        case .extentSizeHint, .xflags:
            // xfs_io -f opens (and makes) the file; its attributes change no byte it reads.
            return context.fileIsDirectory ? [] : [.create(file: file)]
        case .fsync:
            return [.makeDurable(file: file)]
        case .fdatasync:
            return [.makeDataDurable(file: file)]
        case .sync, .syncfs, .remount:
            return [.makeAllDurable]
        case .powerCut:
            return [.powerCut]
        case .rename(let from, let to):
            return [.rename(from: from, to: to)]
        case .link(let from, let to):
            return [.link(from: from, to: to)]
        case .unlink(let name):
            return [.remove(file: name)]
        case .pread, .dedupe, .syncRange, .chattr, .munmap, .expectExtents, .close, .verify, .mkdir:
            // Reads, checks, attributes and descriptors change no byte a file reads; deduplication never
            // changes what a file reads; the model knows files, not directories.
            return []
        case .dropCaches:
            // Only clean pages and inodes are dropped: nothing is written, so nothing becomes durable.
            return []
        case .injectError, .lyingCache, .reorderFlushes, .dropWrites, .clearFaults:
            return []
        }
    }
}
