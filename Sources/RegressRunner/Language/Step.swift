/// One line of a test's `steps:` section, parsed: what to do, to which file, and what the test expects.
public struct Step: Equatable, Sendable {
    public let command: Command
    /// The file the command acts on (`file1: fsync`), relative to the mount's root; nil for whole-fs commands.
    public let file: String?
    public let expectation: Expectation
    public let location: SourceLocation
    /// The step as written, for reports: `file1: reflink file1 8k 0 4k`.
    public let text: String
}

/// What a step's outcome must be. A step that fails with an errno not allowed, or succeeds where an errno
/// is required, makes the test `not ok`.
public enum Expectation: Equatable, Sendable {
    case success
    /// Success, or one of these errnos (the padding fill of a full fs runs into ENOSPC by design).
    case allow(Set<Errno>)
    /// One of these errnos; success is a failure of the test.
    case require(Set<Errno>)

    public func accepts(_ error: Errno?) -> Bool {
        switch (self, error) {
        case (.success, nil), (.allow, nil): return true
        case (.success, .some): return false
        case (.allow(let set), .some(let e)), (.require(let set), .some(let e)): return set.contains(e)
        case (.require, nil): return false
        }
    }

    /// "success", "success or ENOSPC", "EINVAL": for `expected …` in failure messages.
    public var description: String {
        func names(_ set: Set<Errno>) -> String { set.map(\.name).sorted().joined(separator: " or ") }
        switch self {
        case .success: return "success"
        case .allow(let set): return "success or \(names(set))"
        case .require(let set): return names(set)
        }
    }
}

/// A byte range of a file or of the emulated disk.
public struct ByteRange: Equatable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var offset: UInt64
    public var length: UInt64
    public init(offset: UInt64, length: UInt64) { self.offset = offset; self.length = length }
    public var end: UInt64 { offset + length }
    public var description: String { "\(offset)+\(length)" }
}

public enum Command: Equatable, Sendable {
    public enum AllocateMode: String, Equatable, Sendable {
        case allocate, punchHole, zeroRange, collapseRange, insertRange, unshareRange
    }

    public struct WriteOptions: Equatable, Sendable {
        public var pattern: UInt8 = 0xcd          // xfs_io's default seed
        public var blockSize: UInt64 = 65536       // xfs_io's default buffer
        public var dataSync = false                // -D: RWF_DSYNC in xfs_io; O_DSYNC here
        public var direct = false                  // -d: O_DIRECT, as xfs_io's open -d
        public var fsyncAfter = false              // -W
        public var fdatasyncAfter = false          // -w
        public init() {}
    }

    // Data commands, on `Step.file`.
    case fallocate(AllocateMode, keepSize: Bool, ByteRange)
    case pwrite(ByteRange, WriteOptions)
    case pread(ByteRange, blockSize: UInt64)
    case truncate(UInt64)
    /// FICLONERANGE from `source` into the step's file; a nil range clones the whole source.
    case reflink(source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64?)
    case dedupe(source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64)
    case fsync
    case fdatasync

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
    case dropWrites(ByteRange)
    case clearFaults

    /// Whether the step needs regress's emulated disk under the loop device.
    public var needsEmulatedDisk: Bool {
        switch self {
        case .powerCut, .injectError, .lyingCache, .dropWrites, .clearFaults: return true
        default: return false
        }
    }
}
