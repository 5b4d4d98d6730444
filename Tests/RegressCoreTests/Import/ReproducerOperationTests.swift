import XCTest
@testable import RegressCore

/// The shell-level mapping: each spelling of mkfs, mount, power failure, file command and check.
final class ReproducerOperationTests: XCTestCase {
    /// The operations of each command of a script, in order.
    private func operations(_ script: String) -> [[ReproducerOperation]] {
        let parsed = ShellScript.parse(script)
        var mapper = ReproducerOperationMapper(commands: parsed.commands)
        return parsed.commands.map { mapper.map($0) }
    }

    private func flat(_ script: String) -> [ReproducerOperation] { operations(script).flatMap { $0 } }

    func testMkfsSpellings() {
        XCTAssertEqual(flat("mkfs.btrfs -f -b 512M /dev/sdb > /dev/null"), [.mkfs(filesystem: "btrfs", options: ["-b", "512M"])])
        XCTAssertEqual(flat("mkfs -t xfs -f -m reflink=1 /dev/sdb"), [.mkfs(filesystem: "xfs", options: ["-m", "reflink=1"])])
        XCTAssertEqual(flat("mke2fs -t ext4 -b 1024 /dev/sdb"), [.mkfs(filesystem: "ext4", options: ["-b", "1024"])])
        XCTAssertEqual(flat("mke2fs -q /dev/sdb"), [.mkfs(filesystem: "ext2", options: [])])
        XCTAssertEqual(flat("dev=/dev/vdb\nmkfs.ext4 -F $dev"), [.mkfs(filesystem: "ext4", options: [])])
        XCTAssertEqual(flat("_scratch_mkfs -O no-holes >> $seqres.full 2>&1"), [.mkfs(filesystem: nil, options: ["-O", "no-holes"])])
        XCTAssertEqual(flat("_scratch_mkfs_sized $((512 * 1024 * 1024))"), [.mkfs(filesystem: nil, options: ["size=536870912"])])
    }

    func testMountSpellings() {
        XCTAssertEqual(flat("mount -t btrfs -o compress=zstd,noatime /dev/sdb /mnt"), [.mount(filesystem: "btrfs", options: ["compress=zstd", "noatime"])])
        XCTAssertEqual(flat("mount /dev/sdb /mnt -o nospace_cache"), [.mount(filesystem: nil, options: ["nospace_cache"])])
        XCTAssertEqual(flat("mount /mnt"), [.mount(filesystem: nil, options: [])], "one-argument mount (fstab)")
        XCTAssertEqual(flat("mount $dev /mnt"), [.mount(filesystem: nil, options: [])], "an unset device variable does not matter")
        XCTAssertEqual(flat("mount -o remount,ro /mnt"), [.remount(options: ["ro"])])
        XCTAssertEqual(flat("umount /mnt\n_scratch_unmount\n_unmount_flakey"), [.umount, .umount, .umount])
        XCTAssertEqual(flat("_scratch_mount -o compress\n_scratch_cycle_mount\n_scratch_remount ro,noatime"),
                       [.mount(filesystem: nil, options: ["compress"]), .cycleMount, .remount(options: ["ro", "noatime"])])
    }

    func testPowerFailureIdioms() {
        XCTAssertEqual(flat("_flakey_drop_and_remount"), [.powerFail])
        XCTAssertEqual(flat("'<power fail>'"), [.powerFail])
        XCTAssertEqual(flat("./src/godown /mnt\n$here/src/godown -f /mnt"), [.shutdown(flushLog: false), .shutdown(flushLog: true)])
        XCTAssertEqual(flat("_scratch_shutdown\nxfs_io -x -c shutdown /mnt"), [.shutdown(flushLog: false), .shutdown(flushLog: false)])
        XCTAssertEqual(flat("_load_flakey_table $FLAKEY_DROP_WRITES\n_load_flakey_table $FLAKEY_ALLOW_WRITES\n_load_flakey_table 2"),
                       [.flakeyDropWrites, .flakeyAllowWrites, .errorWrites])
        XCTAssertEqual(flat("_init_flakey"), [.setupIgnored("regress's emulated disk needs no dm-flakey")])
    }

    func testSyncsAndCaches() {
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nsync\nsync /mnt/foo\nsync -f /mnt\n_scratch_sync\nbtrfs filesystem sync /mnt\nbtrfs fi sync /mnt"),
                       [.mount(filesystem: nil, options: []), .sync(file: nil), .sync(file: "foo"), .syncfs, .syncfs, .syncfs, .syncfs])
        XCTAssertEqual(flat("echo 3 > /proc/sys/vm/drop_caches\nsysctl -w vm.drop_caches=3\n_scratch_drop_caches"), [.dropCaches, .dropCaches, .dropCaches])
        XCTAssertEqual(flat("echo 1 > /sys/fs/btrfs/features/x\nsysctl vm.dirty_ratio=5"),
                       [.kernelSetting(path: "/sys/fs/btrfs/features/x", value: "1"), .kernelSetting(path: "/proc/sys/vm/dirty_ratio", value: "5")])
    }

    func testXfsIOFlagsFileAndCommands() {
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nxfs_io -fc \"pwrite 0 4k\" -c fsync /mnt/foo").last,
                       .xfsIO(openFlags: ["-f"], file: "foo", commands: ["pwrite 0 4k", "fsync"]))
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nxfs_io -f -d -s -c \"pwrite -b 1m 0 1m\" /mnt/a/b").last,
                       .xfsIO(openFlags: ["-f", "-d", "-s"], file: "a/b", commands: ["pwrite -b 1m 0 1m"]))
        XCTAssertEqual(flat("$XFS_IO_PROG -c syncfs $SCRATCH_MNT"), [.xfsIO(openFlags: [], file: ".", commands: ["syncfs"])],
                       "xfs_io on the mount point itself")
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nxfs_io -c fsync /tmp/elsewhere").last, .unrecognised("/tmp/elsewhere is outside the test filesystem"))
    }

    func testShellFileCommands() {
        let script = """
        mount /dev/sdb /mnt
        cd /mnt
        touch a b
        mkdir -p d/e
        echo hello > d/e/f
        echo -n more >> /mnt/d/e/f
        cat > /mnt/g <<EOF
        text
        EOF
        cp --reflink=always /mnt/a /mnt/c
        cp /mnt/a /mnt/h
        rm -f /mnt/b
        mv /mnt/c /mnt/d/
        ln /mnt/a /mnt/hard
        ln -s a /mnt/soft
        truncate -s 1m /mnt/a
        fallocate -n -o 4096 -l 1m /mnt/a
        fallocate -p -o 0 -l 4k /mnt/a
        dd if=/dev/zero of=/mnt/z bs=4k count=2 seek=1 conv=notrunc
        """
        XCTAssertEqual(flat(script), [
            .mount(filesystem: nil, options: []),
            .setupIgnored("cd: later relative paths start from /mnt"),
            .touch("a"), .touch("b"), .mkdir("d"), .mkdir("d/e"),
            .writeText(file: "d/e/f", bytes: "hello\n", append: false),
            .writeText(file: "d/e/f", bytes: "more", append: true),
            .writeText(file: "g", bytes: "text\n", append: false),
            .copyReflink(source: "a", destination: "c"),
            .copy(source: "a", destination: "h"),
            .rm("b"), .mv(from: "c", to: "d/c"),
            .ln(target: "a", name: "hard", symbolic: false), .ln(target: "a", name: "soft", symbolic: true),
            .truncate(file: "a", size: "1m"),
            .fallocate(file: "a", flags: ["-k"], offset: "4096", length: "1m"),
            .fallocate(file: "a", flags: ["-p"], offset: "0", length: "4k"),
            .dd(input: "/dev/zero", output: "z", blockSize: "4k", count: "2", seek: "1", skip: nil, flags: ["conv=notrunc"]),
        ])
    }

    func testContentChecksBecomeVerify() {
        let script = "mount /dev/sdb /mnt\nod -t x1 /mnt/f\nhexdump -C /mnt/f\nmd5sum /mnt/f /mnt/g\n_hexdump $SCRATCH_MNT/h\n_md5_checksum $SCRATCH_MNT/h\ncat /mnt/f\n[ -f /mnt/f ] || echo missing\nstat -c %s /mnt/f"
        XCTAssertEqual(flat(script).dropFirst(), [
            .checksum(file: "f"), .checksum(file: "f"), .checksum(file: "f"), .checksum(file: "g"),
            .checksum(file: "h"), .checksum(file: "h"), .checksum(file: "f"), .checksum(file: "f"), .terminalOutput, .checksum(file: "f"),
        ])
    }

    func testFstestsHarnessAndMetadata() {
        XCTAssertEqual(flat("_begin_fstest auto quick clone"), [.metadata(key: "groups", value: "auto quick clone")])
        XCTAssertEqual(flat("_supported_fs btrfs"), [.metadata(key: "filesystems", value: "btrfs")])
        XCTAssertEqual(flat("_require_xfs_io_command \"fpunch\""), [.requireFeature("xfs_io_command fpunch")])
        XCTAssertEqual(flat(". ./common/filter"), [.setupIgnored("reads fstests' library ./common/filter")])
        XCTAssertEqual(flat("$XFS_IO_PROG -c fsync $SCRATCH_MNT/foo | _filter_xfs_io").last, .terminalOutput)
        XCTAssertEqual(flat("echo \"Silence is golden\""), [.terminalOutput])
        XCTAssertEqual(flat("set -e"), [.setupIgnored("shell option 'set -e'")])
        XCTAssertEqual(flat("rm -f $seqres.full"), [.setupIgnored("fstests' own file /fstests/results/fstests-seq.full")])
        XCTAssertEqual(flat("_check_scratch_fs"), [.setupIgnored("regress checks the filesystem after every test")])
    }

    func testWhatItDoesNotKnowItSays() {
        XCTAssertEqual(flat("setfacl -b /mnt/foo"), [.unrecognised("'setfacl' has no operation")])
        XCTAssertEqual(flat("chattr +C -e /mnt/foo"), [.chattr(file: "foo", flags: ["+C", "-e"])])
        XCTAssertEqual(flat("perl -e 'print 1'"), [.unrecognised("a perl program: its I/O is not read")])
        XCTAssertEqual(flat("xfs_io -c fsync $file"), [.unrecognised("$file not expanded (no value in the script)")])
        XCTAssertEqual(flat("mount /dev/sdb /mnt\nrm -f /mnt/x.*").last, .rmMatching("x.*"), "the files the steps made that match")
        XCTAssertEqual(flat("mount /dev/sdb /mnt\ncat /mnt/x.*").last, .unrecognised("/mnt/x.* is a pattern: the files it matches are not known"))
    }

    func testMountPointInferredWithoutAMount() {
        let mapper = ReproducerOperationMapper(commands: ShellScript.parse("xfs_io -fc \"pwrite 0 4k\" /mnt/ext4/testfile\numount /mnt/ext4").commands)
        XCTAssertEqual(mapper.mountPoints, ["/mnt/ext4"])
        let inferred = ReproducerOperationMapper(commands: ShellScript.parse("xfs_io -fc \"pwrite 0 4k\" /mnt/scratch2/a/f\ntouch /mnt/scratch2/b").commands)
        XCTAssertEqual(inferred.mountPoints, ["/mnt/scratch2"])
    }
}

/// The line accounting and its printer.
final class ImportAccountingTests: XCTestCase {
    func testEveryLineGetsADispositionAndThePrinterSaysWhy() {
        let text = """
        The bug:

          mkfs.btrfs -f /dev/sdb
          mount /dev/sdb /mnt
          xfs_io -f -c "pwrite 0 4k" \\
                 /mnt/foo
          setfacl -b /mnt/foo
          # power off here
          <power fail>

        Thanks.
        """
        let result = ImportFrontEnd(text)
        XCTAssertEqual(result.lines.map(\.number), Array(1...11))
        XCTAssertEqual(result.lines.map(\.disposition), [
            .ignored(.prose), .ignored(.blank), .translated(["filesystems: btrfs"]), .translated([]),
            .translated(["foo: pwrite 0 4k", "foo: close"]), .continues(5), .untranslated("'setfacl' has no operation"),
            .ignored(.comment), .translated(["power-cut"]), .ignored(.blank), .ignored(.prose),
        ])
        let printed = ImportReport.render(result.lines)
        XCTAssertTrue(printed.contains(" 7  UNTRANSLATED    setfacl -b /mnt/foo"), printed)
        XCTAssertTrue(printed.contains("-> foo: pwrite 0 4k"), printed)
        XCTAssertTrue(printed.hasSuffix("5 translated, 5 ignored on purpose, 1 untranslated\n"), printed)
        XCTAssertEqual(ImportReport.untranslated(result.lines, file: "mail.txt"), ["mail.txt:7: setfacl -b /mnt/foo — 'setfacl' has no operation"])
    }

    func testUnsupportedConstructsAndIncompleteScriptsAreUntranslated() {
        let result = ImportFrontEnd("#!/bin/sh\nwhile true; do\n  sync\ndone\nxfs_io -c \"pwrite 0 4k /mnt/f\n")
        XCTAssertEqual(result.lines.map(\.number), [1, 2, 3, 4, 5])
        for number in 2...5 {
            guard case .untranslated = result.lines[number - 1].disposition else { return XCTFail("line \(number): \(result.lines[number - 1].disposition)") }
        }
    }

    func testALineWithSeveralCommandsIsUntranslatedIfOneIs() {
        let result = ImportFrontEnd("#!/bin/sh\nmount /dev/sdb /mnt\nsync; setfacl -b /mnt/f; sync\n")
        XCTAssertEqual(result.lines[2].disposition, .untranslated("'setfacl' has no operation"))
        XCTAssertEqual(ImportAccounting.combine([.translated(["sync"]), .translated(["syncfs"])]), .translated(["sync", "syncfs"]))
        XCTAssertEqual(ImportAccounting.combine([.ignored("output to the terminal"), .ignored("output to the terminal")]), .ignored(.terminalOutput))
    }
}
