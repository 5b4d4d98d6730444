/// xfs_io 6.1's pwrite loops (io/pwrite.c: write_buffer(), write_backward(), do_pwrite(), do_pwritev()) as
/// a pure sequence of calls, so that regress makes the same calls at the same offsets with the same sizes
/// and stops where xfs_io stops. The runner asks for a call, makes it, and reports what the kernel returned.
///
/// Two of xfs_io's habits are kept because they decide which bytes land (the differential test against the
/// real xfs_io, Tests/IntegrationTests/XfsIODifferentialTests.swift, found both):
/// - `-V N`: do_pwritev() trims the iovec that holds the end of the count but passes all N iovecs, so the
///   ones after it are written at full length: `pwrite -V 4 0 6k` writes 14 KiB.
/// - `-B`: the first, unaligned piece is aligned to the whole buffer (`-b`, times N with `-V`), not to the
///   length, and the backward loop runs only while the remaining count exceeds the end offset.
public struct XfsIOWriteLoop {
    /// One pwrite (one length) or pwritev (one length an iovec, all from the same buffer) at `offset`.
    public struct Call: Equatable, Sendable {
        public let offset: UInt64
        public let lengths: [UInt64]
        public let vectored: Bool
    }

    private let blockSize: Int64
    private let vectors: Int?
    private let direction: WriteOptions.Direction
    private var offset: Int64
    private var count: Int64
    /// Backward: where the loop ends (xfs_io's `end`), and whether the unaligned first piece is done.
    private var end: Int64 = 0
    private var firstPieceDone = false
    private var pending: Int64?   // the bytes the last call asked for, for xfs_io's short-write test
    private var finished = false

    public init(range: ByteRange, options: WriteOptions) {
        blockSize = Int64(options.blockSize)
        vectors = options.vectors.map(Int.init)
        direction = options.direction
        offset = Int64(range.offset)
        count = Int64(range.length)
        if direction == .backward {
            end = offset - count
            if end < 0 { count += end; end = 0 }
        }
    }

    /// xfs_io's io_buffersize: the block size, times N with `-V N`.
    private var bufferSize: Int64 { Self.saturatingProduct(blockSize, vectors ?? 1) }

    private static func saturatingProduct(_ size: Int64, _ vectors: Int) -> Int64 {
        let (product, overflow) = size.multipliedReportingOverflow(by: Int64(vectors))
        return overflow ? .max : product
    }

    /// do_pwrite(): a plain pwrite of min(count, buffer) bytes, or do_pwritev()'s iovecs for `count`.
    private func call(at offset: Int64, count: Int64, buffer: Int64) -> Call {
        guard let vectors else { return Call(offset: UInt64(offset), lengths: [UInt64(min(count, buffer))], vectored: false) }
        return Call(offset: UInt64(offset), lengths: Self.iovecLengths(count: count, blockSize: blockSize, vectors: vectors), vectored: true)
    }

    /// do_pwritev()'s iovecs: N buffers of the block size; when `count` is less than all of them, the one
    /// holding its end is trimmed, and those after it keep their full length (all N are passed).
    public static func iovecLengths(count: Int64, blockSize: Int64, vectors: Int) -> [UInt64] {
        var lengths = [UInt64](repeating: UInt64(blockSize), count: vectors)
        guard count < saturatingProduct(blockSize, vectors) else { return lengths }
        var length: Int64 = 0, index = 0
        while length + blockSize < count {
            length += blockSize
            index += 1
        }
        lengths[index] = UInt64(count - length)
        return lengths
    }

    /// The next call, or nil when xfs_io would make no more.
    public mutating func next() -> Call? {
        guard !finished else { return nil }
        switch direction {
        case .forward:
            // write_buffer(): `while (count >= 0)`, each call for the whole remaining count.
            guard count >= 0 else { return nil }
            // xfs_io's short-write test: fewer than min(count, bar) bytes, bar being min(bsize, the length).
            pending = min(count, blockSize)
            return call(at: offset, count: count, buffer: blockSize)
        case .backward:
            let buffer = bufferSize
            if !firstPieceDone {
                firstPieceDone = true
                let unaligned = buffer == 0 ? 0 : offset % buffer
                if unaligned != 0 {
                    let requested = min(count, unaligned)
                    offset -= requested
                    pending = requested
                    return call(at: offset, count: requested, buffer: buffer)
                }
            }
            guard count > end else { return nil }
            let requested = min(count, buffer)
            offset -= requested
            pending = requested
            return call(at: offset, count: count, buffer: buffer)
        }
    }

    /// What the kernel returned for the call `next()` gave: the bytes written (a failure ends the loop).
    public mutating func wrote(_ bytes: UInt64) {
        let bytes = Int64(bytes), requested = pending ?? 0
        switch direction {
        case .forward:
            // `bar` is min(bsize, the whole length) in xfs_io, fixed before the loop.
            if bytes == 0 || bytes < requested { finished = true; return }
            offset += bytes
            count -= bytes
            if count == 0 { finished = true }
        case .backward:
            if bytes == 0 || bytes < requested { finished = true; return }
            count -= bytes
        }
    }
}
