import XCTest
@testable import RegressCore

/// The importer on fstests' own tests (kdave/xfstests at 63a29724): each test feeds a snippet of a real
/// test, cited by its path, and checks that the test's check survives the import.
final class FstestsImportTests: XCTestCase {
    private func dispositions(_ lines: [ImportLine]) -> [Int: ImportLine.Disposition] {
        Dictionary(uniqueKeysWithValues: lines.map { ($0.number, $0.disposition) })
    }

    private func why(_ disposition: ImportLine.Disposition?) -> String? {
        if case .untranslated(let why)? = disposition { return why }
        return nil
    }

    // MARK: - No silent drops

    /// tests/generic/676: the whole test is one program run at column 0. A shell program has no prose.
    func testAProgramLineAtColumnZeroOfAShellScriptIsACommand() {
        let text = """
        #! /bin/bash
        # SPDX-License-Identifier: GPL-2.0
        #
        # FS QA Test 676
        #
        . ./common/preamble
        _begin_fstest auto quick

        files=4000
        seed=$RANDOM

        mkdir $dir
        echo "Using seed $seed" >> $seqres.full
        $here/src/t_readdir_3 $dir $files $seed >> $seqres.full

        status=0
        exit
        """
        let lines = ImportFrontEnd(text).lines
        for line in lines {
            if case .ignored(.prose) = line.disposition { XCTFail("line \(line.number) taken for prose: \(line.text)") }
        }
        XCTAssertNotNil(why(dispositions(lines)[14]), "the program line is a command, translated or UNTRANSLATED")
        XCTAssertEqual(dispositions(lines)[7], .ignored(.setup("groups: auto quick (test metadata)")))
    }

    /// A subshell at column 0 of a mail is a command too (tests/generic/483 writes `( … ) | filter` the same way).
    func testASubshellAtColumnZeroIsACommand() {
        let text = """
        The reproducer:

        mkfs.xfs -f /dev/sdb
        mount /dev/sdb /mnt
        (cd /mnt && xfs_io -f -c "pwrite 0 4k" foo)
        umount /mnt
        """
        let lines = ImportFrontEnd(text).lines
        XCTAssertEqual(ScriptFinder.find(in: text).lines[4].kind, .script)
        if case .ignored(.prose) = dispositions(lines)[5] { XCTFail("the subshell was taken for prose") }
    }

    /// The account stays one line per input line: a word that holds a newline is written `\n`, and the
    /// steps of an unrolled loop are folded (tests/generic/415 made a 1.58 MB line).
    func testTheAccountEscapesNewlinesAndFoldsAnUnrolledLoop() {
        let text = """
        mkfs.xfs -f /dev/sdb
        mount /dev/sdb /mnt
        for i in $(seq 0 99); do xfs_io -f -c "pwrite $((i * 4096)) 4096" /mnt/foo; done
        [ "a
        b" -x /mnt/foo ]
        """
        let report = ImportReport.render(ImportFrontEnd(text).lines)
        let lines = report.split(separator: "\n")
        XCTAssertEqual(lines.count, 5 + 1, "one line an input line, and the summary")
        XCTAssertTrue(lines[2].contains("(200 steps in all)"), String(lines[2]))
        XCTAssertLessThan(lines[2].count, 400)
        XCTAssertTrue(lines[3].contains("the test 'a\\nb -x /mnt/foo' has no operation"), String(lines[3]))
        XCTAssertEqual(ImportAccounting.folded(["a 1", "a 2", "a 3", "a 4"]), "a 1; a 2; and 2 more like them")
    }

    /// xfs_io opens its file once for all its `-c` commands and closes it when it exits: each program's
    /// steps end with `F: close` for the files it used (tests/generic/059's `$XFS_IO_PROG -c "fpunch …" -c
    /// "fsync"`), after an explicit `-c close` not again, and not for chattr's or filefrag's own open.
    func testEachProgramClosesTheFilesItOpened() {
        let text = """
        mkfs.xfs -f /dev/sdb
        mount /dev/sdb /mnt
        xfs_io -f -c "pwrite -S 0x22 -b 16k 0 16k" -c "fsync" /mnt/foo
        xfs_io -c "fpunch 8000 4k" -c "close" /mnt/foo
        cp --reflink=always /mnt/foo /mnt/bar
        chattr +A /mnt/bar
        echo ab > /mnt/baz
        """
        let frontEnd = ImportFrontEnd(text)
        XCTAssertEqual(frontEnd.renderedLines.filter { !$0.hasPrefix("filesystems") }, [
            "foo: pwrite -S 0x22 -b 16k 0 16k", "foo: fsync", "foo: close",
            "foo: fpunch 8000 4k", "foo: close",
            "bar: reflink foo", "bar: close",
            "bar: chattr +A",
            "baz: truncate 0", "baz: pwrite -S 0x61 0 1", "baz: pwrite -S 0x62 1 1", "baz: pwrite -S 0xa 2 1", "baz: close",
        ])
        XCTAssertEqual(StepRendering.closes(["a: pwrite 0 1", "a: close", "b: -d pwrite 0 4k", "a: pread 0 1"]), ["b: close", "a: close"])
    }

    // MARK: - Bounded unrolling

    /// tests/xfs/227: loops nested four deep around a function that grows a string (`cmd_str="-c … $cmd_str"`).
    /// The total budget, not each loop's own bound, stops it, with a clear line, and the rest of the script
    /// is still read.
    func testNestedLoopsStopAtTheTotalBudget() {
        let text = """
        create_data()
        {
            local blocks=$1
            local cmd_str
            for off in `seq $blocks -1 0`; do
                cmd_str="-c \\"resvsp $((off * 4096)) 4096\\" $cmd_str"
            done
            xfs_io -f $cmd_str $2
        }
        for n in `seq 4 1 12`; do
            for i in `seq 5 1 15`; do
                for j in `seq 5 1 20`; do
                    create_data $j /mnt/scratch/t.$i.$j
                done
            done
        done
        xfs_io -f -c "pwrite 0 4k" /mnt/scratch/after
        """
        var budget = ShellScript.UnrollBudget()
        budget.commands = 500
        budget.bodies = 100_000
        let script = ShellScript.parse(text, budget: budget)
        XCTAssertEqual(script.commands.map { $0.argv.last }, ["/mnt/scratch/after"], "the loop makes no command; the line after it does")
        XCTAssertEqual(script.unsupported[10], "too large to unroll: more than 500 commands")
        XCTAssertEqual(script.unsupported[8], "too large to unroll: more than 500 commands", "the lines of the commands it made say so too")
    }

    /// `local NAME` starts the name empty, so a string grown in a function does not grow across calls.
    func testLocalWithoutAValueStartsEmpty() {
        let text = """
        f()
        {
            local s
            s="x$s"
            echo $s > /mnt/scratch/out
        }
        f
        f
        """
        let script = ShellScript.parse(text)
        XCTAssertEqual(script.commands.map(\.argv), [["echo", "x"], ["echo", "x"]])
    }

    // MARK: - Golden output

    /// tests/btrfs/113 and its .out: the clone must fail (`clone failed: Invalid argument`); the import
    /// must not make it a clone that is expected to succeed.
    func testAnErrorOfTheGoldenOutputBecomesTheStepsExpectation() {
        let test = """
        #! /bin/bash
        . ./common/preamble
        _begin_fstest auto quick compress clone
        _require_scratch
        _require_cloner
        _scratch_mkfs >>$seqres.full 2>&1
        _scratch_mount "-o compress"
        $XFS_IO_PROG -f -c "pwrite -S 0xa1 0 128"   \\
                -c "pwrite -S 0x2a 128 384" \\
                $SCRATCH_MNT/foo | _filter_xfs_io
        $XFS_IO_PROG -f -c "pwrite -S 0xbb 0 256" $SCRATCH_MNT/bar | _filter_xfs_io
        sync
        $XFS_IO_PROG -c "truncate 128" $SCRATCH_MNT/foo
        $CLONER_PROG -s 0 -d 0 -l 0 $SCRATCH_MNT/foo $SCRATCH_MNT/bar \\
            | _filter_btrfs_cloner_error
        echo "File bar's content after the clone operation:"
        od -t x1 $SCRATCH_MNT/bar
        status=0
        exit
        """
        let golden = """
        QA output created by 113
        wrote 128/128 bytes at offset 0
        XXX Bytes, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)
        wrote 384/384 bytes at offset 128
        XXX Bytes, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)
        wrote 256/256 bytes at offset 0
        XXX Bytes, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)
        clone failed: Invalid argument
        File bar's content after the clone operation:
        0000000 bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb
        *
        0000400

        """
        let output = ReproducerImporter().importScript(test, name: "btrfs/113", inputPath: "tests/btrfs/113", goldenOutput: golden)
        let text = try! XCTUnwrap(output.text)
        XCTAssertTrue(text.contains("\nbar: reflink foo 0 0 0 expect EINVAL\nbar: close\n"), text)
        XCTAssertEqual(dispositions(output.goldenLines)[8], .translated(["bar: reflink foo 0 0 0 expect EINVAL"]))
        XCTAssertEqual(dispositions(output.lines)[14], .translated(["bar: reflink foo 0 0 0 expect EINVAL", "bar: close"]), "the input line's account shows it too")
        XCTAssertTrue(output.untranslatedGoldenLines.isEmpty)
        // Without the golden output the clone is expected to succeed: what the oracle is for.
        XCTAssertTrue(ReproducerImporter().importScript(test, name: "btrfs/113").text!.contains("\nbar: reflink foo 0 0 0\nbar: close\n"))
    }

    /// tests/generic/518's .out (`fallocate: Invalid argument`): a failure the import has no step for is
    /// reported with its line of the golden output, never dropped.
    func testAFailureWithNoStepIsUntranslatedInTheGoldenAccount() {
        let golden = GoldenOutput("QA output created by 518\nfallocate: Invalid argument\npwrite: No space left on device\n")
        XCTAssertEqual(golden.failures.map(\.errno), [.EINVAL, .ENOSPC])
        XCTAssertEqual(golden.failures.map(\.commands), [["falloc", "fpunch", "fzero", "fcollapse", "finsert", "funshare"], ["pwrite"]])
        XCTAssertEqual(golden.match(["foo: pwrite 0 4k", "foo: fpunch 0 1", "foo: pwrite 0 1g allow ENOSPC"]), [1, 2])
        XCTAssertEqual(golden.match(["foo: pwrite 0 1g"]), [nil, 0], "in order: the failure before the pwrite has no step")
        XCTAssertEqual(GoldenOutput.expecting(.ENOSPC, "foo: pwrite 0 1g   allow ENOSPC"), "foo: pwrite 0 1g expect ENOSPC")
        XCTAssertEqual(GoldenOutput.failure("XFS_IOC_FILE_EXTENT_SAME: Invalid argument", number: 1)?.commands, ["dedupe"])
        XCTAssertEqual(GoldenOutput.failure("touch: cannot touch 'SCRATCH_MNT/foo': Read-only file system", number: 1)?.errno, .EROFS)
        XCTAssertNil(GoldenOutput.failure("wrote 4096/4096 bytes at offset 0", number: 1))

        let script = "mkfs.xfs -f /dev/sdb\nmount /dev/sdb /mnt\nxfs_io -f -c \"pwrite 0 4k\" /mnt/foo\n"
        let output = ReproducerImporter().importScript(script, name: "x", goldenOutput: "fallocate: Invalid argument\n")
        XCTAssertEqual(why(dispositions(output.goldenLines)[1]), "the golden output reports a failure (EINVAL) that no step of the import makes (falloc/fpunch/fzero/fcollapse/finsert/funshare)")
    }

    // MARK: - Power failures

    /// `_flakey_drop_and_remount` (common/dmflakey) written out with dmsetup, as a mail does: the unmount
    /// under dropped writes is a power cut, never a clean remount.
    func testThePlainDmFlakeySequenceIsAPowerCut() {
        let text = """
        mkfs.btrfs -f /dev/sdb
        dmsetup create flakey-test --table "0 $SIZE flakey /dev/sdb 0 180 0"
        mount /dev/mapper/flakey-test /mnt
        xfs_io -f -c "pwrite 0 64k" -c fsync /mnt/foo
        dmsetup suspend flakey-test
        dmsetup load flakey-test --table "0 $SIZE flakey /dev/sdb 0 0 180 1 drop_writes"
        dmsetup resume flakey-test
        umount /mnt
        dmsetup load flakey-test --table "0 $SIZE flakey /dev/sdb 0 180 0"
        dmsetup resume flakey-test
        mount /dev/mapper/flakey-test /mnt
        md5sum /mnt/foo
        """
        let frontEnd = ImportFrontEnd(text)
        XCTAssertEqual(frontEnd.renderedLines, ["filesystems: btrfs", "foo: pwrite 0 64k", "foo: fsync", "foo: close", "power-cut", "verify foo"])
        XCTAssertEqual(ImportReport.summary(frontEnd.lines).untranslated, 0)
    }

    /// fstests' own helpers spelled out (tests/generic/321's `_load_flakey_table $FLAKEY_DROP_WRITES`,
    /// `_unmount_flakey`, allow, `_mount_flakey`), `echo b > /proc/sysrq-trigger` and a log-writes mark.
    func testOtherSpellingsOfAPowerFailure() {
        let flakey = """
        _scratch_mkfs >> $seqres.full 2>&1
        _init_flakey
        _mount_flakey
        $XFS_IO_PROG -f -c "pwrite 0 4k" -c fsync $SCRATCH_MNT/foo
        _load_flakey_table $FLAKEY_DROP_WRITES
        _unmount_flakey
        _load_flakey_table $FLAKEY_ALLOW_WRITES
        _mount_flakey
        """
        XCTAssertEqual(ImportFrontEnd(flakey).renderedLines.filter { !$0.hasPrefix("filesystems") }, ["foo: pwrite 0 4k", "foo: fsync", "foo: close", "power-cut"])
        let sysrq = "mount /dev/sdb /mnt\nxfs_io -f -c \"pwrite 0 4k\" /mnt/foo\necho b > /proc/sysrq-trigger\n"
        XCTAssertEqual(ImportFrontEnd(sysrq).renderedLines.filter { !$0.hasPrefix("filesystems") }, ["foo: pwrite 0 4k", "foo: close", "power-cut"])
        let logWrites = "_log_writes_mkfs >> $seqres.full 2>&1\n_log_writes_mount\n$XFS_IO_PROG -f -c \"pwrite 0 4k\" $SCRATCH_MNT/foo\n_log_writes_mark after_write\n_log_writes_unmount\n_log_writes_remove\n"
        XCTAssertEqual(ImportFrontEnd(logWrites).renderedLines.filter { !$0.hasPrefix("filesystems") }, ["foo: pwrite 0 4k", "foo: close", "power-cut"])
    }

    /// A mail whose prose cuts the power after its commands (Tests/ImportCorpus/commit-btrfs-sync-fs-wait.txt):
    /// the import has no power cut, so the prose line is untranslated and says what it asks for.
    func testProseThatCutsThePowerIsUntranslated() {
        let text = """
        Reproducer:

        $ mkfs.btrfs -f /dev/sdb3
        $ mount /dev/sdb3 /mnt/btrfs
        $ xfs_io -f -c "pwrite 0 6001" /mnt/btrfs/foobar && btrfs fi sync /mnt/btrfs

        Right after the btrfs fi sync command, power off the machine and reboot it.
        """
        XCTAssertEqual(why(dispositions(ImportFrontEnd(text).lines)[7]), "the prose asks for a power failure: write `power-cut` where it happens")
    }
}

/// fstests' helpers and shell constructs, each as what it does.
final class FstestsConstructTests: XCTestCase {
    private func imported(_ text: String, golden: String? = nil) -> ReproducerImporter.Output {
        ReproducerImporter().importScript(text, name: "t", goldenOutput: golden)
    }

    private func steps(_ output: ReproducerImporter.Output) -> [String] {
        let lines = (output.text ?? "").split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(of: "steps:"), let end = lines.firstIndex(of: "# Added by the import: the data must be right, also after a clean remount.") else { return [] }
        return Array(lines[(start + 1)..<end]).filter { !$0.hasSuffix(": close") }
    }

    /// tests/generic/116, whole but for comments: `_pwrite_byte`, `_reflink_range`, `_compare_range … ||
    /// echo`, `_test_cycle_mount`, `stat -f` captured for the log, all on `$TEST_DIR` (the test's only
    /// filesystem, which regress's stands for).
    func testGeneric116ImportsClean() {
        let text = """
        #! /bin/bash
        . ./common/preamble
        _begin_fstest auto quick clone
        . ./common/filter
        . ./common/reflink
        _require_test_reflink
        testdir=$TEST_DIR/test-$seq
        rm -rf $testdir
        mkdir $testdir
        echo "Create the original files"
        blksz=65536
        _require_congruent_file_oplen $TEST_DIR $blksz
        _pwrite_byte 0x61 $((blksz * 2)) $((blksz * 6)) $testdir/file1 >> $seqres.full
        _pwrite_byte 0x61 $((blksz * 2)) $((blksz * 6)) $testdir/file2 >> $seqres.full
        _test_cycle_mount
        md5sum $testdir/file1 | _filter_test_dir
        _compare_range $testdir/file1 0 $testdir/file2 0 $((blksz * 8)) \\
               || echo "Files do not match"
        echo "Reflink the middle blocks together"
        free_before=$(stat -f -c '%a' $testdir)
        _reflink_range $testdir/file1 $((blksz * 4)) $testdir/file2 \\
                $((blksz * 4)) $((blksz * 2)) >> $seqres.full
        _test_cycle_mount
        free_after=$(stat -f -c '%a' $testdir)
        echo "freesp changed by $free_before -> $free_after" >> $seqres.full
        status=0
        exit
        """
        let output = imported(text)
        XCTAssertEqual(output.untranslated.map(\.number), [])
        XCTAssertEqual(steps(output), [
            "mkdir test-fstests-seq",
            "test-fstests-seq/file1: pwrite -S 0x61 131072 393216",
            "test-fstests-seq/file2: pwrite -S 0x61 131072 393216",
            "remount",
            "verify test-fstests-seq/file1",
            "verify test-fstests-seq/file1", "verify test-fstests-seq/file2",
            "test-fstests-seq/file2: reflink test-fstests-seq/file1 262144 262144 131072",
            "remount",
        ])
    }

    /// tests/generic/007's loop (`while [ $i -le $num_filenames ]; do … let i=$i+1; done`) is unrolled;
    /// `while read` is for a run to decide, and is reported whole.
    func testAWhileLoopWithADecidableBound() {
        let text = """
        #! /bin/bash
        num_filenames=3
        i=1
        while [ $i -le $num_filenames ]; do
          $XFS_IO_PROG -f -c "pwrite 0 4k" $SCRATCH_MNT/nametest.$i
          let i=$i+1
        done
        until [ $i -eq 1 ]; do i=$((i - 1)); done
        while read name; do
          rm $SCRATCH_MNT/$name
        done < $tmp.names
        """
        let output = imported(text)
        XCTAssertEqual(steps(output), ["nametest.1: pwrite 0 4k", "nametest.2: pwrite 0 4k", "nametest.3: pwrite 0 4k"])
        let untranslated = output.untranslated.map(\.number)
        XCTAssertEqual(untranslated, [9, 10, 11])
        if case .untranslated(let why) = output.lines[8].disposition {
            XCTAssertEqual(why, "'while' on a command: only a run decides how often it runs")
        }
    }

    /// `_cp_reflink` (common/reflink), `stat -c %s` and `stat -c %b`, `rm -f` of a file never made,
    /// `_fixed_by_kernel_commit` (tests/btrfs/302's header) as the test's `fix:` and `commit:`, and the
    /// metadata lines `_register_cleanup`, `_disable_dmesg_check`, `wait`, `sleep`.
    func testHelpersAndMetadataLines() {
        let text = """
        #! /bin/bash
        . ./common/preamble
        _begin_fstest auto quick clone
        _register_cleanup "_cleanup" BUS
        _disable_dmesg_check
        _fixed_by_kernel_commit 0123456789ab \\
            "btrfs: fix a race between reflink and fsync"
        _fixed_by_kernel_commit xxxxxxxxxxxx "btrfs: a second fix"
        _scratch_mkfs >> $seqres.full 2>&1
        _scratch_mount
        rm -f $SCRATCH_MNT/foo
        _pwrite_byte 0xab 0 64k $SCRATCH_MNT/foo | _filter_xfs_io
        _cp_reflink $SCRATCH_MNT/foo $SCRATCH_MNT/bar
        sleep 1
        wait
        stat -c %s $SCRATCH_MNT/bar
        stat -c %b $SCRATCH_MNT/bar
        """
        let output = imported(text)
        XCTAssertEqual(steps(output), ["foo: pwrite -S 0xab 0 64k", "bar: reflink foo", "verify bar"])
        XCTAssertEqual(output.untranslated.map(\.number), [17])
        XCTAssertTrue(output.text!.contains("\nfix: btrfs: fix a race between reflink and fsync\ncommit: 0123456789ab\n"), output.text!)
        XCTAssertFalse(output.text!.contains("a second fix"), "a key appears once: the first fix")
        for number in [4, 5, 11, 14, 15] {
            guard case .ignored = output.lines[number - 1].disposition else { return XCTFail("line \(number): \(output.lines[number - 1])") }
        }
    }

    /// tests/xfs/639: a placement check on values the test read with xfs_bmap (`if [ "${rg}" != "${short_rg}" ];
    /// then echo "RG mismatch …"`) is the test's own check, which no check of regress makes: untranslated,
    /// never "a check that only reports". So is its zoned device requirement.
    func testAChecksOwnComparisonAndADeviceRequirementAreNotDropped() {
        let text = """
        #! /bin/bash
        _require_scratch
        _require_xfs_scratch_zoned
        _scratch_mkfs > /dev/null 2>&1
        _scratch_mount
        $XFS_IO_PROG -f -c 'pwrite 0 8k' $SCRATCH_MNT/1 >>$seqres.full
        short_rg=`xfs_bmap -v $SCRATCH_MNT/1 | _filter_bmap_gno`
        rg=`xfs_bmap -v $SCRATCH_MNT/1 | _filter_bmap_gno`
        if [ "${rg}" != "${short_rg}" ]; then
            echo "RG mismatch for file 1: $short_rg/$rg"
        fi
        [ "$rg" = "$short_rg" ] || echo "mismatch"
        """
        let output = ReproducerImporter().importScript(text, name: "xfs/639")
        XCTAssertEqual(output.untranslated.map(\.number), [3, 9, 10, 11, 12])
        if case .untranslated(let why) = output.lines[8].disposition {
            XCTAssertEqual(why, "the reproducer's own check, on $rg, $short_rg, which no check of regress looks at")
        }
        if case .untranslated(let why) = output.lines[2].disposition {
            XCTAssertEqual(why, "_require_xfs_scratch_zoned: the test needs a zoned device, which regress does not give it")
        }
    }

    /// `rm -rf $TEST_DIR/fsstress.$seq.*` (tests/generic/013) removes what matches among the files made;
    /// `unset NAME`; `_scratch_mkfs_blocksized 1024` (tests/generic/… with a block size) in each filesystem's option.
    func testPatternRemovalUnsetAndABlockSize() {
        let text = """
        #! /bin/bash
        _scratch_mkfs_blocksized 1024 >> $seqres.full 2>&1
        _scratch_mount
        $XFS_IO_PROG -f -c "pwrite 0 4k" $SCRATCH_MNT/f.1 >> $seqres.full
        $XFS_IO_PROG -f -c "pwrite 0 4k" $SCRATCH_MNT/g.1 >> $seqres.full
        rm -f $SCRATCH_MNT/f.*
        rm -rf $SCRATCH_MNT/h.*
        x=1
        unset x
        """
        let output = ReproducerImporter().importScript(text, name: "t")
        XCTAssertEqual(output.untranslated.map(\.number), [])
        XCTAssertTrue(output.text!.contains("mkfs.xfs: -b size=1024\nmkfs.ext4: -b 1024\nmkfs.btrfs: -s 1024\n"), output.text!)
        XCTAssertTrue(output.text!.contains("g.1: close\nunlink f.1\n"), output.text!)
        XCTAssertTrue(StepRendering.matches("a/f.*", "a/f.1"))
        XCTAssertFalse(StepRendering.matches("f.*", "f.1/x"), "a * does not cross a /")
        XCTAssertTrue(StepRendering.matches("f?", "f1"))
    }

    /// tests/generic/001: `if [ $# -eq 0 ]` decided, with `then` on a line of its own and comments after
    /// it: every line is accounted as the decided `if`'s, none untranslated. `echo … | tee -a $seqres.full`
    /// (tests/generic/018) shows text.
    func testTheKeywordsOfADecidedIfAndEchoIntoTee() {
        let text = """
        #! /bin/bash
        if [ $# -eq 0 ]
        then
            # use the default config
            #
            x=1
        else
            x=2
        fi
        echo "zero-length file:" | tee -a $seqres.full
        """
        let lines = ImportFrontEnd(text).lines
        XCTAssertEqual(lines.filter { if case .untranslated = $0.disposition { return true }; return false }.map(\.number), [])
        XCTAssertEqual(lines[2].disposition, .ignored(.structure("then")))
        XCTAssertEqual(lines[3].disposition, .ignored(.comment))
        if case .ignored(.structure) = lines[6].disposition {} else { XCTFail("else: \(lines[6])") }
        XCTAssertEqual(lines[7].disposition, .ignored(.structure("not taken: '[ 0 -eq 0 ]'")))
    }

    /// tests/generic/017: `for (( j=0; j < $(($BLOCKS/(2**$i))); j++ ))` inside `for (( i = 1; i <= 7; i++ ))`:
    /// the expressions are expanded before each evaluation, `**` is a power, and `dd … of=/dev/null`
    /// (tests/generic/224) reads the file, which `verify` does.
    func testArithmeticLoopsWithExpansionsAndPowers() {
        let text = """
        #! /bin/bash
        BLOCKS=8
        _scratch_mkfs > /dev/null 2>&1
        _scratch_mount
        for (( i = 1; i <= 2; i++ )); do
            for (( j=0; j < $(($BLOCKS/(2**$i))); j++ )); do
                $XFS_IO_PROG -f -c "pwrite $j 1" $SCRATCH_MNT/f >> $seqres.full
            done
        done
        dd of=/dev/null if=$SCRATCH_MNT/f bs=512k iflag=direct > /dev/null 2>&1
        """
        let output = ReproducerImporter().importScript(text, name: "t")
        XCTAssertEqual(output.untranslated.map(\.number), [])
        XCTAssertEqual(steps(output), ["f: pwrite 0 1", "f: pwrite 1 1", "f: pwrite 2 1", "f: pwrite 3 1", "f: pwrite 0 1", "f: pwrite 1 1", "verify f"])
        XCTAssertEqual(ShellArithmetic.evaluate("2**3**2", variables: [:]), 512, "right-associative")
        XCTAssertEqual(ShellArithmetic.evaluate("3*2**2", variables: [:]), 12)
    }

    /// tests/generic/001's `_chain`: an awk program in '…' over many lines is one command, and its lines
    /// continue it (untranslated with it), never "a script line that became no command". A guard that
    /// skips (tests/generic/108's `test -b "$SCSI_DEBUG_DEV" || _notrun …`) is a requirement, not a check.
    func testAMultiLineQuotedWordAndAGuardThatSkips() {
        let text = """
        #! /bin/bash
        awk -v x=1 '
        BEGIN { n = 0 }
        END { print n }' < /dev/null
        dev=`_get_scsi_debug_dev 4096 512 0 128`
        test -b "$dev" || _notrun "Failed to initialize scsi debug device"
        """
        let lines = ImportFrontEnd(text).lines
        XCTAssertEqual(lines[2].disposition, .continues(2))
        XCTAssertEqual(lines[3].disposition, .continues(2))
        XCTAssertEqual(ImportReport.summary(lines).untranslated, 3, "the awk line and the two it continues")
        XCTAssertTrue(ImportReport.render(lines).contains("UNTRANSLATED  BEGIN"), ImportReport.render(lines))
        if case .untranslated = lines[5].disposition { XCTFail("a guard that skips is no check: \(lines[5])") }
    }

    /// common/rc's `_mwrite_byte` (tests/generic/140) maps, stores and exits: the mapping ends with the
    /// program (`F: munmap`), then the descriptor. `_exit 0` ends the script.
    func testMwriteByteUnmapsWhereTheProgramEnds() {
        let text = """
        #! /bin/bash
        _scratch_mkfs > /dev/null 2>&1
        _scratch_mount
        _pwrite_byte 0x61 0 64k $SCRATCH_MNT/file2 >> $seqres.full
        _mwrite_byte 0x62 0 17 65536 $SCRATCH_MNT/file2 >> $seqres.full
        _mwrite_byte 0x63 17 17 65536 $SCRATCH_MNT/file2 >> $seqres.full
        _exit 0
        """
        let output = ReproducerImporter().importScript(text, name: "t")
        XCTAssertEqual(output.untranslated.map(\.number), [])
        XCTAssertTrue(output.text!.contains("""
        file2: mmap -rw 0 65536
        file2: mwrite -S 0x62 0 17
        file2: munmap
        file2: close
        file2: mmap -rw 0 65536
        """), output.text!)
    }

    /// tests/generic/376: `ls -R $SCRATCH_MNT/dir | _filter_scratch` after a power cut, with the names in
    /// its .out: a check that the names exist, which `verify` is not (it lets a name never made durable
    /// vanish), so it is untranslated there; without a golden output it stays a `verify`.
    func testLsForTheGoldenOutputIsACheckOfNames() {
        let text = """
        #! /bin/bash
        _scratch_mkfs >> $seqres.full 2>&1
        _scratch_mount
        mkdir $SCRATCH_MNT/dir
        touch $SCRATCH_MNT/dir/foo
        _scratch_sync
        ls -R $SCRATCH_MNT/dir | _filter_scratch
        """
        let golden = "QA output created by 376\nSCRATCH_MNT/dir:\nfoo\n"
        let withGolden = ReproducerImporter().importScript(text, name: "generic/376", goldenOutput: golden)
        if case .untranslated(let why) = withGolden.lines[6].disposition {
            XCTAssertEqual(why, "ls lists names for the golden output: the language has no check that names exist")
        } else { XCTFail("\(withGolden.lines[6])") }
        XCTAssertEqual(ReproducerImporter().importScript(text, name: "t").lines[6].disposition, .translated(["verify"]))
    }
}
