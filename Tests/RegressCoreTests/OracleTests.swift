import Foundation
import XCTest
@testable import RegressCore
#if canImport(Glibc)
import Glibc
#endif

/// The oracle on real files: what it reports must name exactly the bytes that differ, because a report
/// is only as useful as the range it points a developer at.
final class OracleTests: XCTestCase {
    private var directory = ""
    private var oracle = Oracle()

    override func setUpWithError() throws {
        var template = Array((NSTemporaryDirectory() + "/regress-oracle-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        directory = try XCTUnwrap(made.map { String(cString: $0) })
        oracle = Oracle()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: helpers

    private func map(_ writes: (UInt8, Range<UInt64>)..., size: UInt64? = nil) -> ExtentMap {
        var map = ExtentMap()
        for (byte, range) in writes { map.write(byte, over: range) }
        if let size { map.resize(to: size) }
        return map
    }

    /// A file holding `map`'s bytes, then altered by `change`. Its all-zero blocks are holes, as a filesystem
    /// reports them, so every test here also runs the oracle's hole path.
    private func file(_ map: ExtentMap, change: (inout [UInt8]) -> Void = { _ in }) throws -> MemoryFile {
        var bytes = [UInt8](repeating: 0, count: Int(map.size))
        map.forEachPiece(in: 0..<map.size) { piece, byte in
            for i in piece { bytes[Int(i)] = byte }
        }
        change(&bytes)
        return MemoryFile(bytes: bytes)
    }

    private func verify(_ file: some ReadableFile, against expected: ExtentMap) throws -> VerifyResult {
        try oracle.verify(file, file: "f", against: expected)
    }

    private func verifyAfterPowerCut(_ file: MemoryFile, old: ExtentMap?, new: ExtentMap) throws -> (VerifyResult, ExtentMap) {
        try oracle.verifyAfterPowerCut(file, file: "f", old: old, new: new)
    }

    // MARK: exact verify

    func testAFileThatMatchesPasses() throws {
        let expected = map((0xaa, 0..<8192), (0xbb, 10000..<10001), size: 12288)
        let result = try verify(try file(expected), against: expected)
        XCTAssertTrue(result.passed)
        XCTAssertEqual(result.mismatches, [])
        XCTAssertEqual(result.foundSize, 12288)
        XCTAssertEqual(result.expectedSize, 12288)
    }

    func testOneWrongByte() throws {
        let expected = map((0xaa, 0..<8192))
        let result = try verify(try file(expected) { $0[5000] = 0 }, against: expected)
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.mismatches, [Mismatch(offset: 5000, length: 1, expected: 0xaa, found: .byte(0))])
    }

    func testAWrongRangeIsOneMismatch() throws {
        let expected = map((0xaa, 0..<8192))
        let result = try verify(try file(expected) { for i in 100..<300 { $0[i] = 0x77 } }, against: expected)
        XCTAssertEqual(result.mismatches, [Mismatch(offset: 100, length: 200, expected: 0xaa, found: .byte(0x77))])
        XCTAssertEqual(result.mismatches[0].description, "bytes 100..299 (100+200): expected 0xaa, found 0x77")
    }

    func testMixedBytes() throws {
        let expected = map((0xaa, 0..<8192))
        let result = try verify(try file(expected) { for i in 100..<110 { $0[i] = UInt8(i % 2 + 1) } }, against: expected)
        XCTAssertEqual(result.mismatches, [Mismatch(offset: 100, length: 10, expected: 0xaa, found: .mixed)])
    }

    func testARangeAcrossTwoExpectedBytesIsTwoMismatches() throws {
        let expected = map((0xaa, 0..<4096), (0xbb, 4096..<8192), size: 12288)
        let path = try file(expected) { bytes in
            for i in 4000..<4200 { bytes[i] = 0 }
            for i in 9000..<9010 { bytes[i] = 0x55 }   // data where a hole must be
        }
        let result = try verify(path, against: expected)
        XCTAssertEqual(result.mismatches, [
            Mismatch(offset: 4000, length: 96, expected: 0xaa, found: .byte(0)),
            Mismatch(offset: 4096, length: 104, expected: 0xbb, found: .byte(0)),
            Mismatch(offset: 9000, length: 10, expected: 0, found: .byte(0x55)),
        ])
    }

    func testAMismatchAcrossAChunkBoundaryIsOneRange() throws {
        // The file is read 1 MiB at a time; a range that straddles two reads is still one range.
        let boundary = Oracle.chunkSize
        let expected = map((0xaa, 0..<UInt64(3 * boundary)))
        let path = try file(expected) { for i in (boundary - 10)..<(boundary + 10) { $0[i] = 0 } }
        let result = try verify(path, against: expected)
        XCTAssertEqual(result.mismatches, [Mismatch(offset: UInt64(boundary - 10), length: 20, expected: 0xaa, found: .byte(0))])
    }

    func testAShortFileReportsTheMissingTail() throws {
        let expected = map((0xaa, 0..<8192), size: 10000)
        let short = map((0xaa, 0..<6000))
        let result = try verify(try file(short), against: expected)
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.foundSize, 6000)
        XCTAssertEqual(result.expectedSize, 10000)
        XCTAssertEqual(result.mismatches, [
            Mismatch(offset: 6000, length: 2192, expected: 0xaa, found: .endOfFile),
            Mismatch(offset: 8192, length: 1808, expected: 0, found: .endOfFile),
        ])
        XCTAssertEqual(result.mismatches[0].description, "bytes 6000..8191 (6000+2192): expected 0xaa, past the end of the file")
    }

    func testALongFileFailsOnItsSizeAlone() throws {
        let expected = map((0xaa, 0..<4096))
        let result = try verify(try file(map((0xaa, 0..<8192))), against: expected)
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.foundSize, 8192)
        XCTAssertEqual(result.mismatches, [], "bytes past the expected size are the size's fault, not mismatches")
        XCTAssertFalse(result.sizeAllowed)
    }

    func testReportLimit() throws {
        let expected = map((0xaa, 0..<2000))
        let result = try verify(try file(expected) { for i in 0..<100 { $0[i * 10] = 0 } }, against: expected)
        XCTAssertEqual(result.mismatches.count, Oracle.reportLimit)
        XCTAssertEqual(result.unlistedMismatches, 100 - Oracle.reportLimit)
        XCTAssertEqual(result.mismatches.first, Mismatch(offset: 0, length: 1, expected: 0xaa, found: .byte(0)))
        XCTAssertEqual(result.mismatches.last?.offset, UInt64(10 * (Oracle.reportLimit - 1)))
        XCTAssertFalse(result.passed)
    }

    // MARK: after a power cut

    /// 16 KiB of 0xaa made durable, then 0xbb written over blocks 1-3 and 4 KiB appended.
    private let old = ExtentMap.filled(0xaa, 0..<16384)
    private var new: ExtentMap {
        var map = old
        map.write(0xbb, over: 4096..<20480)
        return map
    }

    func testOldContentIsAccepted() throws {
        let (result, found) = try verifyAfterPowerCut(try file(old), old: old, new: new)
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(result.allowedSizes, 16384...20480)
        XCTAssertEqual(found, old)
    }

    func testNewContentIsAccepted() throws {
        let (result, found) = try verifyAfterPowerCut(try file(new), old: old, new: new)
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(found, new)
    }

    func testEachBlockMayBeOldOrNew() throws {
        // Blocks 0 and 2 old, 1 and 3 new, the appended block not there.
        let path = try file(old) { for i in 4096..<8192 { $0[i] = 0xbb }; for i in 12288..<16384 { $0[i] = 0xbb } }
        let (result, found) = try verifyAfterPowerCut(path, old: old, new: new)
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(found, map((0xaa, 0..<4096), (0xbb, 4096..<8192), (0xaa, 8192..<12288), (0xbb, 12288..<16384)))
    }

    func testAGarbageBlockIsReportedAgainstTheNewContent() throws {
        let path = try file(new) { for i in 8192..<12288 { $0[i] = 0xcc } }
        let (result, found) = try verifyAfterPowerCut(path, old: old, new: new)
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.mismatches, [Mismatch(offset: 8192, length: 4096, expected: 0xbb, found: .byte(0xcc))])
        XCTAssertEqual(found, new, "a bad block keeps the new content in the model, so a later verify reports it again")
    }

    func testATornBlockIsNeitherOldNorNew() throws {
        // Half of block 1 old, half new: a block is the unit a power cut leaves whole.
        let path = try file(new) { for i in 4096..<6144 { $0[i] = 0xaa } }
        let (result, _) = try verifyAfterPowerCut(path, old: old, new: new)
        XCTAssertEqual(result.mismatches, [Mismatch(offset: 4096, length: 2048, expected: 0xbb, found: .byte(0xaa))])
    }

    func testZerosPastTheOldSizeCountAsOld() throws {
        // The size grew durably but the appended data did not make it: zeros, as after a real crash.
        let path = try file(old) { $0 += Array(repeating: 0, count: 4096) }
        let (result, found) = try verifyAfterPowerCut(path, old: old, new: new)
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(found, map((0xaa, 0..<16384), size: 20480))
    }

    func testDataPastTheOldSizeMustBeTheNewData() throws {
        let path = try file(old) { $0 += Array(repeating: 0xcc, count: 4096) }
        let (result, _) = try verifyAfterPowerCut(path, old: old, new: new)
        XCTAssertEqual(result.mismatches, [Mismatch(offset: 16384, length: 4096, expected: 0xbb, found: .byte(0xcc))])
    }

    func testASizeOutsideOldAndNewFails() throws {
        let path = try file(new) { $0 += Array(repeating: 0, count: 4096) }
        let (result, _) = try verifyAfterPowerCut(path, old: old, new: new)
        XCTAssertEqual(result.foundSize, 24576)
        XCTAssertFalse(result.sizeAllowed)
        XCTAssertFalse(result.passed)
    }

    func testAFileNeverMadeDurableMayBeEmpty() throws {
        let (result, found) = try verifyAfterPowerCut(try file(ExtentMap()), old: nil, new: new)
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertEqual(result.allowedSizes, 0...20480)
        XCTAssertEqual(found, ExtentMap())
    }

    // MARK: the seed test's content

    /// tests.d/nocow-reflink's steps, applied to the model, must give the content fstests' generic/546
    /// checks with its golden md5: `falloc 8k 64m; pwrite 1m 16m (0xcd); reflink file1 8k -> 0 4k`.
    func testTheSeedScenarioHasFstestsGoldenMD5() throws {
        var file1 = ExtentMap()
        file1.resize(to: 8192 + (64 << 20))                     // falloc 8k 64m
        file1.write(0xcd, over: (1 << 20)..<(17 << 20))         // pwrite 1m 16m, xfs_io's default pattern
        file1.clone(from: file1, range: 8192..<12288, to: 0)    // reflink file1 8k 0 4k
        let file = try self.file(file1)
        let path = directory + "/file1"
        try Data(file.bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try md5(path), "cdccc121ae95c72fdbe53d8e343ef5ee")
        let result = try verify(file, against: file1)
        XCTAssertTrue(result.passed, "the oracle must accept the file the model describes")
    }

    // MARK: holes are not read

    /// A file truncated to 8 EiB holds one 4 KiB block of data: verify reads that block, not the hole.
    func testAHugeSparseFileCostsItsData() throws {
        var expected = ExtentMap()
        expected.write(0xab, over: 0..<4096)
        expected.resize(to: UInt64(Int64.max))
        let file = SparseFile(size: UInt64(Int64.max), data: [(0..<4096, 0xab)])
        let result = try verify(file, against: expected)
        XCTAssertTrue(result.passed, "\(result)")
        XCTAssertLessThanOrEqual(file.bytesRead.value, 1 << 20, "only the data is read")
    }

    /// Data the model expects but the filesystem reports as a hole is lost, exactly.
    func testDataWhereTheFileHasAHoleIsReportedLost() throws {
        var expected = ExtentMap()
        expected.write(0xab, over: 0..<(1 << 30))
        let file = SparseFile(size: 1 << 30, data: [(0..<4096, 0xab)])
        let result = try verify(file, against: expected)
        XCTAssertEqual(result.mismatches, [Mismatch(offset: 4096, length: (1 << 30) - 4096, expected: 0xab, found: .byte(0))])
        XCTAssertLessThanOrEqual(file.bytesRead.value, 1 << 20)
    }

    private func md5(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/md5sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}

/// A file in memory whose all-zero 4 KiB blocks are holes (as SEEK_DATA would report a sparse file).
struct MemoryFile: ReadableFile {
    let bytes: [UInt8]
    func size() throws -> UInt64 { UInt64(bytes.count) }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        guard offset < UInt64(bytes.count) else { return 0 }
        let count = min(buffer.count, bytes.count - Int(offset))
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<(Int(offset) + count)])) }
        return count
    }
    func nextData(from offset: UInt64) throws -> Range<UInt64>? {
        func isData(_ block: Int) -> Bool { bytes[(block * 4096)..<min(bytes.count, block * 4096 + 4096)].contains { $0 != 0 } }
        let blocks = (bytes.count + 4095) / 4096
        var block = Int(offset / 4096)
        while block < blocks, !isData(block) { block += 1 }
        guard block < blocks else { return nil }
        var end = block
        while end < blocks, isData(end) { end += 1 }
        return max(offset, UInt64(block * 4096))..<UInt64(min(bytes.count, end * 4096))
    }
}

/// A huge file of a few data ranges, counting what is read.
final class SparseFile: ReadableFile {
    let fileSize: UInt64
    let data: [(Range<UInt64>, UInt8)]
    let bytesRead = Counter()
    final class Counter { var value: UInt64 = 0 }
    init(size: UInt64, data: [(Range<UInt64>, UInt8)]) { self.fileSize = size; self.data = data }
    func size() throws -> UInt64 { fileSize }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        let count = Int(min(UInt64(buffer.count), fileSize - min(offset, fileSize)))
        for i in 0..<count {
            let at = offset + UInt64(i)
            buffer[i] = data.first { $0.0.contains(at) }?.1 ?? 0
        }
        bytesRead.value += UInt64(count)
        return count
    }
    func nextData(from offset: UInt64) throws -> Range<UInt64>? {
        data.map(\.0).filter { $0.upperBound > offset }.min { $0.lowerBound < $1.lowerBound }.map { max($0.lowerBound, offset)..<$0.upperBound }
    }
}

private extension ExtentMap {
    static func filled(_ byte: UInt8, _ range: Range<UInt64>) -> ExtentMap {
        var map = ExtentMap()
        map.write(byte, over: range)
        return map
    }
}
