#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// A thin typed wrapper over an open file descriptor, in the shape of swift-system's `FileDescriptor`:
/// every call is one syscall, EINTR is retried, failures are thrown as `Errno`.
/// The owner closes it; this type does not close on deinit, because a step may keep several views of one fd.
public struct FileDescriptor: Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public struct OpenFlags: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readOnly = OpenFlags(rawValue: O_RDONLY)
        public static let writeOnly = OpenFlags(rawValue: O_WRONLY)
        public static let readWrite = OpenFlags(rawValue: O_RDWR)
        public static let create = OpenFlags(rawValue: O_CREAT)
        public static let exclusive = OpenFlags(rawValue: O_EXCL)
        public static let truncate = OpenFlags(rawValue: O_TRUNC)
        public static let direct = OpenFlags(rawValue: regress_o_direct)
        public static let dataSync = OpenFlags(rawValue: O_DSYNC)
        public static let sync = OpenFlags(rawValue: O_SYNC)
        public static let directory = OpenFlags(rawValue: O_DIRECTORY)
        public static let noFollow = OpenFlags(rawValue: O_NOFOLLOW)
        public static let nonBlocking = OpenFlags(rawValue: O_NONBLOCK)
        public static let closeOnExec = OpenFlags(rawValue: O_CLOEXEC)
    }

    /// open(2). Always close-on-exec: no descriptor of ours may leak into mkfs or fsck.
    public static func open(_ path: String, _ flags: OpenFlags, mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = try retryingOnInterrupt { Glibc.open(path, flags.union(.closeOnExec).rawValue, mode) }
        return FileDescriptor(rawValue: fd)
    }

    /// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: `path` cannot escape `directory`, whether
    /// through "..", an absolute path or a symlink. This is how every test file name is opened.
    public static func open(beneath directory: FileDescriptor, _ path: String, _ flags: OpenFlags,
                            mode: mode_t = 0o644) throws -> FileDescriptor {
        let resolve = REGRESS_RESOLVE_BENEATH | REGRESS_RESOLVE_NO_MAGICLINKS
        let mode = flags.contains(.create) ? mode : 0   // openat2 rejects a mode without O_CREAT
        let fd = try retryingOnInterrupt {
            regress_openat2(directory.rawValue, path, UInt64(UInt32(bitPattern: flags.union(.closeOnExec).rawValue)),
                            UInt64(mode), resolve)
        }
        return FileDescriptor(rawValue: fd)
    }

    public func close() { _ = Glibc.close(rawValue) }

    /// pwrite(2): may write less than asked; the caller decides whether to go on.
    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws -> Int {
        try retryingOnInterrupt { pwrite(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// pread(2): returns 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        try retryingOnInterrupt { pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// pwritev(2) of `buffer` through one iovec a length (each at most the buffer's size); pwritev2(2)
    /// when there are RWF_* flags, as xfs_io's do_pwritev chooses.
    public func write(_ buffer: UnsafeRawBufferPointer, lengths: [Int], at offset: UInt64, flags: Int32) throws -> Int {
        precondition(lengths.allSatisfy { $0 <= buffer.count })
        return try lengths.withUnsafeBufferPointer { lengths in
            try retryingOnInterrupt { regress_pwritev_lengths(rawValue, buffer.baseAddress, lengths.baseAddress, Int32(lengths.count), Int64(offset), flags) }
        }
    }

    /// preadv(2) into `buffer` through one iovec a length (each at most the buffer's size), as xfs_io's `pread -V`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, lengths: [Int], at offset: UInt64) throws -> Int {
        precondition(lengths.allSatisfy { $0 <= buffer.count })
        return try lengths.withUnsafeBufferPointer { lengths in
            try retryingOnInterrupt { regress_preadv_lengths(rawValue, buffer.baseAddress, lengths.baseAddress, Int32(lengths.count), Int64(offset)) }
        }
    }

    public enum Whence: Sendable { case set, end }

    /// lseek(2) to `offset` from the start or the end; the new offset.
    @discardableResult
    public func seek(_ offset: Int64, from whence: Whence) throws -> UInt64 {
        let result = lseek(rawValue, off_t(offset), whence == .set ? SEEK_SET : SEEK_END)
        if result < 0 { throw Errno.current }
        return UInt64(result)
    }

    /// sync_file_range(2): 0 SYNC_FILE_RANGE_WRITE, 1 WAIT_BEFORE, 2 WAIT_AFTER.
    public func syncRange(offset: UInt64, length: UInt64, mode: Int32) throws {
        try retryingOnInterrupt { regress_sync_file_range(rawValue, Int64(offset), Int64(length), mode) }
    }

    /// FS_IOC_FSGETXATTR, then FS_IOC_FSSETXATTR with the FS_XFLAG bits `add` set and `remove` cleared
    /// (xfs_io's chattr).
    public func changeXFlags(add: UInt32, remove: UInt32) throws {
        try retryingOnInterrupt { regress_fsxattr_change_xflags(rawValue, add, remove) }
    }

    /// The block units xfs_io reads its numbers in on this file's filesystem: XFS's geometry, or the
    /// standard 4096 and 512 elsewhere.
    public func xfsIOUnits() throws -> BlockUnits {
        var block: UInt32 = 0, sector: UInt32 = 0
        try retryingOnInterrupt { regress_xfs_io_units(rawValue, &block, &sector) }
        return BlockUnits(block: UInt64(block), sector: UInt64(sector))
    }

    /// FS_IOC_GETFLAGS, then FS_IOC_SETFLAGS with `add` set and `remove` cleared (chattr(1)).
    public func changeInodeFlags(add: UInt32, remove: UInt32) throws {
        var flags: UInt32 = 0
        try retryingOnInterrupt { regress_get_inode_flags(rawValue, &flags) }
        try retryingOnInterrupt { regress_set_inode_flags(rawValue, (flags | add) & ~remove) }
    }

    public func fsync() throws { try retryingOnInterrupt { Glibc.fsync(rawValue) } }
    public func fdatasync() throws { try retryingOnInterrupt { Glibc.fdatasync(rawValue) } }
    public func syncfs() throws { try retryingOnInterrupt { regress_syncfs(rawValue) } }
    public func truncate(to size: UInt64) throws { try retryingOnInterrupt { ftruncate(rawValue, off_t(size)) } }

    public func allocate(mode: Int32, offset: UInt64, length: UInt64) throws {
        try retryingOnInterrupt { regress_fallocate(rawValue, mode, Int64(offset), Int64(length)) }
    }

    /// FICLONE: all of `source` into this file.
    public func clone(from source: FileDescriptor) throws {
        try retryingOnInterrupt { regress_clone(rawValue, source.rawValue) }
    }

    /// FICLONERANGE into this file from `source`. A zero length means "to the source's end of file".
    public func cloneRange(from source: FileDescriptor, sourceOffset: UInt64, length: UInt64, at offset: UInt64) throws {
        try retryingOnInterrupt { regress_clone_range(rawValue, source.rawValue, sourceOffset, length, offset) }
    }

    public enum DedupeResult: Equatable, Sendable { case same(bytes: UInt64), differs }

    /// FIDEDUPERANGE from this file to one destination. A per-range error status is thrown as that errno.
    public func dedupeRange(offset: UInt64, length: UInt64, into destination: FileDescriptor,
                            at destinationOffset: UInt64) throws -> DedupeResult {
        var status: Int32 = 0
        var bytes: UInt64 = 0
        try retryingOnInterrupt {
            regress_dedupe_range(rawValue, offset, length, destination.rawValue, destinationOffset, &status, &bytes)
        }
        if status == REGRESS_DEDUPE_RANGE_DIFFERS { return .differs }
        if status < 0 { throw Errno(-status) }
        return .same(bytes: bytes)
    }

    public func size() throws -> UInt64 {
        var info = stat()
        try retryingOnInterrupt { fstat(rawValue, &info) }
        return UInt64(info.st_size)
    }

    /// The next data range at or after `offset` (lseek SEEK_DATA, then SEEK_HOLE); nil when none follows.
    /// A filesystem without SEEK_DATA support reports the whole file as data, which is still correct.
    public func nextData(from offset: UInt64) throws -> Range<UInt64>? {
        let start = regress_seek_data(rawValue, Int64(offset))
        if start < 0 {
            if Errno.current == .ENXIO { return nil }
            throw Errno.current
        }
        let end = try retryingOnInterrupt { regress_seek_hole(rawValue, start) }
        return UInt64(start)..<UInt64(end)
    }

    /// BLKGETSIZE64 on a block device.
    public func blockDeviceSize() throws -> UInt64 {
        var size: UInt64 = 0
        try retryingOnInterrupt { regress_block_size64(rawValue, &size) }
        return size
    }
}

/// Path-level calls that take no descriptor, confined beneath a directory where the test names the path.
public enum FileSystemCalls {
    public static func sync() { Glibc.sync() }

    /// The names in a directory, without "." and ".."; empty if it cannot be read (sysfs and /proc
    /// directories come and go).
    public static func directoryEntries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func mkdir(beneath directory: FileDescriptor, _ path: String) throws {
        try ensureBeneath(directory, path)
        try retryingOnInterrupt { mkdirat(directory.rawValue, path, 0o755) }
    }

    public static func rename(beneath directory: FileDescriptor, _ from: String, _ to: String) throws {
        try ensureBeneath(directory, from)
        try ensureBeneath(directory, to)
        try retryingOnInterrupt { renameat(directory.rawValue, from, directory.rawValue, to) }
    }

    /// linkat(2) without following a symlink at `from`.
    public static func link(beneath directory: FileDescriptor, _ from: String, _ to: String) throws {
        try ensureBeneath(directory, from)
        try ensureBeneath(directory, to)
        try retryingOnInterrupt { linkat(directory.rawValue, from, directory.rawValue, to, 0) }
    }

    public static func unlink(beneath directory: FileDescriptor, _ path: String, directoryEntry: Bool = false) throws {
        try ensureBeneath(directory, path)
        try retryingOnInterrupt { unlinkat(directory.rawValue, path, directoryEntry ? AT_REMOVEDIR : 0) }
    }

    /// The parent directory of `path` must resolve beneath `directory` (openat2 checks it, symlinks included);
    /// the last component is then used relative to `directory`, and may not be "..".
    private static func ensureBeneath(_ directory: FileDescriptor, _ path: String) throws {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.hasPrefix("/") || components.contains("..") { throw Errno.EXDEV }
        let parent = components.dropLast().joined(separator: "/")
        let fd = try FileDescriptor.open(beneath: directory, parent.isEmpty ? "." : parent, [.readOnly, .directory])
        fd.close()
    }
}

extension FileDescriptor: ReadableFile {}
