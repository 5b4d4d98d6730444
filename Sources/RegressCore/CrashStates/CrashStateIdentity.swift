/// What a crash state's image is, exactly, so that two states with the same bytes on the disk are checked
/// once (issue 11). Many subsets of an epoch yield the same image: a write that a later one covers, a
/// discard of blocks that are already zero, a block rewritten with the bytes it held.
///
/// The identity is no hash: it is the image's difference from its epoch's durable prefix (the base), as
/// the list of byte ranges whose final content differs from the base, each with the log index of the
/// write whose bytes it holds. The same list on the same base is the same image byte for byte, so two
/// states with equal identities are identical; states that are identical in other ways (two writes of the
/// same bytes) may get different identities and are then both checked, which costs time but hides nothing.
/// The states of one epoch share their base and what they are owed, so the epoch is part of the identity.
public struct CrashStateIdentity: Hashable, Sendable {
    /// Bytes `range` of the image hold write `write`'s bytes there (its log index).
    public struct Piece: Hashable, Sendable {
        public var range: Range<UInt64>
        public var write: Int
        public init(range: Range<UInt64>, write: Int) {
            self.range = range
            self.write = write
        }
    }

    public let epoch: Int
    /// Ascending, disjoint; adjacent pieces of the same write merged.
    public let pieces: [Piece]

    /// `writes`: the state's writes in log order (log index and byte range). `changed(index)`: the ranges,
    /// within that write, whose bytes differ from the base (`CrashStateIdentity.changedRanges`).
    public init(epoch: Int, writes: [(index: Int, range: Range<UInt64>)], changed: (Int) -> [Range<UInt64>]) {
        self.epoch = epoch
        // Who wrote each byte last: paint the writes in log order.
        var painted: [Piece] = []
        for write in writes where !write.range.isEmpty {
            var next: [Piece] = []
            for piece in painted {
                if piece.range.upperBound <= write.range.lowerBound || piece.range.lowerBound >= write.range.upperBound {
                    next.append(piece)
                    continue
                }
                if piece.range.lowerBound < write.range.lowerBound {
                    next.append(Piece(range: piece.range.lowerBound..<write.range.lowerBound, write: piece.write))
                }
                if piece.range.upperBound > write.range.upperBound {
                    next.append(Piece(range: write.range.upperBound..<piece.range.upperBound, write: piece.write))
                }
            }
            next.append(Piece(range: write.range, write: write.index))
            painted = next
        }
        // Keep only the bytes that differ from the base; a byte its last writer left as the base had it is
        // the base's, whoever wrote it.
        var kept: [Piece] = []
        for piece in painted {
            for range in changed(piece.write) {
                let lower = max(range.lowerBound, piece.range.lowerBound), upper = min(range.upperBound, piece.range.upperBound)
                if lower < upper { kept.append(Piece(range: lower..<upper, write: piece.write)) }
            }
        }
        kept.sort { $0.range.lowerBound < $1.range.lowerBound }
        var merged: [Piece] = []
        for piece in kept {
            if let last = merged.last, last.write == piece.write, last.range.upperBound == piece.range.lowerBound {
                merged[merged.count - 1].range = last.range.lowerBound..<piece.range.upperBound
            } else {
                merged.append(piece)
            }
        }
        pieces = merged
    }

    /// The granularity at which a write's bytes are compared with the base: the block layer's sector.
    public static let sector = 512

    /// The ranges of a write at `offset` whose bytes (`data`; nil: zeros, a discard or write-zeroes) differ
    /// from `base`, the base's bytes at the same offset, sector by sector (a sector counts whole if any
    /// byte of it differs; sectors are aligned to the disk, not to the write). Ascending, merged.
    public static func changedRanges(of data: [UInt8]?, over base: [UInt8], at offset: UInt64) -> [Range<UInt64>] {
        precondition(data == nil || data!.count == base.count, "the base must cover the write")
        var ranges: [Range<UInt64>] = []
        let end = offset + UInt64(base.count)
        var sectorStart = offset - offset % UInt64(sector)
        while sectorStart < end {
            let lower = max(sectorStart, offset), upper = min(sectorStart + UInt64(sector), end)
            let from = Int(lower - offset), to = Int(upper - offset)
            let differs: Bool
            if let data {
                differs = data[from..<to] != base[from..<to]
            } else {
                differs = base[from..<to].contains { $0 != 0 }
            }
            if differs {
                if let last = ranges.last, last.upperBound == lower {
                    ranges[ranges.count - 1] = last.lowerBound..<upper
                } else {
                    ranges.append(lower..<upper)
                }
            }
            sectorStart += UInt64(sector)
        }
        return ranges
    }
}
