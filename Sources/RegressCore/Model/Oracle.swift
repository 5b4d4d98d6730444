#if canImport(Glibc)
import Glibc
#endif

/// A byte range where a file does not hold what the model says it must.
public struct Mismatch: Equatable, Codable, Sendable, CustomStringConvertible {
    public enum Found: Equatable, Codable, Sendable {
        case byte(UInt8)       // every byte found in the range is this one
        case mixed             // several different bytes
        case endOfFile         // the file ends before the range

        /// In JSON: "0xcd", "mixed" or "eof", what a script wants to compare.
        public var text: String {
            switch self {
            case .byte(let b): return hex(b)
            case .mixed: return "mixed"
            case .endOfFile: return "eof"
            }
        }

        public init(from decoder: Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            switch text {
            case "mixed": self = .mixed
            case "eof": self = .endOfFile
            default:
                guard text.hasPrefix("0x"), let value = UInt8(text.dropFirst(2), radix: 16) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad byte \(text)"))
                }
                self = .byte(value)
            }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(text)
        }
    }
    public let offset: UInt64
    public let length: UInt64
    public let expected: UInt8
    public let found: Found

    public var description: String {
        let foundText: String
        switch found {
        case .byte(let b): foundText = "found " + hex(b)
        case .mixed: foundText = "found mixed bytes"
        case .endOfFile: foundText = "past the end of the file"
        }
        return "bytes \(offset)..\(offset + length - 1) (\(Size.format(offset))+\(Size.format(length))): expected \(hex(expected)), \(foundText)"
    }
}

func hex(_ byte: UInt8) -> String { "0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16) }

/// What `verify` found in one file.
public struct VerifyResult: Equatable, Codable, Sendable {
    public var file: String
    public var expectedSize: UInt64
    public var foundSize: UInt64?        // nil: the file does not exist
    public var mismatches: [Mismatch] = []
    /// Mismatching ranges beyond the first `Oracle.reportLimit`, counted but not listed.
    public var unlistedMismatches = 0
    /// After a power cut: the sizes the file may have.
    public var allowedSizes: ClosedRange<UInt64>?
    /// Set when the file could not be read at all (EIO from a broken filesystem, say).
    public var readError: Errno?

    public init(file: String, expectedSize: UInt64, foundSize: UInt64?, allowedSizes: ClosedRange<UInt64>? = nil) {
        self.file = file
        self.expectedSize = expectedSize
        self.foundSize = foundSize
        self.allowedSizes = allowedSizes
    }
    public var passed: Bool {
        mismatches.isEmpty && unlistedMismatches == 0 && foundSize != nil && readError == nil && sizeAllowed
    }
    var sizeAllowed: Bool {
        guard let foundSize else { return false }
        return allowedSizes.map { $0.contains(foundSize) } ?? (foundSize == expectedSize)
    }
}

/// Compares a file, streamed in fixed-size chunks, with the model. Memory is one chunk however large the
/// file: a 4 GiB file is read in 1 MiB pieces and never held whole. Holes are not read: the file's data
/// ranges (SEEK_DATA/SEEK_HOLE) are streamed and the model alone is checked against the zeros in between,
/// so the cost follows the data, not the size (a file truncated to 8 EiB costs what its data costs).
/// A class that owns its buffers: it cannot be copied, and frees them when it goes.
public final class Oracle {
    public static let chunkSize = 1 << 20
    public static let reportLimit = 64
    /// After a power cut, a block is the unit that is either old or new.
    public static let blockSize: UInt64 = 4096

    private var buffer: UnsafeMutableRawBufferPointer
    /// One chunk of each byte value met so far, to compare with memcmp (fast even in debug builds).
    private var patterns: [UInt8: UnsafeMutableRawBufferPointer] = [:]

    public init() {
        buffer = .allocate(byteCount: Oracle.chunkSize, alignment: 4096)
    }

    deinit {
        buffer.deallocate()
        patterns.values.forEach { $0.deallocate() }
    }

    /// Checks `fd` against `expected` exactly.
    public func verify(_ fd: some ReadableFile, file: String, against expected: ExtentMap) throws -> VerifyResult {
        let size = try fd.size()
        var result = VerifyResult(file: file, expectedSize: expected.size, foundSize: size)
        var collector = MismatchCollector()
        try stream(fd, size: size) { chunk, offset in
            let chunkRange = offset..<(offset + UInt64(chunk.count))
            expected.forEachPiece(in: chunkRange) { piece, byte in
                compare(chunk, chunkStart: offset, piece: piece, byte: byte, into: &collector)
            }
        } hole: { hole in
            expected.forEachPiece(in: hole) { piece, byte in
                if byte != 0 { collector.add(offset: piece.lowerBound, length: UInt64(piece.count), expected: byte, found: .byte(0)) }
            }
        }
        if size < expected.size {
            expected.forEachPiece(in: size..<expected.size) { piece, byte in
                collector.add(offset: piece.lowerBound, length: UInt64(piece.count), expected: byte, found: .endOfFile)
            }
        }
        let done = collector.finished
        result.mismatches = done.ranges
        result.unlistedMismatches = done.unlisted
        return result
    }

    /// Checks `fd` after a power cut: each block must be `old`'s or `new`'s. Returns the result and what the
    /// file now holds, block by block, for the model to adopt (a bad block keeps `new`, so it is reported again).
    public func verifyAfterPowerCut(_ fd: some ReadableFile, file: String, old: ExtentMap?,
                                             new: ExtentMap) throws -> (VerifyResult, ExtentMap) {
        let old = old ?? ExtentMap()
        let size = try fd.size()
        let sizes = min(old.size, new.size)...max(old.size, new.size)
        var result = VerifyResult(file: file, expectedSize: new.size, foundSize: size, allowedSizes: sizes)
        var collector = MismatchCollector()
        var found = ExtentMap()
        found.resize(to: size)
        let blockSize = Oracle.blockSize
        try stream(fd, size: size) { chunk, offset in
            var blockStart = offset
            let chunkEnd = offset + UInt64(chunk.count)
            while blockStart < chunkEnd {
                let block = blockStart..<min(blockStart + blockSize, chunkEnd)
                if matches(chunk, chunkStart: offset, block, new) {
                    found.clone(from: new, range: block, to: block.lowerBound)
                } else if matches(chunk, chunkStart: offset, block, old) {
                    found.clone(from: old, range: block, to: block.lowerBound)
                } else {
                    new.forEachPiece(in: block) { piece, byte in
                        compare(chunk, chunkStart: offset, piece: piece, byte: byte, into: &collector)
                    }
                    found.clone(from: new, range: block, to: block.lowerBound)
                }
                blockStart = block.upperBound
            }
        } hole: { hole in
            // Zeros: a block is new's if new is zero there, else old's if old is, else a loss. Only blocks
            // where either map holds data need a look; the rest is zero in both and in `found`.
            for block in Oracle.blocks(in: hole, touching: [new, old]) {
                if Oracle.isZero(new, block) {
                    found.clone(from: new, range: block, to: block.lowerBound)
                } else if !Oracle.isZero(old, block) {
                    new.forEachPiece(in: block) { piece, byte in
                        if byte != 0 { collector.add(offset: piece.lowerBound, length: UInt64(piece.count), expected: byte, found: .byte(0)) }
                    }
                    found.clone(from: new, range: block, to: block.lowerBound)
                }
            }
        }
        found.resize(to: size)
        let done = collector.finished
        result.mismatches = done.ranges
        result.unlistedMismatches = done.unlisted
        return (result, found)
    }

    // MARK: internals

    /// Reads the file's data chunk by chunk and hands each hole, block-aligned, to `hole` unread. The
    /// partial blocks at a hole's edges are read like data, so that `hole` sees whole blocks only.
    private func stream(_ fd: some ReadableFile, size: UInt64, _ body: (UnsafeRawBufferPointer, UInt64) throws -> Void,
                        hole: (Range<UInt64>) -> Void) throws {
        var offset: UInt64 = 0
        while offset < size {
            let data = try fd.nextData(from: offset)?.clamped(to: offset..<size)
            let holeEnd = data.map { $0.isEmpty ? size : $0.lowerBound } ?? size
            let alignedStart = Oracle.roundUp(offset), alignedEnd = holeEnd / Oracle.blockSize * Oracle.blockSize
            if alignedStart < alignedEnd {
                try read(fd, offset..<alignedStart, body)
                hole(alignedStart..<alignedEnd)
                offset = alignedEnd
            }
            guard let data, !data.isEmpty else {
                try read(fd, offset..<size, body)   // the ragged end of a trailing hole
                return
            }
            let end = min(Oracle.roundUp(data.upperBound), size)
            try read(fd, offset..<end, body)
            offset = end
        }
    }

    private func read(_ fd: some ReadableFile, _ range: Range<UInt64>, _ body: (UnsafeRawBufferPointer, UInt64) throws -> Void) throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let want = Int(min(UInt64(buffer.count), range.upperBound - offset))
            let count = try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset)
            if count == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), offset)
            offset += UInt64(count)
        }
    }

    static func roundUp(_ offset: UInt64) -> UInt64 { (offset + blockSize - 1) / blockSize * blockSize }

    /// The blocks of `range` (block-aligned) that hold data in any of `maps`.
    static func blocks(in range: Range<UInt64>, touching maps: [ExtentMap]) -> [Range<UInt64>] {
        var starts = Set<UInt64>()
        for map in maps {
            map.forEachPiece(in: range) { piece, byte in
                guard byte != 0 else { return }
                var block = piece.lowerBound / blockSize * blockSize
                while block < piece.upperBound { starts.insert(block); block += blockSize }
            }
        }
        return starts.sorted().map { $0..<min($0 + blockSize, range.upperBound) }
    }

    static func isZero(_ map: ExtentMap, _ block: Range<UInt64>) -> Bool {
        var zero = true
        map.forEachPiece(in: block) { _, byte in if byte != 0 { zero = false } }
        return zero
    }

    /// Whether the block (which lies within the chunk) holds exactly `map`'s bytes; blocks past `map`'s size
    /// must be zero (data the cut left beyond the old size is not data the file was ever given).
    private func matches(_ chunk: UnsafeRawBufferPointer, chunkStart: UInt64, _ block: Range<UInt64>,
                                  _ map: ExtentMap) -> Bool {
        var same = true
        map.forEachPiece(in: block) { piece, byte in
            if same, !equal(chunk, chunkStart: chunkStart, piece, byte) { same = false }
        }
        if same, map.size < block.upperBound {
            let tail = max(map.size, block.lowerBound)..<block.upperBound
            same = equal(chunk, chunkStart: chunkStart, tail, 0)
        }
        return same
    }

    private func equal(_ chunk: UnsafeRawBufferPointer, chunkStart: UInt64, _ piece: Range<UInt64>, _ byte: UInt8) -> Bool {
        let start = Int(piece.lowerBound - chunkStart)
        let pattern = self.pattern(byte)
        return memcmp(chunk.baseAddress! + start, pattern.baseAddress!, piece.count) == 0
    }

    /// Compares the part of `piece` that lies in the chunk; records every mismatching byte run exactly.
    private func compare(_ chunk: UnsafeRawBufferPointer, chunkStart: UInt64, piece: Range<UInt64>, byte: UInt8,
                                  into collector: inout MismatchCollector) {
        let inChunk = piece.clamped(to: chunkStart..<(chunkStart + UInt64(chunk.count)))
        guard !inChunk.isEmpty else { return }
        if equal(chunk, chunkStart: chunkStart, inChunk, byte) { return }
        let base = Int(inChunk.lowerBound - chunkStart)
        for i in 0..<inChunk.count {
            let value = chunk[base + i]
            if value != byte {
                collector.add(offset: inChunk.lowerBound + UInt64(i), length: 1, expected: byte, found: .byte(value))
            }
        }
    }

    private func pattern(_ byte: UInt8) -> UnsafeMutableRawBufferPointer {
        if let existing = patterns[byte] { return existing }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Oracle.chunkSize, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: byte)
        patterns[byte] = buffer
        return buffer
    }
}

/// Merges adjacent mismatching bytes that expected the same byte into one range.
struct MismatchCollector {
    var ranges: [Mismatch] = []
    var unlisted = 0
    private var pending: (offset: UInt64, length: UInt64, expected: UInt8, found: Mismatch.Found)?

    mutating func add(offset: UInt64, length: UInt64, expected: UInt8, found: Mismatch.Found) {
        if var current = pending, current.offset + current.length == offset, current.expected == expected,
           (current.found == .endOfFile) == (found == .endOfFile) {
            current.length += length
            if current.found != found { current.found = .mixed }
            pending = current
            return
        }
        flush()
        pending = (offset, length, expected, found)
    }

    private mutating func flush() {
        guard let p = pending else { return }
        if ranges.count < Oracle.reportLimit {
            ranges.append(Mismatch(offset: p.offset, length: p.length, expected: p.expected, found: p.found))
        } else {
            unlisted += 1
        }
        pending = nil
    }

    var finished: MismatchCollector { var copy = self; copy.flush(); return copy }
}
