/// The block and sector sizes xfs_io reads its numbers in: the `b` and `s` suffixes of cvtnum, and the
/// default buffer of `pwrite` and `pread`. xfs_io takes them from XFS_IOC_FSGEOMETRY when its file is on
/// XFS, and uses 4096 and 512 on every other filesystem (init_cvtnum of xfsprogs 6.1), so on
/// `mkfs.xfs -b size=1024` a `pwrite 0 5120` is five calls of 1 KiB.
public struct BlockUnits: Equatable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let block: UInt64
    public let sector: UInt64

    public init(block: UInt64, sector: UInt64) {
        self.block = block
        self.sector = sector
    }

    /// What xfs_io uses off XFS (a "foreign" file), and what the parser reads a test with before any
    /// filesystem exists.
    public static let standard = BlockUnits(block: 4096, sector: 512)

    public var description: String { "\(block)-byte blocks, \(sector)-byte sectors" }
}
