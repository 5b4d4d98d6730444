#if canImport(Glibc)
import Glibc
#endif
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
        let buffer = try PatternBuffer(size: options.blockSize, pattern: options.pattern)
        while let call = loop.next() {
            let lengths = call.lengths.map(Int.init)
            let memory = buffer.filled(upTo: lengths.max() ?? 0)
            let written: Int
            if call.vectored || flags != 0 {
                // xfs_io passes RWF flags only with -V; regress passes them always (tests.d/README.md says why).
                written = try fd.write(UnsafeRawBufferPointer(memory), lengths: lengths, at: call.offset, flags: flags)
            } else {
                written = try fd.write(UnsafeRawBufferPointer(rebasing: memory[0..<lengths[0]]), at: call.offset)
            }
            if written > 0 { wrote(ByteRange(offset: call.offset, length: UInt64(written))) }
            loop.wrote(UInt64(written))
        }
    }

    /// Reads `range` as `xfs_io -c 'pread …'` (io/pread.c: read_forward, read_backward, do_pread,
    /// do_preadv): calls of the buffer's size, or with `-V N` preadv of N iovecs of the block size, the one
    /// holding the count's end trimmed and all N passed; backward reading first asks lseek where the file
    /// ends and starts there if the offset lies beyond it, and reads only while the count left exceeds the
    /// offset it stops at, as read_backward's `cnt > end` does.
    static func pread(_ fd: FileDescriptor, range: ByteRange, options: ReadOptions) throws {
        let blockSize = options.blockSize
        let vectors = options.vectors.map(Int.init)
        let bufferSize = blockSize * UInt64(vectors ?? 1)
        let buffer = try PatternBuffer(size: blockSize, pattern: 0xab)
        /// do_pread(): `count` is what remains; a plain pread asks min(count, buffer).
        func call(_ offset: UInt64, _ count: UInt64) throws -> UInt64 {
            if let vectors {
                let lengths = XfsIOWriteLoop.iovecLengths(count: Int64(clamping: count), blockSize: Int64(blockSize), vectors: vectors).map(Int.init)
                return UInt64(try fd.read(into: buffer.filled(upTo: Int(blockSize)), lengths: lengths, at: offset))
            }
            let length = Int(min(count, bufferSize))
            return UInt64(try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.filled(upTo: length)[0..<length]), at: offset))
        }
        switch options.direction {
        case .forward:
            var offset = range.offset, count = range.length
            while count > 0 {
                let bytes = try call(offset, count)
                if bytes == 0 || bytes < min(count, bufferSize) { break }
                offset += bytes
                // preadv of all N iovecs may read past the count (xfs_io's count goes negative and ends the loop).
                count = bytes >= count ? 0 : count - bytes
            }
        case .backward:
            // xfs_io's `min(end, lseek(fd, off, SEEK_SET))` is a macro: the lseek is made again when it is
            // the lesser (or equal) of the two.
            let end = try fd.seek(0, from: .end)
            var offset = try fd.seek(Int64(clamping: range.offset), from: .set)
            if end < offset { offset = end } else { offset = try fd.seek(Int64(clamping: range.offset), from: .set) }
            var count = range.length
            let stop: UInt64
            if offset < count { count = offset; stop = 0 } else { stop = offset - count }
            // The unaligned piece first, then whole buffers down to `stop` (read_backward's `cnt > end`).
            let unaligned = bufferSize == 0 ? 0 : offset % bufferSize
            if unaligned != 0 {
                offset -= unaligned
                let bytes = try call(offset, unaligned)
                if bytes == 0 || bytes < unaligned { return }
                count = count >= bytes ? count - bytes : 0
            }
            while count > stop {
                let requested = min(count, bufferSize)
                offset -= requested
                let bytes = try call(offset, count)
                if bytes == 0 || bytes < requested { break }
                count = bytes >= count ? 0 : count - bytes
            }
        }
    }

    /// Deduplicates as xfs_io's dedupe_ioctl: FIDEDUPERANGE again from where the last one stopped while
    /// bytes remain, until one dedupes nothing or more than asked (length 0 makes one call). Ranges that
    /// differ end it with EBADE, as xfs_io reports "Extents did not match".
    static func dedupe(from source: FileDescriptor, offset sourceOffset: UInt64, into destination: FileDescriptor,
                       at destinationOffset: UInt64, length: UInt64) throws {
        var sourceOffset = sourceOffset, destinationOffset = destinationOffset, length = length
        var calls = 0
        while length > 0 || calls == 0 {
            let result = try source.dedupeRange(offset: sourceOffset, length: length, into: destination, at: destinationOffset)
            guard case .same(let bytes) = result else { throw StepError(errno: .EBADE, detail: "FIDEDUPERANGE: the ranges differ") }
            if length != 0 && (bytes == 0 || bytes > length) { break }
            calls += 1
            sourceOffset += bytes
            destinationOffset += bytes
            if length >= bytes { length -= bytes }
        }
    }
}

/// xfs_io's one buffer of `-b` bytes (memalign to the page), filled with the seed's byte. It is allocated
/// whole, as xfs_io allocates it, so that a size the machine cannot give fails as xfs_io fails (ENOMEM from
/// the allocation, never a limit of regress's own), but only the bytes the calls use are touched.
final class PatternBuffer {
    private let base: UnsafeMutableRawPointer
    let size: Int
    private let pattern: UInt8
    private var initialized = 0

    init(size: UInt64, pattern: UInt8) throws {
        guard size <= UInt64(Int.max) else { throw Errno.ENOMEM }
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, 4096, max(Int(size), 1)) == 0, let memory else { throw Errno.ENOMEM }
        base = memory
        self.size = Int(size)
        self.pattern = pattern
    }

    deinit { Glibc.free(base) }

    /// The buffer, its first `count` bytes holding the pattern.
    func filled(upTo count: Int) -> UnsafeMutableRawBufferPointer {
        if count > initialized {
            (base + initialized).initializeMemory(as: UInt8.self, repeating: pattern, count: count - initialized)
            initialized = count
        }
        return UnsafeMutableRawBufferPointer(start: base, count: size)
    }
}
