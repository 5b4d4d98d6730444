import CLibMount
import RegressCore

/// xfs_io's write and read loops (io/pwrite.c and io/pread.c of xfsprogs 6.1), call for call: the same
/// sizes at the same offsets, stopping where it stops. What a step loses on a failing kernel depends on how
/// its writes were cut into calls (a 16 MiB write loses its last 4 KiB page, not its last 64 KiB), so
/// "the same as xfs_io" has to mean the same calls.
enum XfsIO {
    /// Writes `options.pattern` as `xfs_io -c 'pwrite …'` does (XfsIOWriteLoop says which calls); `wrote`
    /// gets each range the kernel accepted, also when a later call fails.
    static func pwrite(_ fd: FileDescriptor, range: ByteRange, options: WriteOptions, wrote: (ByteRange) -> Void) throws {
        var loop = XfsIOWriteLoop(range: range, options: options)
        var flags: Int32 = 0
        if options.dataSync { flags |= REGRESS_RWF_DSYNC }
        if options.noWait { flags |= REGRESS_RWF_NOWAIT }
        // One buffer of the pattern, as long as the longest iovec or write asked for (xfs_io allocates the
        // whole -b; regress allocates what the calls use, so `-b 128m` on a 4k write costs 4k).
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 4096)
        buffer.initializeMemory(as: UInt8.self, repeating: options.pattern)
        defer { buffer.deallocate() }
        while let call = loop.next() {
            let longest = Int(call.lengths.max() ?? 0)
            if longest > buffer.count {
                // xfs_io's memalign() of the buffer fails the same way: the command ends with ENOMEM.
                guard longest <= XfsIO.largestBuffer else { throw Errno.ENOMEM }
                buffer.deallocate()
                buffer = .allocate(byteCount: longest, alignment: 4096)
                buffer.initializeMemory(as: UInt8.self, repeating: options.pattern)
            }
            let written: Int
            if call.vectored || flags != 0 {
                written = try fd.write(UnsafeRawBufferPointer(buffer), lengths: call.lengths.map(Int.init), at: call.offset, flags: flags)
            } else {
                written = try fd.write(UnsafeRawBufferPointer(rebasing: buffer[0..<longest]), at: call.offset)
            }
            if written > 0 { wrote(ByteRange(offset: call.offset, length: UInt64(written))) }
            loop.wrote(UInt64(written))
        }
    }

    /// More than this for one buffer is refused with ENOMEM, as a failed allocation in xfs_io.
    static let largestBuffer = 1 << 30

    /// Reads `range` as `xfs_io -c 'pread …'`: calls of the block size until done or end of file.
    static func pread(_ fd: FileDescriptor, range: ByteRange, options: ReadOptions) throws {
        let bufferSize = Int(min(options.blockSize, max(range.length, 1)))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferSize, 1), alignment: 4096)
        defer { buffer.deallocate() }
        func call(_ offset: UInt64, _ length: UInt64) throws -> UInt64 {
            if let vectors = options.vectors.map(Int.init) {
                let each = UInt64(bufferSize)
                let copies = max(1, min(vectors, Int((length + each - 1) / max(each, 1))))
                let last = Int(min(each, length - UInt64(copies - 1) * each))
                return UInt64(try fd.read(into: buffer, copies: copies, lastLength: last, at: offset))
            }
            return UInt64(try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(UInt64(bufferSize), length))]), at: offset))
        }
        let bar = options.vectors.map { UInt64(bufferSize) * UInt64($0) } ?? UInt64(bufferSize)
        switch options.direction {
        case .forward:
            var offset = range.offset, count = range.length
            while count > 0 {
                let want = min(count, bar)
                let bytes = try call(offset, want)
                if bytes == 0 || bytes < want { break }
                offset += bytes
                count -= bytes
            }
        case .backward:
            var offset = range.offset + range.length, count = range.length
            while count > 0 {
                let want = min(count, bar)
                offset -= want
                let bytes = try call(offset, want)
                if bytes < want { break }
                count -= bytes
            }
        }
    }
}
