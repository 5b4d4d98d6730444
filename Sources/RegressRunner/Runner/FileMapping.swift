import CLibMount
import RegressCore

/// One file's shared memory mapping, made by `mmap` and used by the `mwrite`, `msync` and `munmap` steps
/// after it, as xfs_io keeps its mappings between `-c` commands. The mapping holds its own reference to the
/// file, so it outlives a `close` of the file's descriptor, as xfs_io's do.
final class FileMapping {
    let address: UnsafeMutableRawPointer
    /// The file range it maps.
    let range: ByteRange

    /// mmap(2) MAP_SHARED of `range` of `fd`.
    init(_ fd: FileDescriptor, range: ByteRange, options: MapOptions) throws {
        guard let address = regress_mmap_shared(fd.rawValue, range.offset, range.length, options.readable ? 1 : 0,
                                                 options.writable ? 1 : 0, options.executable ? 1 : 0,
                                                 options.synchronous ? 1 : 0) else { throw Errno.current }
        self.address = address
        self.range = range
    }

    /// Where file offset `offset` sits in memory (the parser checked it lies in the mapping).
    private func pointer(_ offset: UInt64) -> UnsafeMutableRawPointer { address + Int(offset - range.offset) }

    /// Stores `byte` over `span` as xfs_io's mwrite loop does. Returns the file range the stores covered;
    /// throws the fault (as EFAULT, with the range stored before it) when a page could not be written.
    func store(_ byte: UInt8, over span: ByteRange, backward: Bool) -> (stored: ByteRange, faulted: Bool) {
        var count: UInt64 = 0
        let faulted = regress_store_bytes(pointer(span.offset), span.length, byte, backward ? 1 : 0, &count) != 0
        let stored = backward ? ByteRange(offset: span.end - count, length: count) : ByteRange(offset: span.offset, length: count)
        return (stored, faulted)
    }

    /// msync(2) of `span` with xfs_io's flags.
    func sync(_ span: ByteRange, _ flags: MapSyncFlags) throws {
        try retryingOnInterrupt {
            regress_msync(pointer(span.offset), span.length, flags.contains(.async) ? 1 : 0,
                          flags.contains(.invalidate) ? 1 : 0, flags.contains(.sync) ? 1 : 0)
        }
    }

    func unmap() throws {
        try retryingOnInterrupt { regress_munmap(address, range.length) }
    }
}
