import XCTest
@testable import RegressCore

/// The shell front end, construct by construct: what each becomes, and which input lines it came from.
final class ShellScriptTests: XCTestCase {
    private func argvs(_ script: ShellScript) -> [[String]] { script.commands.map(\.argv) }

    func testLineContinuationJoinsLinesAndKeepsBothNumbers() {
        let script = ShellScript.parse("xfs_io -f -c \"pwrite 0 4k\" \\\n\t/mnt/foo\nsync")
        XCTAssertEqual(argvs(script), [["xfs_io", "-f", "-c", "pwrite 0 4k", "/mnt/foo"], ["sync"]])
        XCTAssertEqual(script.commands[0].lines, 1...2)
        XCTAssertEqual(script.commands[1].lines, 3...3)
    }

    func testQuotingAndEscapes() {
        let script = ShellScript.parse(#"echo 'a $b' "c $HOME_X d" e\ f "g\"h" '' x"y"z"#, variables: ["HOME_X": "H"])
        XCTAssertEqual(argvs(script), [["echo", "a $b", "c H d", "e f", "g\"h", "", "xyz"]])
    }

    func testListsAndOperators() {
        let script = ShellScript.parse("sync; sync && umount /mnt || echo failed &\nmount /dev/sdb /mnt")
        XCTAssertEqual(argvs(script), [["sync"], ["sync"], ["umount", "/mnt"], ["echo", "failed"], ["mount", "/dev/sdb", "/mnt"]])
        XCTAssertEqual(script.commands.map(\.connector), [";", "&&", "||", "&", nil])
    }

    func testPipelineKeepsEveryCommandWithItsPosition() {
        let script = ShellScript.parse("$XFS_IO_PROG -c fsync $SCRATCH_MNT/foo | _filter_xfs_io | tee out")
        XCTAssertEqual(argvs(script), [["xfs_io", "-c", "fsync", "/mnt/scratch/foo"], ["_filter_xfs_io"], ["tee", "out"]])
        XCTAssertEqual(script.commands.map(\.pipeline?.index), [0, 1, 2])
        XCTAssertEqual(script.commands.map(\.pipeline?.count), [3, 3, 3])
        XCTAssertFalse(script.commands[0].writesToTerminal)
    }

    func testCommentsAndBlankLinesAreConsumed() {
        let script = ShellScript.parse("# make it\n\nmkfs.btrfs -f /dev/sdb # quiet\na#b")
        XCTAssertEqual(argvs(script), [["mkfs.btrfs", "-f", "/dev/sdb"], ["a#b"]])
        XCTAssertEqual(script.consumed[1], .comment)
        XCTAssertEqual(script.consumed[2], .blank)
        XCTAssertNil(script.consumed[3], "a line with a command is the command's, even with a comment")
    }

    func testAssignmentsAndSubstitution() {
        let script = ShellScript.parse("dev=/dev/sdb\nmnt=/mnt/btrfs\nmount $dev ${mnt}\necho ${UNSET:-dflt} ${mnt:-x}")
        XCTAssertEqual(argvs(script), [["mount", "/dev/sdb", "/mnt/btrfs"], ["echo", "dflt", "/mnt/btrfs"]])
        XCTAssertEqual(script.consumed[1], .assignment("dev=/dev/sdb"))
        XCTAssertEqual(script.consumed[2], .assignment("mnt=/mnt/btrfs"))
    }

    func testFstestsDefaults() {
        let script = ShellScript.parse("$XFS_IO_PROG -c fsync $SCRATCH_MNT/foo\nls $TEST_DIR $SCRATCH_DEV")
        XCTAssertEqual(argvs(script), [["xfs_io", "-c", "fsync", "/mnt/scratch/foo"], ["ls", "/mnt/test", "/dev/scratch"]])
        let overridden = ShellScript.parse("SCRATCH_MNT=/mnt/x\ntouch $SCRATCH_MNT/a")
        XCTAssertEqual(argvs(overridden), [["touch", "/mnt/x/a"]])
    }

    func testUnknownVariableIsKeptAndListed() {
        let script = ShellScript.parse("xfs_io -c fsync $donorfile")
        XCTAssertEqual(argvs(script), [["xfs_io", "-c", "fsync", "$donorfile"]])
        XCTAssertEqual(script.commands[0].unexpanded, ["$donorfile"])
    }

    func testUnquotedExpansionIsSplitQuotedIsNot() {
        let script = ShellScript.parse("opts=\"-O no-holes -b 1g\"\nmkfs.btrfs $opts \"$opts\"")
        XCTAssertEqual(argvs(script), [["mkfs.btrfs", "-O", "no-holes", "-b", "1g", "-O no-holes -b 1g"]])
    }

    func testRedirections() {
        let script = ShellScript.parse("mkfs.xfs -f /dev/sdb > /dev/null 2>&1\necho 3 >/proc/sys/vm/drop_caches\necho x >> f\ncmd &> log\ncat < in")
        XCTAssertEqual(argvs(script), [["mkfs.xfs", "-f", "/dev/sdb"], ["echo", "3"], ["echo", "x"], ["cmd"], ["cat"]])
        XCTAssertEqual(script.commands[0].redirections, [ShellRedirection(op: ">", target: "/dev/null"), ShellRedirection(descriptor: 2, op: ">&", target: "1")])
        XCTAssertEqual(script.commands[1].standardOutputTarget?.path, "/proc/sys/vm/drop_caches")
        XCTAssertEqual(script.commands[2].standardOutputTarget?.append, true)
        XCTAssertEqual(script.commands[3].redirections, [ShellRedirection(op: "&>", target: "log")])
        XCTAssertEqual(script.commands[4].redirections, [ShellRedirection(op: "<", target: "in")])
    }

    func testForLoopOverSeqIsUnrolledWithArithmetic() {
        let text = """
        for i in $(seq 0 2 4); do
            xfs_io -f -c "falloc $((i * 32768)) 32k" /mnt/file
        done
        """
        let script = ShellScript.parse(text)
        XCTAssertEqual(argvs(script), [0, 65536, 131072].map { ["xfs_io", "-f", "-c", "falloc \($0) 32k", "/mnt/file"] })
        XCTAssertTrue(script.commands.allSatisfy { $0.lines == 2...2 })
        XCTAssertEqual(script.consumed[1], .structure("for i: 3 iterations"))
        XCTAssertEqual(script.consumed[3], .structure("done"))
    }

    func testForLoopOverWordsAndOnOneLine() {
        let script = ShellScript.parse("for f in a b c; do touch /mnt/$f; done")
        XCTAssertEqual(argvs(script), [["touch", "/mnt/a"], ["touch", "/mnt/b"], ["touch", "/mnt/c"]])
    }

    func testLoopBeyondTheBoundIsReportedNotUnrolled() {
        let script = ShellScript.parse("for i in $(seq 1 100000); do\n  touch /mnt/f$i\ndone")
        XCTAssertTrue(script.commands.isEmpty)
        XCTAssertNotNil(script.unsupported[1])
        XCTAssertNotNil(script.unsupported[2])
    }

    func testArithmetic() {
        let variables = ["i": "3", "bs": "4096"]
        XCTAssertEqual(ShellArithmetic.evaluate("i * 32768", variables: variables), 98304)
        XCTAssertEqual(ShellArithmetic.evaluate("($i + 1) * bs - 0x10", variables: variables), 16368)
        XCTAssertEqual(ShellArithmetic.evaluate("1 << 20", variables: [:]), 1_048_576)
        XCTAssertEqual(ShellArithmetic.evaluate("-7 / 2 % 3", variables: [:]), 0)
        XCTAssertNil(ShellArithmetic.evaluate("1 / 0", variables: [:]))
        XCTAssertNil(ShellArithmetic.evaluate("x ? 1 : 2", variables: [:]))
    }

    func testHereDocumentBodyIsKeptAndItsLinesBelongToTheCommand() {
        let script = ShellScript.parse("cat > /mnt/f <<EOF\nhello $x\nEOF\nsync", variables: ["x": "world"])
        XCTAssertEqual(argvs(script), [["cat"], ["sync"]])
        XCTAssertEqual(script.commands[0].redirections.last?.hereDocument, "hello $x\n")
        XCTAssertEqual(script.commands[0].lines, 1...3)
        XCTAssertEqual(script.commands[1].lines, 4...4)
    }

    func testFunctionsAreExpandedWhereCalledAndUncalledOnesAreNamed() {
        let text = """
        _cleanup()
        {
        \trm -f $tmp.*
        }
        write_one()
        {
        \txfs_io -f -c "pwrite 0 $2" /mnt/$1
        }
        write_one foo 4k
        write_one bar 8k
        """
        let script = ShellScript.parse(text)
        XCTAssertEqual(argvs(script), [["xfs_io", "-f", "-c", "pwrite 0 4k", "/mnt/foo"], ["xfs_io", "-f", "-c", "pwrite 0 8k", "/mnt/bar"]])
        XCTAssertEqual(script.consumed[3], .uncalledFunction("_cleanup"))
        XCTAssertEqual(script.consumed[9], .structure("calls write_one, whose lines follow"))
        XCTAssertEqual(script.consumed[1], .uncalledFunction("_cleanup"))
    }

    func testWhileIsReportedWithItsLinesAndAnIfThatOnlyReportsIsACheck() {
        let script = ShellScript.parse("sync\nif [ $? -ne 0 ]; then\n  echo bad\nfi\nwhile true; do sync; done\nsync")
        XCTAssertEqual(argvs(script), [["sync"], ["sync"]])
        XCTAssertEqual(Set(script.unsupported.keys), [5])
        XCTAssertEqual(script.consumed[3], .structure("a check that only reports: regress's own checks stand for it"))
        XCTAssertEqual(script.commands.map(\.firstLine), [1, 6])
    }

    func testUnterminatedQuoteIsReported() {
        XCTAssertNotNil(ShellScript.parse("echo \"abc").incomplete)
        XCTAssertNotNil(ShellScript.parse("cat <<EOF\nabc").incomplete)
        XCTAssertNil(ShellScript.parse("echo ok").incomplete)
    }

    func testSubshellAndGroup() {
        let script = ShellScript.parse("( cd /mnt; touch a )\n{ sync; }")
        XCTAssertEqual(argvs(script), [["cd", "/mnt"], ["touch", "a"], ["sync"]])
    }

    func testExportAndPrefixAssignment() {
        let script = ShellScript.parse("export MNT=/mnt/x\nLANG=C ls $MNT")
        XCTAssertEqual(argvs(script), [["ls", "/mnt/x"]])
        XCTAssertEqual(script.commands[0].environment, ["LANG": "C"])
    }
}
