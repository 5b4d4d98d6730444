import CLibMount
import RegressCore

/// The calls that read or steer where a file's blocks go: FS_IOC_FIEMAP and the extent-size hints.
extension FileDescriptor {
    /// Every extent FS_IOC_FIEMAP reports, from the start of the file to its last extent, asked in batches
    /// as filefrag asks (each call starts where the last extent of the one before ended).
    public func extents(syncFirst: Bool) throws -> [ReportedExtent] {
        let capacity: UInt32 = 256
        var batch = [regress_extent](repeating: regress_extent(), count: Int(capacity))
        var found: [ReportedExtent] = []
        var start: UInt64 = 0
        while true {
            var mapped: UInt32 = 0
            try retryingOnInterrupt { regress_fiemap(rawValue, start, syncFirst ? 1 : 0, &batch, capacity, &mapped) }
            if mapped == 0 { return found }
            let pieces = batch.prefix(Int(mapped))
            found += pieces.map { ReportedExtent(logical: $0.logical, physical: $0.physical, length: $0.length) }
            if pieces.contains(where: { $0.flags & REGRESS_FIEMAP_EXTENT_LAST != 0 }) { return found }
            start = pieces.last!.logical + pieces.last!.length
        }
    }

    /// FS_IOC_FSSETXATTR of the extent-size hint (FS_XFLAG_EXTSIZE, or EXTSZINHERIT on a directory) or of the
    /// CoW extent-size hint (FS_XFLAG_COWEXTSIZE), after FS_IOC_FSGETXATTR, as xfs_io's extsize/cowextsize.
    public func setExtentSizeHint(_ bytes: UInt32, copyOnWrite: Bool) throws {
        try retryingOnInterrupt { regress_fsxattr_set_hint(rawValue, copyOnWrite ? 1 : 0, bytes) }
    }

    /// XFS_IOC_SWAPEXT: this file and `donor` exchange their extents (and so their contents), as xfs_io's
    /// swapext, which xfs_fsr defragments with. Both whole files, of one size.
    public func swapExtents(with donor: FileDescriptor) throws {
        try retryingOnInterrupt { regress_xfs_swapext(rawValue, donor.rawValue) }
    }

    public func extentSizeHint(copyOnWrite: Bool) throws -> UInt32 {
        var bytes: UInt32 = 0
        try retryingOnInterrupt { regress_fsxattr_get_hint(rawValue, copyOnWrite ? 1 : 0, &bytes) }
        return bytes
    }
}
