import XCTest
@testable import RegressCore

/// xfs_io 6.1's pwrite loops, call for call, as the differential test against the real xfs_io
/// (Tests/IntegrationTests/XfsIODifferentialTests.swift) found them: the `-V` iovecs past the count, the
/// backward loop's alignment to the whole buffer, and `-u`'s unfilled buffer (refused).
final class XfsIOWriteLoopTests: XCTestCase {
    /// The calls `line`'s pwrite makes when the kernel writes what it is given (or what `kernel` says).
    private func calls(_ line: String, kernel: (XfsIOWriteLoop.Call) -> UInt64 = { $0.lengths.reduce(0, +) }) throws -> [XfsIOWriteLoop.Call] {
        guard case .pwrite(let range, let options) = try TestParser(path: "t", name: "t").parse("steps:\nf: \(line)").steps[0].command else {
            XCTFail("not a pwrite: \(line)")
            return []
        }
        var loop = XfsIOWriteLoop(range: range, options: options)
        var made: [XfsIOWriteLoop.Call] = []
        while let call = loop.next() {
            made.append(call)
            XCTAssertLessThan(made.count, 10_000, "the loop does not end")
            loop.wrote(kernel(call))
        }
        return made
    }

    private func call(_ offset: UInt64, _ lengths: [UInt64], vectored: Bool = false) -> XfsIOWriteLoop.Call {
        XfsIOWriteLoop.Call(offset: offset, lengths: lengths, vectored: vectored)
    }

    func testPlainWritesAreOneBlockACall() throws {
        XCTAssertEqual(try calls("pwrite -b 4k 0 10000"), [call(0, [4096]), call(4096, [4096]), call(8192, [1808])])
        XCTAssertEqual(try calls("pwrite 1000 0"), [call(1000, [0])], "a zero length is one empty call")
        XCTAssertEqual(try calls("pwrite -b 0 0 4k"), [call(0, [0])], "-b 0 writes nothing")
    }

    func testAShortWriteEndsTheLoop() throws {
        XCTAssertEqual(try calls("pwrite 0 12k", kernel: { _ in 100 }), [call(0, [4096])])
    }

    func testVectorsPastTheCountAreWrittenWhole() throws {
        // xfs_io prints "wrote 14336/6144 bytes": do_pwritev() trims the second iovec and passes all four.
        XCTAssertEqual(try calls("pwrite -V 4 0 6k"), [call(0, [4096, 2048, 4096, 4096], vectored: true)])
        // A zero length still writes the buffers after the first.
        XCTAssertEqual(try calls("pwrite -V 3 -b 64k 1m 0"), [call(1 << 20, [0, 65536, 65536], vectored: true)])
        // 360 KiB in 16 KiB calls: the 23rd call is for 8 KiB and writes 16 ("wrote 376832/368640").
        let made = try calls("pwrite -V4 2336s 01320000")
        XCTAssertEqual(made.count, 23)
        XCTAssertEqual(made.last, call(1_196_032 + 22 * 16384, [4096, 4096, 4096, 4096], vectored: true))
        XCTAssertEqual(made.map { $0.lengths.reduce(0, +) }.reduce(0, +), 376_832)
    }

    func testBackwardWritesAlignToTheWholeBuffer() throws {
        // The first piece is OFF modulo the buffer (64k), not modulo the length: [90k, 100k).
        XCTAssertEqual(try calls("pwrite -B -b 64k 100k 10k"), [call(90 << 10, [10 << 10])])
        // The loop runs while the remaining count exceeds OFF-LEN: from 1m back by 64k, xfs_io writes nothing.
        XCTAssertEqual(try calls("pwrite -B 1m 64k"), [])
        XCTAssertEqual(try calls("pwrite -B 8k 8k"), [call(4096, [4096]), call(0, [4096])])
    }

    func testAnUnfilledBufferIsRefused() {
        // xfs_io's -u skips the memset: on xfs and btrfs it wrote heap pointers, different from run to run.
        XCTAssertThrowsError(try TestParser(path: "t", name: "t").parse("steps:\nf: pwrite -S 0xab -u 0 4k")) { error in
            XCTAssertEqual("\(error)", "t:2:19: pwrite: -u leaves xfs_io's buffer unfilled, so the bytes it writes are leftover memory no model can know; drop -u (or write zeros with -S 0)")
        }
    }

    func testBackwardWithAZeroBlockSizeIsRefused() {
        XCTAssertThrowsError(try TestParser(path: "t", name: "t").parse("steps:\nf: pwrite -B -b 0 4k 4k")) { error in
            XCTAssertEqual("\(error)", "t:2:17: pwrite -B with a block size of 0: xfs_io divides the offset by it and dies of SIGFPE")
        }
    }
}
