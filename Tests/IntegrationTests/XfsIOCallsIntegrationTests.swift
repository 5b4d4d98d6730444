import Foundation
import XCTest
import RegressCore
import RegressRunner

/// The calls regress makes for the commands whose calls it changed to xfs_io's, under strace and against
/// the real xfs_io's trace of the same command lines (the differential's machinery, Differential/): on an
/// xfs of 1 KiB blocks, pwrite's default buffer is the block (5 calls for 5120 bytes), `pwrite -V` is
/// pwritev, `pread -V` preadv of all its iovecs, `pread -B` asks lseek where the file ends (and, as xfs_io's
/// min() macro does, seeks twice to an offset within it), `reflink SRC` is FICLONE and `dedupe` FIDEDUPERANGE.
final class XfsIOCallsIntegrationTests: IntegrationTestCase {
    func testCallsOnSmallBlocksAreXfsIos() throws {
        let strace = try XCTUnwrap(Subprocess.locate("strace"), "strace is installed by scripts/install")
        let xfsIOPath = try XCTUnwrap(Subprocess.locate("xfs_io"), "xfs_io (xfsprogs) is installed by scripts/install")
        let stdbuf = try XCTUnwrap(Subprocess.locate("stdbuf"))
        let sync = try XCTUnwrap(Subprocess.locate("sync"))
        func step(_ file: String, _ words: String...) -> GeneratedStep {
            GeneratedStep(file: file, openFlags: [], words: words.flatMap { $0.split(separator: " ").map { word in
                ["f", "g"].contains(word) ? .file(String(word)) : .text(String(word))
            } })
        }
        let sequence = StepSequence(seed: 0xca11, index: 0, files: ["f", "g"], steps: [
            step("f", "pwrite 0 5120"),
            step("f", "pwrite -b 4k -V 2 0 6k"),
            step("f", "pread -B 10000 5000"),
            step("f", "pread -B 5000 3000"),
            step("f", "pread -b 1k -V 2 0 3000"),
            step("g", "reflink", "f"),
            step("g", "dedupe", "f", "0 0 4k"),
            step("g", "reflink", "f", "0 0 0"),
            step("g", "reflink", "f", "1k 0 1k"),
        ], mkfsOptions: ["-b", "size=1024"])

        let xfsIO = try XfsIOSide(executable: xfsIOPath, strace: strace, sync: sync, stdbuf: stdbuf, workDirectory: workDirectory)
            .run(sequence, on: .xfs)
        let regress = try RegressSide(options: options { $0.checkFilesystem = false; $0.checkKernelLog = false },
                                      strace: strace, workDirectory: workDirectory).run(sequence, on: .xfs)
        let calls = regress.operations.calls
        XCTAssertEqual(calls.filter { $0.hasPrefix("pwrite64(<f>, \"…\", 1024,") }.count, 5, "xfs_io's buffer is the 1 KiB block:\n" + calls.joined(separator: "\n"))
        XCTAssertTrue(calls.contains { $0.hasPrefix("pwritev(<f>,") }, "pwrite -V without flags is pwritev")
        XCTAssertFalse(calls.contains { $0.hasPrefix("pwritev2(") || $0.hasPrefix("preadv2(") })
        // read_backward's min(end, lseek(…)) is a macro: a second lseek when the offset is within the file.
        XCTAssertEqual(calls.filter { $0.hasPrefix("lseek(<f>, 10000, SEEK_SET)") }.count, 1, "past the end of file: one seek")
        XCTAssertEqual(calls.filter { $0.hasPrefix("lseek(<f>, 5000, SEEK_SET)") }.count, 2, "within the file: two seeks")
        XCTAssertEqual(calls.filter { $0.contains("FICLONE, <f>") }.count, 2, "reflink SRC and reflink SRC 0 0 0 are FICLONE")
        XCTAssertEqual(calls.filter { $0.contains("FICLONERANGE") }.count, 1)
        XCTAssertTrue(calls.contains { $0.contains("FIDEDUPERANGE") })

        let comparison = DifferentialComparison(sequence, on: .xfs, xfsIO: xfsIO, regress: regress)
        XCTAssertTrue(comparison.agreed, comparison.report)
    }
}
