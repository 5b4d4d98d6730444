/// What one file must contain, as runs of a repeated byte over `[0, size)`; everything not covered by a
/// run reads as zero (a hole, a preallocated extent, a punched or zeroed range, the tail of a grown file).
/// xfs_io's pwrite writes one repeated byte (`-S`), so a run per write describes any test exactly, and the
/// map stays as small as the number of writes however large the file grows.
public struct ExtentMap: Equatable, Codable, Sendable {
    public struct Run: Equatable, Codable, Sendable {
        public var start: UInt64
        public var end: UInt64
        public var byte: UInt8
    }

    public private(set) var size: UInt64 = 0
    /// Sorted, non-overlapping runs of non-zero bytes, each within `[0, size)`.
    public private(set) var runs: [Run] = []

    public init() {}

    /// Writes `byte` over `range`, growing the file if `range` ends past it.
    public mutating func write(_ byte: UInt8, over range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        size = max(size, range.upperBound)
        replace(range, with: byte == 0 ? [] : [Run(start: range.lowerBound, end: range.upperBound, byte: byte)])
    }

    /// Zeroes `range` without changing the size (punch hole, zero range with keep-size).
    public mutating func zero(_ range: Range<UInt64>) {
        let clipped = range.clamped(to: 0..<size)
        if !clipped.isEmpty { replace(clipped, with: []) }
    }

    /// Sets the size: shrinking forgets the tail, growing adds zeros (truncate, fallocate without -k).
    public mutating func resize(to newSize: UInt64) {
        if newSize < size { replace(newSize..<size, with: []) }
        size = newSize
    }

    /// The runs within `range`, shifted so that `range.lowerBound` is 0 (the source of a reflink).
    public func runs(in range: Range<UInt64>) -> [Run] {
        var result: [Run] = []
        for run in runs[firstIndex(endingAfter: range.lowerBound)...] {
            if run.start >= range.upperBound { break }
            let start = max(run.start, range.lowerBound), end = min(run.end, range.upperBound)
            result.append(Run(start: start - range.lowerBound, end: end - range.lowerBound, byte: run.byte))
        }
        return result
    }

    /// Puts `source`'s `range` at `offset` (FICLONERANGE): the destination range takes the source's bytes,
    /// zeros included, and the file grows if needed.
    public mutating func clone(from source: ExtentMap, range: Range<UInt64>, to offset: UInt64) {
        guard !range.isEmpty else { return }
        let copied = source.runs(in: range).map { Run(start: $0.start + offset, end: $0.end + offset, byte: $0.byte) }
        let target = offset..<(offset + UInt64(range.count))
        size = max(size, target.upperBound)
        replace(target, with: copied)
    }

    /// Removes `range` and shifts what follows down (FALLOC_FL_COLLAPSE_RANGE).
    public mutating func collapse(_ range: Range<UInt64>) {
        replace(range, with: [])
        let length = UInt64(range.count)
        runs = runs.map { $0.start >= range.upperBound ? Run(start: $0.start - length, end: $0.end - length, byte: $0.byte) : $0 }
        size -= min(size, length)
        coalesce()
    }

    /// Opens a zero gap of `length` at `offset` and shifts what follows up (FALLOC_FL_INSERT_RANGE).
    public mutating func insert(at offset: UInt64, length: UInt64) {
        split(at: offset)
        runs = runs.map { $0.start >= offset ? Run(start: $0.start + length, end: $0.end + length, byte: $0.byte) : $0 }
        size += length
    }

    /// The byte expected at `offset` (zero past the runs).
    public func byte(at offset: UInt64) -> UInt8 {
        let index = firstIndex(endingAfter: offset)
        guard index < runs.count, runs[index].start <= offset else { return 0 }
        return runs[index].byte
    }

    /// Calls `body` with consecutive pieces `(range, byte)` covering `range ∩ [0, size)`, zeros included.
    public func forEachPiece(in range: Range<UInt64>, _ body: (Range<UInt64>, UInt8) throws -> Void) rethrows {
        let range = range.clamped(to: 0..<size)
        var position = range.lowerBound
        var index = firstIndex(endingAfter: position)
        while position < range.upperBound {
            if index < runs.count, runs[index].start <= position {
                let end = min(runs[index].end, range.upperBound)
                try body(position..<end, runs[index].byte)
                position = end
                index += 1
            } else {
                let end = min(index < runs.count ? runs[index].start : range.upperBound, range.upperBound)
                try body(position..<end, 0)
                position = end
            }
        }
    }

    // MARK: internals

    /// Index of the first run whose end is after `offset` (binary search).
    private func firstIndex(endingAfter offset: UInt64) -> Int {
        var low = 0, high = runs.count
        while low < high {
            let mid = (low + high) / 2
            if runs[mid].end <= offset { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private mutating func split(at offset: UInt64) {
        let index = firstIndex(endingAfter: offset)
        guard index < runs.count, runs[index].start < offset else { return }
        let run = runs[index]
        runs[index].end = offset
        runs.insert(Run(start: offset, end: run.end, byte: run.byte), at: index + 1)
    }

    /// Replaces everything in `range` by `newRuns` (which lie within it), then merges equal neighbours.
    private mutating func replace(_ range: Range<UInt64>, with newRuns: [Run]) {
        split(at: range.lowerBound)
        split(at: range.upperBound)
        let first = firstIndex(endingAfter: range.lowerBound)
        var last = first
        while last < runs.count, runs[last].start < range.upperBound { last += 1 }
        runs.replaceSubrange(first..<last, with: newRuns.filter { $0.byte != 0 && $0.start < $0.end })
        coalesce(around: first, count: newRuns.count)
    }

    private mutating func coalesce(around index: Int? = nil, count: Int = 0) {
        let lower = max(0, (index ?? 0) - 1)
        let upper = index.map { min(runs.count, $0 + count + 1) } ?? runs.count
        guard upper - lower > 1 else { return }
        var merged: [Run] = []
        for run in runs[lower..<upper] {
            if let last = merged.last, last.end == run.start, last.byte == run.byte {
                merged[merged.count - 1].end = run.end
            } else {
                merged.append(run)
            }
        }
        runs.replaceSubrange(lower..<upper, with: merged)
    }
}
