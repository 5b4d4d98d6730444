import XCTest
@testable import RegressCore

/// What regress takes from xfs_io 6.1 beyond one command's calls: its argument counts (argmin and argmax of
/// each command, checked before the command reads its options), its block units (the `b` and `s` suffixes and
/// the default buffer, which XFS's geometry decides), its own `chattr`, and how the importer maps util-linux
/// fallocate's zero range.
final class XfsIOFaithfulnessTests: XCTestCase {
    static let path = "tests.d/example"

    private func parse(_ steps: String...) throws -> TestDefinition {
        try TestParser(path: Self.path, name: "example").parse("steps:\n" + steps.joined(separator: "\n") + "\n")
    }

    private func assertDiagnostic(_ steps: String..., is expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TestParser(path: Self.path, name: "example").parse("steps:\n" + steps.joined(separator: "\n") + "\n"),
                             file: file, line: line) { error in
            XCTAssertEqual((error as? Diagnostic)?.description, expected, file: file, line: line)
        }
    }

    func testArgumentCountsAreXfsIos() {
        // The words after the command, options included: `-k -k 0 4k` is four, fzero takes two or three.
        assertDiagnostic("f: fzero -k -k 0 4k", is: "\(Self.path):2:4: bad argument count 4 to fzero, expected between 2 and 3 arguments (as xfs_io counts them)")
        assertDiagnostic("f: fpunch 0 4k 8k", is: "\(Self.path):2:4: bad argument count 3 to fpunch, expected 2 arguments (as xfs_io counts them)")
        assertDiagnostic("f: truncate", is: "\(Self.path):2:4: bad argument count 0 to truncate, expected 1 arguments (as xfs_io counts them)")
        assertDiagnostic("f: pwrite 0 4k", "f: fsync -x", is: "\(Self.path):3:4: bad argument count 1 to fsync, expected 0 arguments (as xfs_io counts them)")
        assertDiagnostic("f: pwrite 0", is: "\(Self.path):2:4: bad argument count 1 to pwrite, expected at least 2 arguments (as xfs_io counts them)")
        assertDiagnostic("f: pwrite 0 4k", "g: dedupe f 0 0", is: "\(Self.path):3:4: bad argument count 3 to dedupe, expected at least 4 arguments (as xfs_io counts them)")
        // The count excludes the file, the open flags and the expectation.
        XCTAssertNoThrow(try parse("f: -d fzero -k 0 4k expect EINVAL"))
        XCTAssertNoThrow(try parse("f: pwrite 0 4k", "f: fsync allow EIO"))
    }

    func testEveryXfsIOCommandDeclaresItsCount() {
        // regress's own commands (chattr is chattr(1), expect-extents is filefrag's count) have none.
        let own: Set<String> = ["chattr", "expect-extents"]
        for spec in CommandTable.all where spec.target == .file && !own.contains(spec.name) {
            XCTAssertNotNil(spec.arguments, "\(spec.name) is xfs_io's and must declare xfs_io's argument count")
        }
    }

    func testBlockUnitsComeFromTheFilesystem() throws {
        let test = try parse("f: pwrite 0 5120", "f: pwrite -b 2b 1s 2b")
        let small = BlockUnits(block: 1024, sector: 4096)
        guard case .pwrite(_, let standard) = test.steps[0].command,
              case .pwrite(_, let xfs) = try test.steps[0].resolved(in: small).command else { return XCTFail("not a pwrite") }
        XCTAssertEqual(standard.blockSize, 4096)
        XCTAssertEqual(xfs.blockSize, 1024, "xfs_io's default buffer is the filesystem block: 5 calls for 5120 bytes")
        guard case .pwrite(let range, let options) = try test.steps[1].resolved(in: small).command else { return XCTFail("not a pwrite") }
        XCTAssertEqual(range, ByteRange(offset: 4096, length: 2048))
        XCTAssertEqual(options.blockSize, 2048)
        XCTAssertEqual(try test.steps[1].resolved(in: small).location, test.steps[1].location)
        XCTAssertEqual(try test.steps[1].resolved(in: .standard), test.steps[1])
    }

    func testXflagsIsXfsIosChattr() throws {
        let test = try parse("f: xflags +C -x", "f: xflags +Ep", "f: pwrite 0 1")
        let letter = { (c: Character) in XFlags.letters.first { $0.0 == c }!.1 }
        XCTAssertEqual(test.steps[0].command, .xflags(add: letter("C"), remove: letter("x")))
        XCTAssertEqual(letter("C").rawValue, 0x10000, "FS_XFLAG_COWEXTSIZE, not chattr(1)'s FS_NOCOW_FL")
        XCTAssertEqual(test.steps[1].command, .xflags(add: [letter("E"), letter("p")], remove: []))
        assertDiagnostic("f: xflags +q", is: "\(Self.path):2:11: xflags: unknown flag 'q' (known: rpiasAdtPneEfSxC)")
        assertDiagnostic("f: xflags -R +C", is: "\(Self.path):2:11: xflags: -R recurses through a directory as xfs_io's chattr does; a step changes one file")
        assertDiagnostic("f: xflags", is: "\(Self.path):2:4: bad argument count 0 to xflags, expected at least 1 arguments (as xfs_io counts them)")
    }

    func testBackwardReadWithoutABufferIsRefused() {
        assertDiagnostic("f: pwrite 0 4k", "f: pread -B -b 0 4k 4k", is: "\(Self.path):3:16: pread -B with a block size of 0: xfs_io divides the offset by it and dies of SIGFPE")
    }

    func testImporterMapsZeroRangeAndXfsIOsChattr() throws {
        let script = """
        _scratch_mkfs > /dev/null 2>&1
        _scratch_mount
        $XFS_IO_PROG -f -c "pwrite 0 64k" -c "chattr +C" $SCRATCH_MNT/a
        fallocate -z -o 4096 -l 8192 $SCRATCH_MNT/a
        fallocate -n -z -o 0 -l 4096 $SCRATCH_MNT/a
        fallocate -n -p -o 0 -l 4096 $SCRATCH_MNT/a
        chattr +C $SCRATCH_MNT/a
        """
        let output = ReproducerImporter().importScript(script, name: "example")
        let text = try XCTUnwrap(output.text)
        for line in ["a: xflags +C", "a: fzero 4096 8192", "a: fzero -k 0 4096", "a: falloc -p 0 4096", "a: chattr +C"] {
            XCTAssertTrue(text.contains("\n" + line + "\n"), "missing '\(line)' in\n\(text)")
        }
        XCTAssertEqual(output.untranslated, [])
        XCTAssertNoThrow(try TestParser(path: "example", name: "example").parse(text))
    }
}
