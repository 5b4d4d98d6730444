import XCTest
@testable import RegressCore

/// One test per construct the held-out set (Tests/ImportHeldOut) showed the importer missing: each
/// feeds the smallest input that has it and checks what becomes of it.
final class ImportConstructTests: XCTestCase {
    /// The steps and header lines the front end renders, without the `F: close` where each program ends
    /// (FstestsImportTests.testEachProgramClosesTheFilesItOpened checks those).
    private func rendered(_ text: String) -> [String] { ImportFrontEnd(text).renderedLines.filter { !$0.hasSuffix(": close") } }

    /// The disposition of each input line, by number.
    private func dispositions(_ text: String) -> [Int: ImportLine.Disposition] {
        Dictionary(uniqueKeysWithValues: ImportFrontEnd(text).lines.map { ($0.number, $0.disposition) })
    }

    private func isUntranslated(_ disposition: ImportLine.Disposition?) -> Bool {
        if case .untranslated? = disposition { return true }
        return false
    }

    private func untranslatedCount(_ text: String) -> Int { ImportReport.summary(ImportFrontEnd(text).lines).untranslated }

    // MARK: - Mails and commit messages

    func testPowerFailureMarkerAmongPromptedCommandsAndTheMountAfterIt() {
        let text = """
        Reproducer:

          $ mkfs.btrfs -f /dev/sdb
          $ mount /dev/sdb /mnt
          $ xfs_io -f -c "pwrite -S 0xab 0 256K" -c fsync /mnt/foo
          <power failure>

          # mount to replay log
          $ mount /dev/sdb /mnt
          $ od -t x1 /mnt/foo
        """
        XCTAssertEqual(rendered(text), ["filesystems: btrfs", "foo: pwrite -S 0xab 0 256K", "foo: fsync", "power-cut", "verify foo"])
        XCTAssertEqual(untranslatedCount(text), 0)
        // The same in a reply, behind `> `.
        let quoted = text.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n")
        XCTAssertEqual(rendered("On Tue, someone wrote:\n" + quoted), rendered(text))
    }

    func testPlaceholdersForFileMountPointAndDevice() {
        let text = """
        For example:

        $ xfs_io -fc "pwrite 0 1k" -c "reflink <file> 0 256k 1k" <file>
        $ umount <mnt>; mount <dev> <mnt>
        $ xfs_io -c "pread -v 4k 8" <file>
        """
        XCTAssertEqual(rendered(text), ["file: pwrite 0 1k", "file: reflink file 0 256k 1k", "remount", "file: pread -v 4k 8"])
        XCTAssertEqual(Placeholders.resolve("cat <file> > <out>:"), "cat /mnt/file > /mnt/out:")
        XCTAssertEqual(Placeholders.resolve("mount <dev> <mnt>"), "mount /dev/dev /mnt")
        XCTAssertEqual(Placeholders.resolve("a<b>c cmd <<EOF x<y"), "a<b>c cmd <<EOF x<y", "only whole words")
    }

    func testACommandWithoutPromptInAMailThatUsesPrompts() {
        let text = """
        Consider the following command sequence:

        xfs_io -fc "pwrite 0 1k" -c "fsync" /mnt/foo

        The fiemap shows:

        $ xfs_io -c "pwrite 4k 4k" /mnt/foo
        wrote 4096/4096 bytes at offset 4096
        """
        XCTAssertEqual(rendered(text), ["foo: pwrite 0 1k", "foo: fsync", "foo: pwrite 4k 4k"])
        XCTAssertEqual(dispositions(text)[8], .ignored(.commandOutput))
    }

    func testADiffQuotedInAReplyIsADiff() {
        let text = """
        On Fri, Brian Foster wrote:
        > $ xfs_io -fc "pwrite 0 4k" /mnt/foo
        >
        > Signed-off-by: Brian Foster <bfoster@redhat.com>
        > ---
        >  fs/xfs/xfs_icache.c  |  8 +-------
        >
        > diff --git a/fs/xfs/xfs_icache.c b/fs/xfs/xfs_icache.c
        > --- a/fs/xfs/xfs_icache.c
        > +++ b/fs/xfs/xfs_icache.c
        """
        XCTAssertEqual(dispositions(text)[8], .ignored(.diff))
        XCTAssertEqual(untranslatedCount(text), 0)
    }

    func testAStableBackportNoteIsProse() {
        let text = "[ Upstream commit 07ea7a617d6b278fb7acedb5cbe1a81ce2de7d0c ]\n\nmkfs.ext4 -F /dev/sdc\nmount /dev/sdc /mnt/sdc\nxfs_io -fc \"pwrite 4k 4k\" /mnt/sdc/f\n"
        XCTAssertEqual(dispositions(text)[1], .ignored(.prose))
        XCTAssertEqual(rendered(text), ["filesystems: ext4", "f: pwrite 4k 4k"])
    }

    func testFormatFlowedLinesAreJoined() {
        let text = """
        From: someone <a@b.c>
        Subject: Re: swapext
        Content-Type: text/plain; charset=windows-1252; format=flowed

        Steps:
        for i in `seq 1 2`;do fallocate -p -o $((8192*i)) -l 4096\u{20}
        /mnt/file1;done
        """
        let mail = MailText.decode(text)
        XCTAssertEqual(mail.lines.last?.text, "for i in `seq 1 2`;do fallocate -p -o $((8192*i)) -l 4096 /mnt/file1;done")
        XCTAssertEqual(mail.lines.last?.source, 6...7)
        XCTAssertEqual(rendered(text), ["file1: falloc -p 8192 4096", "file1: falloc -p 16384 4096"])
    }

    func testBase64TextPartIsDecoded() {
        // "xfs_io -f -c \"pwrite 0 4k\" /mnt/foo\nsync\n" in base64, wrapped as mailers do.
        let text = """
        From: someone <a@b.c>
        Subject: [PATCH] btrfs: fix
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: base64

        eGZzX2lvIC1mIC1jICJwd3JpdGUgMCA0ayIg
        L21udC9mb28Kc3luYwo=
        """
        XCTAssertEqual(Base64.decode("aGk="), Array("hi".utf8))
        XCTAssertNil(Base64.decode("not base64!"))
        XCTAssertEqual(MailText.decode(text).lines.suffix(2).map(\.text), ["xfs_io -f -c \"pwrite 0 4k\" /mnt/foo", "sync"])
        XCTAssertEqual(MailText.decode(text).lines.suffix(2).map(\.source), [6...7, 7...7])
        XCTAssertEqual(rendered(text), ["filesystems: btrfs", "foo: pwrite 0 4k", "sync"])
        XCTAssertEqual(untranslatedCount(text), 0)
    }

    func testCStyleNotesAmongCommands() {
        let text = "mkfs.xfs -f /dev/sdb\nmount /dev/sdb /mnt\n// wait for the log\nxfs_io -f -c \"pwrite 0 4k\" /mnt/f  //will trigger issue\n"
        XCTAssertEqual(dispositions(text)[3], .ignored(.comment))
        XCTAssertEqual(rendered(text), ["filesystems: xfs", "f: pwrite 0 4k"])
        XCTAssertEqual(ScriptFinder.withoutTrailingNote("cp /a//b /c"), "cp /a//b /c")
    }

    func testDiskTakenOfflineIsAPowerCut() {
        let text = "mkfs.xfs -f /dev/sdb\nmount /dev/sdb /mnt\nxfs_io -f -c \"pwrite 0 4k\" /mnt/f\necho offline > /sys/block/sdb/device/state\necho running > /sys/block/sdb/device/state\nmount /dev/sdb /mnt\n"
        XCTAssertEqual(rendered(text), ["filesystems: xfs", "f: pwrite 0 4k", "power-cut"])
        XCTAssertEqual(untranslatedCount(text), 0)
    }

    // MARK: - The shell

    func testIfWithAFixedConditionRunsTheBranchItChooses() {
        let text = """
        size=4096
        if [ "$size" -gt 1024 ]; then
            xfs_io -f -c "pwrite 0 $size" /mnt/big
        else
            xfs_io -f -c "pwrite 0 1k" /mnt/small
        fi
        """
        XCTAssertEqual(rendered(text), ["big: pwrite 0 4096"])
        XCTAssertEqual(untranslatedCount(text), 0)
        XCTAssertEqual(ShellCondition.evaluate(["[", "a", "=", "a", "]"]), .holds)
        XCTAssertEqual(ShellCondition.evaluate(["test", "!", "-z", ""]), .fails)
        XCTAssertEqual(ShellCondition.evaluate(["[", "-f", "/mnt/x", "]"]), .unknown)
    }

    func testFstypIsKnownOnceTheScriptNamesTheFilesystem() {
        let text = """
        _supported_fs btrfs
        _scratch_mkfs
        _scratch_mount
        if [ "$FSTYP" = btrfs ]; then
            $XFS_IO_PROG -f -c "pwrite 0 4k" $SCRATCH_MNT/b
        else
            $XFS_IO_PROG -f -c "pwrite 0 8k" $SCRATCH_MNT/x
        fi
        """
        XCTAssertEqual(rendered(text).filter { !$0.hasPrefix("filesystems") }, ["b: pwrite 0 4k"])
        XCTAssertEqual(untranslatedCount(text), 0)
    }

    func testACommandAsTheConditionRunsAndItsFailureBranchDoesNot() {
        let text = """
        _scratch_mkfs >> $seqres.full 2>&1
        if ! _try_scratch_mount "-o dioread_nolock" >> $seqres.full 2>&1; then
            _check_dmesg_for "can't mount"
            _notrun "mount failed"
        fi
        $XFS_IO_PROG -f -c "pwrite 0 4k" $SCRATCH_MNT/f
        """
        XCTAssertEqual(rendered(text), ["mount: dioread_nolock", "f: pwrite 0 4k"])
        XCTAssertEqual(untranslatedCount(text), 0)
    }

    func testAConditionOnlyARunDecides() {
        // Only reports on either side: a check regress's own checks stand for.
        let reports = "if [ $(cat /mnt/f) != x ]; then\n  echo bad\nfi\nxfs_io -f -c \"pwrite 0 4k\" /mnt/f\n"
        XCTAssertEqual(untranslatedCount(reports), 0)
        // An operation depends on it: untranslated, every line of the clause.
        let acts = "if [ -f /mnt/f ]; then\n  xfs_io -c \"pwrite 0 4k\" /mnt/f\nfi\n"
        let lines = dispositions(acts)
        XCTAssertTrue((1...3).allSatisfy { isUntranslated(lines[$0]) }, "\(lines)")
    }

    func testGuardsThatOnlyReportAndAFreeSpaceGuard() {
        let text = """
        _scratch_mkfs_xfs >/dev/null
        _scratch_mount
        avail=`df -P $SCRATCH_MNT | awk 'END {print $4}'`
        [ "$avail" -ge 1049600 ] || _notrun "Scratch device is too small ($avail KiB)"
        $XFS_IO_PROG -f -c 'resvsp 0 1g' -c 'truncate 100' $SCRATCH_MNT/ouch
        test 1 != 2 && echo "different"
        """
        XCTAssertEqual(rendered(text), ["filesystems: xfs", "size: 1246336k", "ouch: falloc -k 0 1g", "ouch: truncate 100"])
        XCTAssertEqual(untranslatedCount(text), 0)
        // The unknown value used by an operation is reported there.
        XCTAssertEqual(untranslatedCount("n=$(df -P /mnt | tail -1)\nxfs_io -f -c \"pwrite 0 $n\" /mnt/f\n"), 1)
    }

    func testLooksAtAFileCapturedInAVariableAreVerifies() {
        let text = """
        xfs_io -f -c "pwrite 0 4k" /mnt/f
        before=`md5sum /mnt/f | cut -d' ' -f1`
        size=$(stat -c %s /mnt/f)
        umount /mnt; mount /dev/sdb /mnt
        after=`md5sum /mnt/f | cut -d' ' -f1`
        echo "before $before, after $after" >> $seqres.full
        test $before != $after && echo "md5sum mismatch"
        """
        XCTAssertEqual(rendered(text), ["f: pwrite 0 4k", "verify f", "verify f", "remount", "verify f"])
        XCTAssertEqual(untranslatedCount(text), 0)
    }

    func testFstestsGeometryHelpersAreRegressesFourKilobyteBlocks() {
        let text = "BLOCK_SIZE=$(_get_block_size $SCRATCH_MNT)\n$XFS_IO_PROG -f -c \"pwrite 0 $((2 * $BLOCK_SIZE))\" $SCRATCH_MNT/f\nps=$(_get_page_size)\n"
        XCTAssertEqual(rendered(text), ["f: pwrite 0 8192"])
    }

    // MARK: - Mapping

    func testLsIsAVerify() {
        let text = "mkdir /mnt/dir\ntouch /mnt/dir/foo\n<power fail>\nls -R /mnt/dir | _filter_scratch\n"
        XCTAssertEqual(rendered(text), ["mkdir dir", "dir/foo: pwrite 0 0", "power-cut", "verify"])
    }

    func testClonerFallocateAttachedValuesAndResvsp() {
        XCTAssertEqual(rendered("xfs_io -f -c \"pwrite 0 64k\" /mnt/foo\n$CLONER_PROG -s 4096 -d 0 -l 8192 /mnt/foo /mnt/foo\n"),
                       ["foo: pwrite 0 64k", "foo: reflink foo 4096 0 8192"])
        XCTAssertEqual(rendered("fallocate -l1m /mnt/f\nfallocate -p -o4096 -l 4096 /mnt/f\n"), ["f: falloc 0 1m", "f: falloc -p 4096 4096"])
        XCTAssertEqual(rendered("xfs_io -f -c 'resvsp 0 1m' -c 'unresvsp 0 4k' /mnt/f\n"), ["f: falloc -k 0 1m", "f: fpunch 0 4k"])
    }

    func testRequiredScratchSizeIsTheImageSize() {
        XCTAssertEqual(rendered("_require_scratch_size $((6 * 1024 * 1024))\n$XFS_IO_PROG -f -c \"falloc 0 5g\" $SCRATCH_MNT/f\n"),
                       ["size: 6g", "f: falloc 0 5g"], "no allow ENOSPC: the image is large enough")
    }

    func testASecondMkfsAfterStepsIsUntranslated() {
        let text = "run() {\n  _scratch_mkfs -O no-holes\n  _scratch_mount\n  $XFS_IO_PROG -f -c \"pwrite 0 4k\" $SCRATCH_MNT/f\n  _scratch_unmount\n}\nrun\nrun\n"
        let result = ImportFrontEnd(text)
        XCTAssertEqual(result.renderedLines.filter { $0.contains("pwrite") }.count, 2)
        XCTAssertTrue(result.lines.contains { if case .untranslated(let why) = $0.disposition { return why.contains("second mkfs") }; return false })
    }

    // MARK: - The filesystem

    func testFilesystemFromFstestsHeaderAndNotFromXfsIo() {
        let header = "#! /bin/bash\n# FS QA Test No. ext4/046\n_require_xfs_io_command \"falloc\"\n$XFS_IO_PROG -f -c \"pwrite 0 4k\" $SCRATCH_MNT/f\n"
        XCTAssertEqual(ImportFrontEnd(header).inferredFilesystem, "ext4")
        let xfsIO = "_require_xfs_io_command \"falloc\"\n$XFS_IO_PROG -f -c \"pwrite 0 4k\" $SCRATCH_MNT/f\n"
        XCTAssertNil(ImportFrontEnd(xfsIO).inferredFilesystem, "xfs_io is not XFS's own")
    }

    func testTheInputsNameMayNameTheFilesystem() {
        let script = "$XFS_IO_PROG -f -c \"pwrite 0 4k\" $SCRATCH_MNT/f\n"
        XCTAssertTrue(ReproducerImporter().importScript(script, name: "159", inputPath: "xfstests/tests/btrfs/159").text?.contains("filesystems: btrfs\n") == true)
        XCTAssertTrue(ReproducerImporter().importScript(script, name: "generic-056").text?.contains("filesystems: btrfs xfs ext4\n") == true)
        XCTAssertNil(ReproducerImporter.filesystemNamed(by: "btrfs-vs-xfs"))
    }
}
