import XCTest
@testable import RegressCore

/// The commands of issue 10's language gaps: xfs_io's mmap/mwrite/msync/munmap, extent counts, extent-size
/// hints and the new `requires:` features: how they parse, what the parser refuses before anything runs,
/// and what they do to the content model.
final class MappingAndLayoutCommandTests: XCTestCase {
    static let path = "tests.d/example"

    private func parse(_ lines: String...) throws -> TestDefinition {
        try TestParser(path: Self.path, name: "example").parse("steps:\n" + lines.joined(separator: "\n"))
    }

    private func commands(_ lines: String...) throws -> [Command] {
        try TestParser(path: Self.path, name: "example").parse("steps:\n" + lines.joined(separator: "\n")).steps.map(\.command)
    }

    private func assertDiagnostic(_ source: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TestParser(path: Self.path, name: "example").parse(source), file: file, line: line) { error in
            XCTAssertEqual((error as? Diagnostic)?.description, expected, file: file, line: line)
        }
    }

    // MARK: mmap, mwrite, msync, munmap

    func testMappingCommandsParseAsXfsIoReadsThem() throws {
        let parsed = try commands("f: pwrite 0 64k", "f: mmap -rw 0 64k", "f: mwrite 4k 8k", "f: mwrite -r -S 0x41 0 4k",
                                  "f: mwrite -S -1", "f: msync -s 0 8k", "f: msync -a -i", "f: munmap", "f: mmap -r 64k 4k")
        var readWrite = MapOptions()
        readWrite.read = true
        readWrite.write = true
        XCTAssertEqual(parsed[1], .mmap(ByteRange(offset: 0, length: 64 << 10), readWrite))
        XCTAssertEqual(parsed[2], .mwrite(ByteRange(offset: 4096, length: 8192), MapWriteOptions()), "xfs_io's default seed is 'X'")
        XCTAssertEqual(MapWriteOptions().pattern, 0x58)
        var backward = MapWriteOptions()
        backward.backward = true
        backward.pattern = 0x41
        XCTAssertEqual(parsed[3], .mwrite(ByteRange(offset: 0, length: 4096), backward))
        guard case .mwrite(nil, let wrapped) = parsed[4] else { return XCTFail("no range: the whole mapping") }
        XCTAssertEqual(wrapped.pattern, 0xff, "strtol's -1, stored as a char")
        XCTAssertEqual(parsed[5], .msync(ByteRange(offset: 0, length: 8192), .sync))
        XCTAssertEqual(parsed[6], .msync(nil, [.async, .invalidate]), "xfs_io ORs msync's flags")
        XCTAssertEqual(parsed[7], .munmap)
        guard case .mmap(_, let readOnly) = parsed[8] else { return XCTFail() }
        XCTAssertFalse(readOnly.writable)
        XCTAssertTrue(MapOptions().writable && MapOptions().readable && MapOptions().executable, "no option: all protections, as xfs_io")
    }

    func testTheParserRefusesWhatXfsIoWouldRefuseOrDieOf() {
        assertDiagnostic("steps:\nf: pwrite 0 8k\nf: mwrite 0 4k",
                         "tests.d/example:3:1: mwrite: 'f' has no mapping: map it first with 'f: mmap -w OFF LEN'")
        assertDiagnostic("steps:\nf: mmap 4k 8k\nf: mwrite 0 4k",
                         "tests.d/example:3:11: mwrite: range 0+4096 is outside the mapping 4096+8192")
        assertDiagnostic("steps:\nf: mmap 0 8k\nf: mwrite 4k 8k",
                         "tests.d/example:3:11: mwrite: range 4096+8192 is outside the mapping 0+8192")
        assertDiagnostic("steps:\nf: mmap -r 0 8k\nf: mwrite 0 4k",
                         "tests.d/example:3:1: mwrite: 'f' is mapped without -w (xfs_io would die of SIGSEGV): map it with 'mmap -w'")
        assertDiagnostic("steps:\nf: mmap 0 8k\nf: msync -s 512 4k\nf: pwrite 0 1",
                         "tests.d/example:3:13: msync: offset 512 is not page aligned in the mapping (msync(2) needs a page-aligned address)")
        assertDiagnostic("steps:\nf: mmap 0 8k\nf: mmap 0 4k",
                         "tests.d/example:3:1: 'f' is already mapped: regress keeps one mapping a file ('f: munmap' first)")
        assertDiagnostic("steps:\nf: pwrite 0 8k\nf: munmap",
                         "tests.d/example:3:1: munmap: 'f' has no mapping: map it first with 'f: mmap -w OFF LEN'")
        assertDiagnostic("steps:\nf: mmap 0 0\nf: pwrite 0 1", "tests.d/example:2:11: mmap: a mapping of length 0 (mmap(2) refuses it)")
        assertDiagnostic("steps:\nmmap 0 8k", "tests.d/example:2:1: 'mmap' needs a file: write it as 'FILE: mmap …'")
        assertDiagnostic("steps:\nf: mmap 0 8k\nf: mwrite -S zz 0 4k", "tests.d/example:3:14: mwrite: bad seed 'zz' (a number, as strtol reads it)")
    }

    func testAnUnmountEndsEveryMapping() {
        assertDiagnostic("steps:\nf: mmap 0 8k\nremount\nf: mwrite 0 4k",
                         "tests.d/example:4:1: mwrite: 'f' has no mapping: map it first with 'f: mmap -w OFF LEN'")
        assertDiagnostic("steps:\nf: mmap 0 8k\npower-cut\nf: msync",
                         "tests.d/example:4:1: msync: 'f' has no mapping: map it first with 'f: mmap -w OFF LEN'")
        XCTAssertNoThrow(try parse("f: mmap 0 8k", "f: munmap", "f: mmap 0 4k", "f: mwrite"), "a file may be mapped again after munmap")
    }

    func testMwriteIsADataStepAndTheOthersAreNot() throws {
        XCTAssertEqual(CommandTable.spec("mwrite")?.category, .data)
        XCTAssertEqual(CommandTable.spec("mmap")?.category, .mapping)
        XCTAssertEqual(CommandTable.spec("munmap")?.category, .mapping)
        XCTAssertEqual(CommandTable.spec("msync")?.category, .durability)
        assertDiagnostic("steps:\nf: mmap 0 4k\nf: msync\nf: munmap",
                         "tests.d/example:2:1: the test has no data operation (none of falloc, fpunch, fzero, fcollapse, finsert, funshare, pwrite, truncate, reflink, dedupe, swapext, mwrite, mkdir, rename, link, unlink): it would exercise nothing")
    }

    // MARK: expect-extents, extsize, cowextsize

    func testExtentCountsAndHintsParse() throws {
        let parsed = try commands("f: pwrite 0 1m", "f: expect-extents 1", "f: expect-extents -s 0x2", "g: extsize 1m",
                                  "mkdir d", "d: cowextsize 64k")
        XCTAssertEqual(parsed[1], .expectExtents(1, syncFirst: false))
        XCTAssertEqual(parsed[2], .expectExtents(2, syncFirst: true))
        XCTAssertEqual(parsed[3], .extentSizeHint(1 << 20, copyOnWrite: false), "extsize makes its file, as xfs_io -f")
        XCTAssertEqual(parsed[5], .extentSizeHint(64 << 10, copyOnWrite: true), "a directory's hint is inherited")
        assertDiagnostic("steps:\nf: extsize 4g", "tests.d/example:2:12: extsize: 4g does not fit the kernel's 32-bit hint")
        assertDiagnostic("steps:\nf: pwrite 0 1\nf: expect-extents", "tests.d/example:3:18: expect-extents: missing extent count")
        assertDiagnostic("steps:\nf: pwrite 0 1\ng: expect-extents 1", "tests.d/example:3:1: unknown file 'g': no earlier step creates it")
        assertDiagnostic("steps:\nf: cowextsize -R 1m", "tests.d/example:2:15: bad size '-R'")
    }

    func testExtentsAreCountedAsFilefragCountsThem() {
        func extent(_ logical: UInt64, _ physical: UInt64, _ length: UInt64) -> ReportedExtent {
            ReportedExtent(logical: logical << 12, physical: physical << 12, length: length << 12)
        }
        XCTAssertEqual(ExtentCount.filefrag([]), 0, "no extent: an empty or sparse file")
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 100, 8)]), 1)
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 100, 8), extent(8, 108, 8)]), 1, "FIEMAP's records of one disk extent are one extent")
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 100, 8), extent(8, 200, 8)]), 2)
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 100, 8), extent(16, 116, 8)]), 1,
                       "a hole punched into an extent leaves the rest where it was: still one extent")
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 100, 8), extent(16, 108, 8)]), 1,
                       "nor does a hole between records that follow each other on disk")
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 100, 8), extent(16, 130, 8)]), 2)
        XCTAssertEqual(ExtentCount.filefrag([extent(4, 100, 1)]), 1, "a file whose first extent is not at offset 0")
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 100, 1), extent(1, 50, 1), extent(2, 51, 1), extent(3, 300, 1)]), 3)
        // The layout the punch integration test makes on ext4 (filefrag -v: 0..63 at 33280, 80..255 at 33360,
        // 257..511 at 33537): filefrag says 1 extent found.
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 33280, 64), extent(80, 33360, 176), extent(257, 33537, 255)]), 1)
        // Delayed allocation without -s: no disk address yet (physical 0); such records count one each.
        XCTAssertEqual(ExtentCount.filefrag([extent(0, 0, 1), extent(4, 0, 1)]), 2)
    }

    // MARK: the content model

    func testMwriteChangesContentAsPwriteDoesAndMsyncMakesOnlyItsRangeDurable() {
        var model = ContentModel()
        model.apply(.write(file: "f", byte: 0x11, range: ByteRange(offset: 0, length: 64 << 10), durable: false))
        model.apply(.makeDurable(file: "f"))
        // What the executor returns for `f: mwrite -S 0x22 4k 8k`, then `f: msync -s 4k 8k`.
        model.apply(.write(file: "f", byte: 0x22, range: ByteRange(offset: 4096, length: 8192), durable: false))
        model.apply(.write(file: "f", byte: 0x33, range: ByteRange(offset: 32768, length: 4096), durable: false))
        model.apply(.makeRangeDurable(file: "f", range: ByteRange(offset: 4096, length: 8192)))
        var durable = ExtentMap()
        durable.write(0x11, over: 0..<(64 << 10))
        durable.write(0x22, over: 4096..<12288)
        XCTAssertEqual(model.files["f"]?.durable, durable, "the synced range is durable, the store at 32k is not")
        model.apply(.powerCut)
        var latest = durable
        latest.write(0x33, over: 32768..<36864)
        XCTAssertEqual(model.expected(for: "f"), .either(old: durable, new: latest))
    }

    func testMsyncOfANeverSyncedFileMakesTheRangeAndTheSizeReachingItDurable() {
        var model = ContentModel()
        model.apply(.write(file: "f", byte: 0x44, range: ByteRange(offset: 0, length: 8192), durable: false))
        // The synced range reaches past the end of the file (msync rounds to pages): only the file's bytes count.
        model.apply(.makeRangeDurable(file: "f", range: ByteRange(offset: 4096, length: 1 << 20)))
        var durable = ExtentMap()
        durable.resize(to: 4096)
        durable.write(0x44, over: 4096..<8192)
        XCTAssertEqual(model.files["f"]?.durable, durable)
        XCTAssertEqual(model.files["f"]?.durable?.size, 8192, "no durable size past the end of the file")
    }

    // MARK: requires

    func testNewRequirementsParseAndATypoIsAnErrorAtItsColumn() throws {
        let test = try TestParser(path: Self.path, name: "example")
            .parse("requires: quota inline_data compression extsize cowextsize\nsteps:\nf: pwrite 0 1")
        XCTAssertEqual(test.requires, [.quota, .inlineData, .compression, .extsize, .cowextsize])
        assertDiagnostic("requires: quota inlinedata\nsteps:\nf: pwrite 0 1",
                         "tests.d/example:1:17: unknown requirement 'inlinedata' (known: reflink, dedupe, collapse, insert, nocow, unshare, quota, inline_data, compression, extsize, cowextsize)")
    }

    func testWhichFilesystemHasWhichFeature() {
        XCTAssertEqual(FilesystemKind.allCases.filter { $0.features.contains(.quota) }, [.xfs, .ext4])
        XCTAssertEqual(FilesystemKind.allCases.filter { $0.features.contains(.inlineData) }, [.ext4])
        XCTAssertEqual(FilesystemKind.allCases.filter { $0.features.contains(.compression) }, [.btrfs])
        XCTAssertEqual(FilesystemKind.allCases.filter { $0.features.contains(.cowextsize) }, [.xfs])
        XCTAssertEqual(FilesystemKind.allCases.filter { $0.features.contains(.extsize) }, [.xfs])
    }

    func testAMissingFeatureIsASkipWithItsReasonAndAFailedCheckIsAFailure() {
        let skip = Decision([.notApplicable("requires quota: the kernel's xfs has no quota support")])
        XCTAssertEqual(skip.verdict, .skip)
        XCTAssertEqual(skip.reasons, ["requires quota: the kernel's xfs has no quota support"])
        let location = SourceLocation(file: Self.path, line: 7, column: 1)
        let check = Decision([.stepFailed(StepFailure(location: location, step: "expect-extents f", got: nil, expected: "1", found: "f has 3 extents"))])
        XCTAssertEqual(check.verdict, .fail)
        XCTAssertEqual(check.reasons, ["f has 3 extents, expected 1 at tests.d/example:7:1"])
    }
}
