import XCTest
@testable import RegressCore

/// Finding the script in what developers post: each input line's kind, construct by construct.
final class ScriptFinderTests: XCTestCase {
    private func kinds(_ text: String) -> [ScriptFinder.Kind] {
        ScriptFinder.find(in: text).lines.map(\.kind)
    }

    private func shell(_ text: String) -> [String] {
        ScriptFinder.find(in: text).scriptLines.map(\.text)
    }

    func testPlainScriptIsAllScript() {
        let text = "#!/bin/bash\ndev=/dev/sdb\nmkfs.xfs -f $dev\nchattr +C /mnt/foo\n"
        let found = ScriptFinder.find(in: text)
        XCTAssertTrue(found.isPlainScript)
        XCTAssertEqual(found.lines.map(\.kind), [.comment, .script, .script, .script])
    }

    func testCommitMessageWithIndentedBlock() {
        let text = """
        btrfs: fix a bug

        The following script reproduces it:

          mkfs.btrfs -f /dev/sdb
          mount /dev/sdb /mnt
          # write and fsync
          xfs_io -f -c "pwrite 0 4k" -c fsync /mnt/foo
          chattr +C /mnt/bar
          umount /mnt

        The fsync fails.

        Signed-off-by: A Developer <a@example.org>
        """
        XCTAssertEqual(kinds(text), [.prose, .blank, .prose, .blank, .script, .script, .comment, .script, .script, .script,
                                     .blank, .prose, .blank, .trailer])
        XCTAssertEqual(shell(text)[0], "mkfs.btrfs -f /dev/sdb")
    }

    func testPromptsAndTheOutputPastedUnderThem() {
        let text = """
        Steps to reproduce:

        $ mkfs.btrfs -f /dev/sdb
        $ mount /dev/sdb /mnt
        $ xfs_io -f -c "pwrite -S 0xab 0 64K" /mnt/foo
        wrote 65536/65536 bytes at offset 0
        64 KiB, 16 ops; 0.0000 sec (1.9 GiB/sec and 31250.0000 ops/sec)
        $ od -t x1 /mnt/foo

        After a power failure the file is empty.
        """
        XCTAssertEqual(kinds(text), [.prose, .blank, .script, .script, .script, .output, .output, .script, .blank, .prose])
        XCTAssertEqual(shell(text), ["mkfs.btrfs -f /dev/sdb", "mount /dev/sdb /mnt", "xfs_io -f -c \"pwrite -S 0xab 0 64K\" /mnt/foo", "od -t x1 /mnt/foo"])
    }

    func testRootPromptInAMailButCommentInAScript() {
        let mail = "To reproduce, as root:\n\n  # mkfs.xfs -f /dev/sdc\n  # mount /dev/sdc /mnt\n  # sync\n"
        XCTAssertEqual(shell(mail), ["mkfs.xfs -f /dev/sdc", "mount /dev/sdc /mnt", "sync"])
        let script = "#!/bin/sh\n# mkfs.xfs -f /dev/sdc\nmkfs.btrfs -f /dev/sdc\n"
        XCTAssertEqual(kinds(script), [.comment, .comment, .script])
        // A comment that starts with a command's name is not a prompt.
        let commented = "Run this:\n\n  # mount the filesystem\n  mount /dev/sdc /mnt\n"
        XCTAssertEqual(kinds(commented), [.prose, .blank, .comment, .script])
    }

    func testContinuationLinesBelongToTheScript() {
        let text = """
        Reproducer:

        $ for i in $(seq 0 2 31); do \\
        xfs_io -f -c "falloc $((i * 32768)) 32k" /mnt/file; \\
        done
        $ xfs_io -c "pwrite 0 4k" \\
        > /mnt/file
        """
        XCTAssertEqual(kinds(text), [.prose, .blank, .script, .script, .script, .script, .script])
        XCTAssertEqual(shell(text).last, "/mnt/file", "the PS2 prompt '> ' is not part of the command")
    }

    func testOpenQuoteAndHereDocumentContinue() {
        let text = "Script:\n\n  xfs_io -c \"pwrite 0 4k\n  \" /mnt/f\n  cat > /mnt/g <<EOF\n  Some Text, with prose.\n  EOF\n"
        XCTAssertEqual(kinds(text), [.prose, .blank, .script, .script, .script, .script, .script])
    }

    func testPowerFailureMarker() {
        let text = "Do this:\n\n  xfs_io -f -c \"pwrite 0 4k\" -c fsync /mnt/foo\n  <power fail>\n  mount /dev/sdb /mnt\n"
        let found = ScriptFinder.find(in: text)
        XCTAssertEqual(found.lines.map(\.kind), [.prose, .blank, .script, .powerFailure, .script])
        XCTAssertEqual(found.scriptLines[1].text, "'<power fail>'")
    }

    func testPatchStructure() {
        let text = """
        From: A Developer <a@example.org>
        Subject: [PATCH] xfs: fix it
        Date: Mon, 1 Jan 2024 00:00:00 +0000

        Reproducer:

          xfs_io -f -c "pwrite 0 4k" /mnt/foo

        Signed-off-by: A Developer <a@example.org>
        ---
        v2: reworded
         fs/xfs/xfs_file.c | 2 +-
         1 file changed, 1 insertion(+), 1 deletion(-)

        diff --git a/fs/xfs/xfs_file.c b/fs/xfs/xfs_file.c
        --- a/fs/xfs/xfs_file.c
        +++ b/fs/xfs/xfs_file.c
        @@ -1 +1 @@
        -mount /mnt
        +sync
        --\u{20}
        2.40.0
        """
        XCTAssertEqual(kinds(text), [.header, .header, .header, .header, .prose, .blank, .script, .blank, .trailer,
                                     .patchNotes, .patchNotes, .patchNotes, .patchNotes, .patchNotes,
                                     .diff, .diff, .diff, .diff, .diff, .diff, .signature, .signature])
    }

    func testAReproducerUnderTheDashesIsStillFound() {
        let text = """
        btrfs: fix it

        Signed-off-by: A Developer <a@example.org>
        ---
        Reproducer:

          xfs_io -f -c "pwrite 0 4k" -c fsync /mnt/foo

         fs/btrfs/file.c | 2 +-
         1 file changed, 1 insertion(+), 1 deletion(-)

        diff --git a/fs/btrfs/file.c b/fs/btrfs/file.c
        """
        XCTAssertEqual(kinds(text), [.prose, .blank, .trailer, .patchNotes, .patchNotes, .patchNotes, .script, .patchNotes,
                                     .patchNotes, .patchNotes, .patchNotes, .diff])
    }

    func testQuotedReplyIsReadThroughTheQuoteMarks() {
        let text = "On Monday someone wrote:\n> Run:\n>\n>   mkfs.ext4 -F /dev/sdb\n>   mount /dev/sdb /mnt\n\nThanks, I see it too.\n"
        let found = ScriptFinder.find(in: text)
        XCTAssertEqual(found.scriptLines.map(\.text), ["mkfs.ext4 -F /dev/sdb", "mount /dev/sdb /mnt"])
        XCTAssertTrue(found.lines[3].quoted)
    }

    func testCatOfAScriptShowsTheScriptAndRunningItIsIgnored() {
        let text = """
        The reproducer:

          $ cat test.sh
          #!/bin/bash
          DEV=/dev/sdb
          mkfs.btrfs -f $DEV
          $ ./test.sh
          wrote 4096/4096 bytes
        """
        XCTAssertEqual(kinds(text), [.prose, .blank, .scriptListing, .comment, .script, .script, .scriptRun, .output])
    }

    func testUnknownCommandInsideAScriptBlockIsScriptNotProse() {
        let text = "To reproduce:\n\n  xfs_io -fc \"pwrite 4k 4k\" /mnt/f\n\n  chattr -e /mnt/f\n\n  xfs_io -c \"pwrite 0 4k\" /mnt/f\n\nThat is all.\n"
        let found = ScriptFinder.find(in: text)
        XCTAssertEqual(found.numbers(of: .script), [3, 5, 7])
    }

    func testProseThatStartsWithACommandNameStaysProse() {
        let text = "mount the filesystem and run the test.\nsync is called, then the file is gone.\n\n  sync\n"
        XCTAssertEqual(kinds(text), [.prose, .prose, .blank, .script])
    }

    func testFunctionDefinitionAndCallInAMail() {
        let text = "Reproducer:\n\n  run() {\n    xfs_io -f -c \"pwrite 0 $1\" /mnt/f\n  }\n  run 4k\n"
        XCTAssertEqual(kinds(text), [.prose, .blank, .script, .script, .script, .script])
        let prose = "The bug is in btrfs_sync_file() and its callers.\n"
        XCTAssertEqual(kinds(prose), [.prose])
    }
}

/// Raw mails: headers, quoted-printable, MIME parts, archive pages.
final class MailTextTests: XCTestCase {
    func testQuotedPrintableBodyIsDecodedAndKeepsItsRawLines() {
        let text = """
        From: A <a@example.org>
        Subject: [PATCH] btrfs: fix
        Content-Type: text/plain; charset=UTF-8
        Content-Transfer-Encoding: quoted-printable

        Run:

          xfs_io -f -c "pwrite -S 0xab 0 64K" -c fsync /mnt/very/long/path/to/some/fi=
        le
          echo 3 =3D 3 caf=C3=A9
        """
        let mail = MailText.decode(text)
        XCTAssertTrue(mail.isMail)
        let body = mail.lines.filter { !$0.isHeader }
        XCTAssertEqual(body.map(\.text), ["Run:", "", "  xfs_io -f -c \"pwrite -S 0xab 0 64K\" -c fsync /mnt/very/long/path/to/some/file", "  echo 3 = 3 café"])
        XCTAssertEqual(body[2].source, 8...9)
        let result = ImportFrontEnd(text)
        XCTAssertEqual(result.lines.count, 10)
        // Decoded and read as one command; its steps go through the command table, which knows that no
        // step made the directory.
        XCTAssertEqual(result.lines[7].disposition, .untranslated("'long/path/to/some/file: pwrite -S 0xab 0 64K': directory 'long/path/to/some' does not exist: make it with 'mkdir long/path/to/some'"))
        if case .continues(8) = result.lines[8].disposition {} else { XCTFail("line 9 continues line 8: \(result.lines[8].disposition)") }
    }

    func testHeaderContinuationAndMboxFromLine() {
        let text = "From 1234abcd Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\nCc: b@example.org,\n\tc@example.org\nSubject: x\n\nbody\n"
        let mail = MailText.decode(text)
        XCTAssertEqual(mail.lines.map(\.isHeader), [true, true, true, true, true, true, false])
    }

    func testMultipartSkipsTheHTMLPart() {
        let text = """
        From: A <a@example.org>
        Subject: repro
        Content-Type: multipart/alternative; boundary="XYZ"

        --XYZ
        Content-Type: text/plain

        sync
        --XYZ
        Content-Type: text/html

        <p>sync</p>
        --XYZ--
        """
        let found = ScriptFinder.find(in: text)
        XCTAssertEqual(found.numbers(of: .script), [8])
        XCTAssertEqual(found.numbers(of: .skippedPart("a text/html part")), [12])
    }

    func testArchivePageLinesBeforeTheHeaders() {
        let text = "public inbox for linux-btrfs@vger.kernel.org\n help / color / mirror / Atom feed\nFrom: A <a@example.org>\nSubject: x\n\n  sync\n"
        let found = ScriptFinder.find(in: text)
        XCTAssertEqual(found.lines.map(\.kind), [.prose, .prose, .header, .header, .header, .script])
    }

    func testNotAMail() {
        XCTAssertFalse(MailText.decode("mkfs.btrfs -f /dev/sdb\nFrom: nobody\n").isMail)
        XCTAssertEqual(MailText.decodeQuotedPrintable("a=3Db=ZZ="), "a=b=ZZ=")
    }
}
