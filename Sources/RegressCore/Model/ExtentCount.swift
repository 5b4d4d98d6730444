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

/// How `expect-extents` counts a file's extents: exactly as filefrag(8) counts them (e2fsprogs 1.47,
/// misc/filefrag.c, filefrag_fiemap), so that a reproducer's `filefrag` line and a test agree.
///
/// filefrag counts fragments, not FIEMAP records. The first record is one extent. Each later record starts
/// a new one unless it lies on disk where the record before it leads: right after it (FIEMAP splits one
/// disk extent into several records: btrfs at 128 MiB, ext4 at 32768 blocks), or exactly as far after it
/// as it is in the file (a hole punched into an extent leaves the rest in place: still one extent). A
/// record at file offset 0 never starts a new one. Delayed allocations (no disk address yet, reported at
/// physical 0) count one each unless they happen to line up.
public enum ExtentCount {
    public static func filefrag(_ extents: [ReportedExtent]) -> Int {
        var count = 0
        var last = ReportedExtent(logical: 0, physical: 0, length: 0)
        for extent in extents {
            // filefrag's unsigned arithmetic, wrap-around included.
            let dense = last.physical &+ last.length
            let inPlace = last.physical &+ (extent.logical &- last.logical)
            if extent.logical != 0 && extent.physical != inPlace && extent.physical != dense {
                count += 1
            } else if count == 0 {
                count = 1
            }
            last = extent
        }
        return count
    }
}
