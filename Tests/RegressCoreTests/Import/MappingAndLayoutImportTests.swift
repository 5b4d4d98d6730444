import XCTest
@testable import RegressCore

/// The importer's mapping of mmap reproducers, extent-count checks, extent-size hints and fstests'
/// requirements onto the commands and `requires:` features of the test language.
final class MappingAndLayoutImportTests: XCTestCase {
    private func flat(_ script: String) -> [ReproducerOperation] {
        let parsed = ShellScript.parse(script)
        var mapper = ReproducerOperationMapper(commands: parsed.commands)
        return parsed.commands.flatMap { mapper.map($0) }
    }

    func testOneXfsIoRunEndsItsMappingAndDropsItsClose() {
        // fstests' generic/029, first case, as xfs_io runs it.
        let script = """
        mount /dev/sdb /mnt
        xfs_io -t -f -c "truncate 5120" -c "pwrite -S 0x58 0 5120" -c "mmap -rw 0 5120" -c "mwrite -S 0x5a 2048 3072" \\
            -c "truncate 2048" -c "truncate 5120" -c "mwrite -S 0x59 2048 3072" -c "close" /mnt/testfile
        """
        XCTAssertEqual(flat(script).last, .xfsIO(openFlags: ["-t", "-f"], file: "testfile", commands: [
            "truncate 5120", "pwrite -S 0x58 0 5120", "mmap -rw 0 5120", "mwrite -S 0x5a 2048 3072",
            "truncate 2048", "truncate 5120", "mwrite -S 0x59 2048 3072", "munmap"]))
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nxfs_io -c 'mm -w 0 4k' -c 'mw 0 4k' -c 'ms -s' -c 'mu' /mnt/f").last,
                       .xfsIO(openFlags: [], file: "f", commands: ["mmap -w 0 4k", "mwrite 0 4k", "msync -s", "munmap"]),
                       "xfs_io's short names, and no second munmap")
    }

    func testFiemapThatOnlyPrintsIsSaidSo() {
        // The printed map is the reproducer's check: the line is untranslated, with the way to write one.
        let why = "xfs_io 'fiemap -v' prints the extent map for a person or a golden output to judge: write 'F: expect-extents N' with the count the fixed kernel gives"
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nxfs_io -c 'pwrite 0 4k' -c 'fiemap -v' /mnt/f").last, .unrecognised(why))
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nxfs_io -c 'fiemap -v' /mnt/f").last, .unrecognised(why))
    }

    func testFilefragPipedIntoItsCountIsAnExtentCheck() {
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nfilefrag -s /mnt/f | grep -q \"1 extent found\"").dropFirst(),
                       [.extentCount(file: "f", count: 1, sync: true), .terminalOutput])
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nfilefrag /mnt/f | grep '3 extents found'").dropFirst().first,
                       .extentCount(file: "f", count: 3, sync: false))
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nfilefrag -v /mnt/f").last,
                       .unrecognised("filefrag prints the extent count for a person to judge: write 'F: expect-extents N' with the count the fixed kernel gives"))
    }

    func testFstestsRequirementsBecomeTheLanguagesFeatures() {
        XCTAssertEqual(flat("_require_scratch_reflink\n_require_cp_reflink\n_require_scratch_dedupe"),
                       [.requireFeature("reflink"), .requireFeature("reflink"), .requireFeature("dedupe")])
        XCTAssertEqual(flat("_require_quota\n_require_xfs_quota\n_require_scratch_ext4_feature inline_data"),
                       [.requireFeature("quota"), .requireFeature("quota"), .requireFeature("inline_data")])
        XCTAssertEqual(flat("_require_xfs_io_command \"cowextsize\"\n_require_xfs_io_command extsize\n_require_xfs_io_command fcollapse"),
                       [.requireFeature("cowextsize"), .requireFeature("extsize"), .requireFeature("collapse")])
        XCTAssertEqual(flat("_require_scratch_ext4_feature bigalloc"), [.requireFeature("scratch_ext4_feature bigalloc")],
                       "a feature the language has no name for stays the harness's")
    }

    func testAnImportedTestHasOneRequiresLineAndParses() throws {
        let script = """
        _require_scratch_reflink
        _require_quota
        _scratch_mkfs > /dev/null 2>&1
        _scratch_mount
        $XFS_IO_PROG -f -c "pwrite 0 64k" $SCRATCH_MNT/a
        $XFS_IO_PROG -f -c "reflink $SCRATCH_MNT/a" -c "cowextsize 1m" $SCRATCH_MNT/b
        filefrag -s $SCRATCH_MNT/b | grep "1 extent found"
        """
        let output = ReproducerImporter().importScript(script, name: "example")
        let text = try XCTUnwrap(output.text)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("requires:") }, ["requires: reflink quota"])
        XCTAssertTrue(text.contains("\nb: cowextsize 1m\n"), text)
        XCTAssertTrue(text.contains("\nb: expect-extents -s 1\n"), text)
        XCTAssertEqual(output.untranslated, [])
        let test = try TestParser(path: "example", name: "example").parse(text)
        XCTAssertEqual(test.requires, [.reflink, .quota])
    }
}
