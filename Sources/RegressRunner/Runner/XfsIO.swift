import CLibMount
import RegressCore

/// xfs_io's write and read loops (io/pwrite.c and io/pread.c of xfsprogs 6.1), call for call: the same
/// sizes at the same offsets, stopping where it stops. What a step loses on a failing kernel depends on how
/// its writes were cut into calls (a 16 MiB write loses its last 4 KiB page, not its last 64 KiB), so
/// "the same as xfs_io" has to mean the same calls.
enum XfsIO {
    /// Writes `options.pattern` over `range` as `xfs_io -c 'pwrite …'`; `wrote` gets each range the kernel
    /// accepted, also when a later call fails.
    static func pwrite(_ fd: FileDescriptor, range: ByteRange, options: WriteOptions, wrote: (ByteRange) -> Void) throws {
        let bufferSize = Int(min(options.blockSize, max(range.length, 1)))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferSize, 1), alignment: 4096)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: options.pattern)
        var flags: Int32 = 0
        if options.dataSync { flags |= REGRESS_RWF_DSYNC }
        if options.noWait { flags |= REGRESS_RWF_NOWAIT }

        /// One call of at most `length` bytes at `offset`: do_pwrite() (pwritev with -V N buffers).
        func call(_ offset: UInt64, _ length: UInt64) throws -> UInt64 {
            let written: Int
            if let vectors = options.vectors.map(Int.init) {
                let each = UInt64(bufferSize)
                let copies = max(1, min(vectors, Int((length + each - 1) / max(each, 1))))
                let last = Int(min(each, length - UInt64(copies - 1) * each))
                written = try fd.write(UnsafeRawBufferPointer(buffer), copies: copies, lastLength: last, at: offset, flags: flags)
            } else if flags != 0 {
                written = try fd.write(UnsafeRawBufferPointer(buffer), copies: 1, lastLength: Int(min(UInt64(bufferSize), length)), at: offset, flags: flags)
            } else {
                written = try fd.write(UnsafeRawBufferPointer(rebasing: buffer[0..<Int(min(UInt64(bufferSize), length))]), at: offset)
            }
            if written > 0 { wrote(ByteRange(offset: offset, length: UInt64(written))) }
            return UInt64(written)
        }

        let bar = options.vectors.map { UInt64(bufferSize) * UInt64($0) } ?? UInt64(min(options.blockSize, range.length))
        switch options.direction {
        case .forward:
            // write_buffer(): calls of min(count, bar) until done, a zero return or a short write.
            var offset = range.offset, count = range.length
            while true {
                let want = min(count, bar)
                let bytes = try call(offset, want)
                if bytes == 0 || bytes < want { break }
                offset += bytes
                count -= bytes
                if count == 0 { break }
            }
        case .backward:
            // write_backward(): an unaligned piece first, then buffers downwards while `count > end`
            // (xfs_io compares the remaining count with the end offset, and regress does the same).
            var offset = range.offset, count = range.length
            var end: UInt64 = 0
            if offset >= count { end = offset - count } else { count = offset }
            let buffersize = UInt64(bufferSize)
            let unaligned = buffersize == 0 ? 0 : offset % buffersize
            if unaligned != 0 {
                let want = min(count, unaligned)
                offset -= want
                let bytes = try call(offset, want)
                if bytes < want { return }
                count -= bytes
            }
            while count > end, buffersize > 0 {
                let want = min(count, buffersize)
                offset -= want
                let bytes = try call(offset, want)
                if bytes == 0 || bytes < want { break }
                count -= bytes
            }
        }
    }

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
