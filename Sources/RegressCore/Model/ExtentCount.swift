/// One extent as FS_IOC_FIEMAP reports it, in bytes.
public struct ReportedExtent: Equatable, Sendable, CustomStringConvertible {
    public let logical: UInt64
    public let physical: UInt64
    public let length: UInt64
    public init(logical: UInt64, physical: UInt64, length: UInt64) {
        self.logical = logical
        self.physical = physical
        self.length = length
    }
    public var description: String { "\(logical)+\(length) at \(physical)" }
}

/// How `expect-extents` counts a file's extents: as filefrag(8) does (e2fsprogs misc/filefrag.c,
/// filefrag_fiemap), so that a reproducer's `filefrag` line and a test agree. FIEMAP may report one on-disk
/// extent in several pieces (btrfs splits at 128 MiB, xfs at its record size, ext4 at 32768 blocks): a piece
/// that starts on disk where the one before it ended is the same extent. The first extent counts as one; every
/// later piece that is not physically contiguous with the one before it counts as one more. Like filefrag,
/// only the disk addresses are compared (a hole between two disk-contiguous pieces does not split them), in
/// filesystem blocks of `blockSize` (4096 for every filesystem regress makes).
public enum ExtentCount {
    public static func filefrag(_ extents: [ReportedExtent], blockSize: UInt64 = 4096) -> Int {
        var count = 0
        var expected: UInt64 = 0
        for extent in extents {
            let logicalBlock = extent.logical / blockSize, physicalBlock = extent.physical / blockSize
            if logicalBlock != 0 && physicalBlock != expected {
                count += 1
            } else if count == 0 {
                count = 1
            }
            expected = physicalBlock + extent.length / blockSize
        }
        return count
    }
}
