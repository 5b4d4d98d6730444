import XCTest
@testable import RegressCore

/// The extent map is what every verify compares a file with, so it must be exactly a file's bytes.
/// The operation tests pin the semantics of each call; the differential test holds the map against the
/// simplest possible file, a byte array, over thousands of random operations.
final class ExtentMapTests: XCTestCase {
    typealias Run = ExtentMap.Run

    // MARK: single operations

    func testWriteGrowsAndCoalesces() {
        var map = ExtentMap()
        map.write(0xaa, over: 10..<20)
        XCTAssertEqual(map.size, 20)
        XCTAssertEqual(map.runs, [Run(start: 10, end: 20, byte: 0xaa)])
        map.write(0xaa, over: 20..<30)
        XCTAssertEqual(map.runs, [Run(start: 10, end: 30, byte: 0xaa)], "touching writes of one byte are one run")
        map.write(0xaa, over: 0..<10)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 30, byte: 0xaa)])
        map.write(0xbb, over: 12..<14)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 12, byte: 0xaa), Run(start: 12, end: 14, byte: 0xbb), Run(start: 14, end: 30, byte: 0xaa)])
        map.write(0xaa, over: 12..<14)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 30, byte: 0xaa)], "overwriting the middle back merges all three")
        XCTAssertEqual(map.size, 30)
    }

    func testWritingZerosLeavesNoRun() {
        var map = ExtentMap()
        map.write(0xaa, over: 0..<100)
        map.write(0, over: 40..<60)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 40, byte: 0xaa), Run(start: 60, end: 100, byte: 0xaa)])
        map.write(0, over: 100..<200)
        XCTAssertEqual(map.size, 200, "a write of zeros still grows the file")
        XCTAssertEqual(map.runs.count, 2)
        map.write(0xaa, over: 50..<50)
        XCTAssertEqual(map.runs.count, 2, "an empty write changes nothing")
    }

    func testZeroKeepsTheSize() {
        var map = ExtentMap()
        map.write(0xaa, over: 0..<100)
        map.zero(90..<500)
        XCTAssertEqual(map.size, 100)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 90, byte: 0xaa)])
        map.zero(200..<300)
        XCTAssertEqual(map.size, 100, "zeroing past the end does not grow the file")
    }

    func testResize() {
        var map = ExtentMap()
        map.write(0xaa, over: 0..<100)
        map.resize(to: 50)
        XCTAssertEqual(map.size, 50)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 50, byte: 0xaa)])
        map.resize(to: 100)
        XCTAssertEqual(map.size, 100)
        XCTAssertEqual(map.byte(at: 60), 0, "a truncated tail grows back as zeros, not as the old data")
        XCTAssertEqual(map.runs, [Run(start: 0, end: 50, byte: 0xaa)])
        map.resize(to: 0)
        XCTAssertEqual(map.runs, [])
    }

    func testCloneFromAnotherFileCopiesZerosToo() {
        var source = ExtentMap()
        source.write(0x11, over: 0..<10)
        source.resize(to: 30)                 // 10..<30 is zero
        var destination = ExtentMap()
        destination.write(0xff, over: 0..<40)
        destination.clone(from: source, range: 5..<25, to: 10)
        XCTAssertEqual(destination.runs, [Run(start: 0, end: 10, byte: 0xff), Run(start: 10, end: 15, byte: 0x11),
                                          Run(start: 30, end: 40, byte: 0xff)])
        XCTAssertEqual(destination.size, 40)
        destination.clone(from: source, range: 0..<10, to: 100)
        XCTAssertEqual(destination.size, 110, "a clone past the end grows the destination")
        XCTAssertEqual(destination.byte(at: 105), 0x11)
        XCTAssertEqual(destination.byte(at: 60), 0)
    }

    func testSameFileClone() {
        // As in nocow-reflink: `file1: reflink file1 8k 0 4k`.
        var map = ExtentMap()
        map.write(0xaa, over: 8192..<12288)
        map.clone(from: map, range: 8192..<12288, to: 0)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 4096, byte: 0xaa), Run(start: 8192, end: 12288, byte: 0xaa)])
        XCTAssertEqual(map.size, 12288)
    }

    func testOverlappingSameFileCloneReadsTheSourceAsItWasBefore() {
        var map = ExtentMap()
        map.write(0x01, over: 0..<10)
        map.write(0x02, over: 10..<20)
        map.clone(from: map, range: 0..<20, to: 5)
        // A copy through a snapshot: 0..<5 keeps 0x01, then the old 0..<20 at 5.
        XCTAssertEqual(map.runs, [Run(start: 0, end: 15, byte: 0x01), Run(start: 15, end: 25, byte: 0x02)])
        XCTAssertEqual(map.size, 25)
    }

    func testCollapse() {
        var map = ExtentMap()
        map.write(0xaa, over: 0..<10)
        map.write(0xbb, over: 10..<20)
        map.write(0xaa, over: 20..<30)
        map.write(0xcc, over: 40..<50)
        map.collapse(10..<20)
        XCTAssertEqual(map.size, 40)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 20, byte: 0xaa), Run(start: 30, end: 40, byte: 0xcc)],
                       "the runs that become neighbours merge")
        map.collapse(5..<35)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 5, byte: 0xaa), Run(start: 5, end: 10, byte: 0xcc)])
        XCTAssertEqual(map.size, 10)
    }

    func testInsert() {
        var map = ExtentMap()
        map.write(0xaa, over: 0..<20)
        map.write(0xbb, over: 20..<30)
        map.insert(at: 10, length: 100)
        XCTAssertEqual(map.size, 130)
        XCTAssertEqual(map.runs, [Run(start: 0, end: 10, byte: 0xaa), Run(start: 110, end: 120, byte: 0xaa),
                                  Run(start: 120, end: 130, byte: 0xbb)])
        XCTAssertEqual(map.byte(at: 50), 0)
        map.insert(at: 0, length: 5)
        XCTAssertEqual(map.runs.first, Run(start: 5, end: 15, byte: 0xaa))
    }

    func testByteAt() {
        var map = ExtentMap()
        map.write(0xaa, over: 4..<8)
        map.write(0xbb, over: 8..<9)
        map.resize(to: 20)
        XCTAssertEqual((0..<22).map { map.byte(at: $0) },
                       [0, 0, 0, 0, 0xaa, 0xaa, 0xaa, 0xaa, 0xbb] + Array(repeating: 0, count: 13))
    }

    func testRunsInARangeAreShiftedToIt() {
        var map = ExtentMap()
        map.write(0xaa, over: 10..<20)
        map.write(0xbb, over: 30..<40)
        XCTAssertEqual(map.runs(in: 15..<35), [Run(start: 0, end: 5, byte: 0xaa), Run(start: 15, end: 20, byte: 0xbb)])
        XCTAssertEqual(map.runs(in: 20..<30), [])
    }

    func testForEachPieceCoversTheRangeWithinTheFile() {
        var map = ExtentMap()
        map.write(0xaa, over: 10..<20)
        map.write(0xbb, over: 20..<25)
        map.resize(to: 40)
        var pieces: [(Range<UInt64>, UInt8)] = []
        map.forEachPiece(in: 5..<100) { pieces.append(($0, $1)) }
        XCTAssertEqual(pieces.map(\.0), [5..<10, 10..<20, 20..<25, 25..<40], "clamped to the size, zeros included")
        XCTAssertEqual(pieces.map(\.1), [0, 0xaa, 0xbb, 0])
        pieces = []
        map.forEachPiece(in: 12..<22) { pieces.append(($0, $1)) }
        XCTAssertEqual(pieces.map(\.0), [12..<20, 20..<22])
        pieces = []
        map.forEachPiece(in: 40..<50) { pieces.append(($0, $1)) }
        XCTAssertTrue(pieces.isEmpty)
        var empty: [Range<UInt64>] = []
        ExtentMap().forEachPiece(in: 0..<10) { range, _ in empty.append(range) }
        XCTAssertEqual(empty, [])
    }

    // MARK: differential test

    /// The simplest model of a file: its bytes.
    struct ReferenceFile {
        var bytes: [UInt8] = []

        mutating func write(_ byte: UInt8, _ range: Range<Int>) {
            if bytes.count < range.upperBound { bytes += Array(repeating: 0, count: range.upperBound - bytes.count) }
            for i in range { bytes[i] = byte }
        }
        mutating func zero(_ range: Range<Int>) {
            for i in range where i < bytes.count { bytes[i] = 0 }
        }
        mutating func resize(_ size: Int) {
            if size < bytes.count { bytes.removeLast(bytes.count - size) } else { bytes += Array(repeating: 0, count: size - bytes.count) }
        }
        func read(_ range: Range<Int>) -> [UInt8] { range.map { $0 < bytes.count ? bytes[$0] : 0 } }
        mutating func clone(_ source: [UInt8], to offset: Int) {
            if bytes.count < offset + source.count { resize(offset + source.count) }
            for (i, b) in source.enumerated() { bytes[offset + i] = b }
        }
        mutating func collapse(_ range: Range<Int>) { bytes.removeSubrange(range) }
        mutating func insert(at offset: Int, length: Int) { bytes.insert(contentsOf: Array(repeating: 0, count: length), at: offset) }
    }


    func testRandomOperationsMatchAByteArray() {
        var random = SplitMix64(seed: 0x5eed_2024)
        var maps = [ExtentMap(), ExtentMap()]
        var references = [ReferenceFile(), ReferenceFile()]
        let limit = 6000
        // Few byte values, so that neighbouring runs often hold the same byte and must merge.
        func anyByte() -> UInt8 { [0, 0xaa, 0xaa, 0xbb, 0xcc][Int.random(in: 0..<5, using: &random)] }
        func anyRange(upTo bound: Int) -> Range<Int> {
            let a = Int.random(in: 0...bound, using: &random), b = Int.random(in: 0...bound, using: &random)
            return min(a, b)..<max(a, b)
        }
        for step in 0..<4000 {
            let target = Int.random(in: 0..<2, using: &random)
            let other = Int.random(in: 0..<2, using: &random)
            let size = references[target].bytes.count
            var operation = ""
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<35:
                let range = anyRange(upTo: limit), byte = anyByte()
                operation = "write \(byte) \(range)"
                maps[target].write(byte, over: UInt64(range.lowerBound)..<UInt64(range.upperBound))
                references[target].write(byte, range)
            case 35..<45:
                let range = anyRange(upTo: limit)
                operation = "zero \(range)"
                maps[target].zero(UInt64(range.lowerBound)..<UInt64(range.upperBound))
                references[target].zero(range)
            case 45..<55:
                let newSize = Int.random(in: 0...limit, using: &random)
                operation = "resize \(newSize)"
                maps[target].resize(to: UInt64(newSize))
                references[target].resize(newSize)
            case 55..<80:
                // Either file into either file, the same file included, overlapping or not, and past the
                // source's end (which reads as zeros).
                let source = anyRange(upTo: limit)
                let offset = Int.random(in: 0...limit, using: &random)
                operation = "clone \(other)[\(source)] -> \(target)@\(offset)"
                let snapshot = references[other].read(source)
                maps[target].clone(from: maps[other], range: UInt64(source.lowerBound)..<UInt64(source.upperBound), to: UInt64(offset))
                references[target].clone(snapshot, to: offset)
            case 80..<90:
                // The kernel only collapses ranges that end within the file.
                guard size > 0 else { continue }
                let range = anyRange(upTo: size)
                operation = "collapse \(range)"
                maps[target].collapse(UInt64(range.lowerBound)..<UInt64(range.upperBound))
                references[target].collapse(range)
            default:
                // The kernel only inserts before the end of the file, and never an empty range.
                guard size > 0, size < limit else { continue }
                let offset = Int.random(in: 0..<size, using: &random)
                let length = Int.random(in: 1...(limit - size), using: &random)
                operation = "insert \(offset)+\(length)"
                maps[target].insert(at: UInt64(offset), length: UInt64(length))
                references[target].insert(at: offset, length: length)
            }
            guard check(maps[target], equals: references[target], context: "step \(step): \(operation)", using: &random) else { return }
        }
    }

    /// Compares a map with its reference: size, every byte through forEachPiece, sampled byte(at:), and
    /// the run invariants (sorted, non-empty, non-zero, within the size, coalesced).
    private func check(_ map: ExtentMap, equals reference: ReferenceFile, context: String,
                       using random: inout SplitMix64) -> Bool {
        guard map.size == UInt64(reference.bytes.count) else {
            XCTFail("\(context): size \(map.size), reference \(reference.bytes.count)")
            return false
        }
        var previous: Run?
        for run in map.runs {
            guard run.start < run.end, run.byte != 0, run.end <= map.size else {
                XCTFail("\(context): bad run \(run) in a file of \(map.size) bytes")
                return false
            }
            if let previous {
                guard previous.end <= run.start else { XCTFail("\(context): runs overlap or are unsorted: \(previous), \(run)"); return false }
                guard !(previous.end == run.start && previous.byte == run.byte) else {
                    XCTFail("\(context): runs not coalesced: \(previous), \(run)")
                    return false
                }
            }
            previous = run
        }
        var materialized = [UInt8](repeating: 0xee, count: reference.bytes.count)
        var covered: UInt64 = 0
        var contiguous = true
        map.forEachPiece(in: 0..<UInt64.max) { piece, byte in
            if piece.lowerBound != covered || piece.isEmpty { contiguous = false }
            covered = piece.upperBound
            for i in piece { materialized[Int(i)] = byte }
        }
        guard contiguous, covered == map.size else {
            XCTFail("\(context): forEachPiece does not cover [0, \(map.size)) piece after piece")
            return false
        }
        if materialized != reference.bytes {
            let first = materialized.indices.first { materialized[$0] != reference.bytes[$0] }!
            XCTFail("\(context): byte \(first) is \(materialized[first]), reference \(reference.bytes[first])")
            return false
        }
        for _ in 0..<8 {
            let offset = Int.random(in: 0...(reference.bytes.count + 16), using: &random)
            let expected: UInt8 = offset < reference.bytes.count ? reference.bytes[offset] : 0
            guard map.byte(at: UInt64(offset)) == expected else {
                XCTFail("\(context): byte(at: \(offset)) is \(map.byte(at: UInt64(offset))), reference \(expected)")
                return false
            }
        }
        return true
    }
}
