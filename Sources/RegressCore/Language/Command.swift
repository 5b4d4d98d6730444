/// What a step does, parsed: the payload of one command of the table (`CommandTable`). The executor in
/// RegressRunner switches over these cases exhaustively, so a new case cannot be left unexecuted.
/// Several commands can parse to one case (`fpunch` and `falloc -p` are both a punching fallocate).
public enum Command: Equatable, Codable, Sendable {
    // Data commands, on `Step.file`.
    case fallocate(AllocateFlags, ByteRange)
    case pwrite(ByteRange, WriteOptions)
    case pread(ByteRange, ReadOptions)
    case truncate(UInt64)
    /// FICLONERANGE from `source` into the step's file; a nil range clones the whole source (FICLONE).
    case reflink(source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64?)
    case dedupe(source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64)
    /// XFS_IOC_SWAPEXT with `donor`: the two files exchange their contents.
    case swapext(donor: String)
    case fsync
    case fdatasync
    /// close(2) of the descriptor the file's steps share (xfs_io's `close`); the next step opens it again.
    case close
    /// sync_file_range(2) with xfs_io's modes: writeback only, no durability promise (no metadata).
    case syncRange(ByteRange, SyncRangeMode)
    /// chattr(1)'s inode flags (FS_IOC_SETFLAGS): set `add`, clear `remove`.
    case chattr(add: InodeFlags, remove: InodeFlags)
    /// xfs_io's own `chattr`: FS_IOC_FSGETXATTR, then FS_IOC_FSSETXATTR with the FS_XFLAG_* bits `add` set
    /// and `remove` cleared (its `+C` is the CoW extent-size flag, not chattr(1)'s no-COW).
    case xflags(add: XFlags, remove: XFlags)
    /// xfs_io's `mmap`: maps a range of the file (MAP_SHARED) for the `mwrite`/`msync`/`munmap` that follow.
    case mmap(ByteRange, MapOptions)
    /// xfs_io's `mwrite`: stores the seed's low byte over the range through the mapping (nil: all of it).
    case mwrite(ByteRange?, MapWriteOptions)
    /// xfs_io's `msync`: msync(2) of a range of the mapping (nil: the whole mapping).
    case msync(ByteRange?, MapSyncFlags)
    case munmap
    /// Counts the file's extents through FS_IOC_FIEMAP as filefrag(8) counts them; a different count fails.
    case expectExtents(UInt64, syncFirst: Bool)
    /// FS_IOC_FSSETXATTR of the extent-size hint (FS_XFLAG_EXTSIZE) or the CoW extent-size hint
    /// (FS_XFLAG_COWEXTSIZE), in bytes, as xfs_io's `extsize N` / `cowextsize N`.
    case extentSizeHint(UInt64, copyOnWrite: Bool)

    // Whole-filesystem commands.
    case sync
    case syncfs
    case remount
    case powerCut
    case verify([String])
    /// Evicts clean page-cache pages and inodes machine-wide (fstests' `echo 3 > drop_caches`), so the
    /// next read comes from the disk.
    case dropCaches
    case mkdir(String)
    case rename(String, String)
    /// A hard link: the second path names the same file as the first.
    case link(String, String)
    case unlink(String)

    // Faults of the emulated disk.
    case injectError(Errno, range: ByteRange?, afterBytes: UInt64)
    case lyingCache(Bool)
    /// Flushes are acknowledged but are no barrier: later writes may reach the media before earlier ones.
    case reorderFlushes(Bool)
    /// One or more device ranges (a crash state's reproducer loses several writes of an epoch at once).
    case dropWrites([ByteRange])
    case clearFaults
}

/// fallocate(2)'s mode bits, named as the test language and xfs_io name them. RegressRunner maps them to
/// the kernel's FALLOC_FL_* values; this layer only needs to know what each promises to a file's content.
public struct AllocateFlags: OptionSet, Hashable, Codable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let keepSize = AllocateFlags(rawValue: 1 << 0)
    public static let punchHole = AllocateFlags(rawValue: 1 << 1)
    public static let zeroRange = AllocateFlags(rawValue: 1 << 2)
    public static let collapseRange = AllocateFlags(rawValue: 1 << 3)
    public static let insertRange = AllocateFlags(rawValue: 1 << 4)
    public static let unshareRange = AllocateFlags(rawValue: 1 << 5)
}

/// xfs_io pwrite's options that change which calls are made; the defaults are xfs_io's.
public struct WriteOptions: Equatable, Hashable, Codable, Sendable {
    public enum Direction: String, Codable, Sendable { case forward, backward }
    /// `-S`: xfs_io fills its buffer with memset(), so only the seed's low byte is written.
    public var pattern: UInt8 = 0xcd
    /// `-b`: bytes a call (xfs_io's default is the filesystem block: the parser sets `BlockUnits.block`).
    public var blockSize: UInt64 = BlockUnits.standard.block
    /// `-F` / `-B`: forward from OFF, or backward from OFF down to OFF-LEN.
    public var direction = Direction.forward
    /// `-V N`: pwritev with N buffers of `blockSize` each.
    public var vectors: UInt32?
    /// `-D`: RWF_DSYNC on each call (see tests.d/README.md for why regress follows xfs_io's intent here).
    public var dataSync = false
    /// `-N`: RWF_NOWAIT on each call.
    public var noWait = false
    /// `-W`: fsync after the writes; `-w`: fdatasync after them.
    public var fsyncAfter = false
    public var fdatasyncAfter = false
    public init() {}

    /// The byte range the writes cover: backward writes end at OFF.
    public func span(offset: UInt64, length: UInt64) -> ByteRange {
        switch direction {
        case .forward: return ByteRange(offset: offset, length: length)
        case .backward:
            let start = offset >= length ? offset - length : 0
            return ByteRange(offset: start, length: offset - start)
        }
    }
}

/// xfs_io pread's options; `-v` (dump) and `-q` change only what xfs_io prints.
public struct ReadOptions: Equatable, Hashable, Codable, Sendable {
    /// `-b`, as pwrite's: the filesystem block unless given.
    public var blockSize: UInt64 = BlockUnits.standard.block
    public var direction = WriteOptions.Direction.forward
    public var vectors: UInt32?
    public init() {}
}

/// xfs_io's `sync_range` options: each replaces the mode; none means SYNC_FILE_RANGE_WRITE.
public enum SyncRangeMode: String, Codable, Sendable { case write, waitBefore, waitAfter }

/// xfs_io mmap's protection options (`-r`, `-w`, `-x`; none means all three) and `-S` (MAP_SYNC).
public struct MapOptions: Equatable, Hashable, Codable, Sendable {
    public var read = false, write = false, execute = false
    /// `-S`: MAP_SYNC | MAP_SHARED_VALIDATE, which only a DAX filesystem accepts (EOPNOTSUPP elsewhere).
    public var synchronous = false
    public init() {}
    /// xfs_io maps with every protection when none is given.
    private var all: Bool { !(read || write || execute) }
    public var readable: Bool { read || all }
    public var writable: Bool { write || all }
    public var executable: Bool { execute || all }
}

/// xfs_io mwrite's options: the byte stored (default 'X', strtol's low byte) and `-r` (stores from the end).
public struct MapWriteOptions: Equatable, Hashable, Codable, Sendable {
    public var pattern: UInt8 = UInt8(ascii: "X")
    public var backward = false
    public init() {}
}

/// xfs_io msync's flags, OR-ed as it ORs them: `-a` MS_ASYNC, `-i` MS_INVALIDATE, `-s` MS_SYNC.
public struct MapSyncFlags: OptionSet, Hashable, Codable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let async = MapSyncFlags(rawValue: 1)
    public static let invalidate = MapSyncFlags(rawValue: 2)
    public static let sync = MapSyncFlags(rawValue: 4)
}

/// chattr(1)'s letters for the inode flags a reproducer sets (FS_IOC_SETFLAGS).
public struct InodeFlags: OptionSet, Hashable, Codable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The letters and the kernel's FS_*_FL values, which are Linux ABI (include/uapi/linux/fs.h).
    public static let letters: [(Character, InodeFlags)] = [
        ("C", InodeFlags(rawValue: 0x0080_0000)),  // FS_NOCOW_FL: no copy on write (btrfs)
        ("e", InodeFlags(rawValue: 0x0008_0000)),  // FS_EXTENT_FL: extent-mapped (ext4)
        ("c", InodeFlags(rawValue: 0x0000_0004)),  // FS_COMPR_FL
        ("S", InodeFlags(rawValue: 0x0000_0008)),  // FS_SYNC_FL
        ("A", InodeFlags(rawValue: 0x0000_0080)),  // FS_NOATIME_FL
        ("d", InodeFlags(rawValue: 0x0000_0040)),  // FS_NODUMP_FL
        ("a", InodeFlags(rawValue: 0x0000_0020)),  // FS_APPEND_FL
        ("i", InodeFlags(rawValue: 0x0000_0010)),  // FS_IMMUTABLE_FL
    ]
}

/// xfs_io chattr's letters for the FS_XFLAG_* bits of struct fsxattr (include/uapi/linux/fs.h, Linux ABI),
/// as io/attr.c of xfsprogs 6.1 names them.
public struct XFlags: OptionSet, Hashable, Codable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let letters: [(Character, XFlags)] = [
        ("r", XFlags(rawValue: 0x0000_0001)),  // FS_XFLAG_REALTIME
        ("p", XFlags(rawValue: 0x0000_0002)),  // FS_XFLAG_PREALLOC
        ("i", XFlags(rawValue: 0x0000_0008)),  // FS_XFLAG_IMMUTABLE
        ("a", XFlags(rawValue: 0x0000_0010)),  // FS_XFLAG_APPEND
        ("s", XFlags(rawValue: 0x0000_0020)),  // FS_XFLAG_SYNC
        ("A", XFlags(rawValue: 0x0000_0040)),  // FS_XFLAG_NOATIME
        ("d", XFlags(rawValue: 0x0000_0080)),  // FS_XFLAG_NODUMP
        ("t", XFlags(rawValue: 0x0000_0100)),  // FS_XFLAG_RTINHERIT
        ("P", XFlags(rawValue: 0x0000_0200)),  // FS_XFLAG_PROJINHERIT
        ("n", XFlags(rawValue: 0x0000_0400)),  // FS_XFLAG_NOSYMLINKS
        ("e", XFlags(rawValue: 0x0000_0800)),  // FS_XFLAG_EXTSIZE
        ("E", XFlags(rawValue: 0x0000_1000)),  // FS_XFLAG_EXTSZINHERIT
        ("f", XFlags(rawValue: 0x0000_2000)),  // FS_XFLAG_NODEFRAG
        ("S", XFlags(rawValue: 0x0000_4000)),  // FS_XFLAG_FILESTREAM
        ("x", XFlags(rawValue: 0x0000_8000)),  // FS_XFLAG_DAX
        ("C", XFlags(rawValue: 0x0001_0000)),  // FS_XFLAG_COWEXTSIZE
    ]
}
