import Foundation
import XCTest
import RegressCore
import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// The commands of issue 10's language gaps on real filesystems: mapped stores and msync, extent counts
/// (against filefrag's own), extent-size hints (against xfs_io's own reading), and `requires:` features
/// that skip where this kernel or filesystem lacks them.
final class MappingAndLayoutIntegrationTests: IntegrationTestCase {
    static let all: [FilesystemKind] = [.btrfs, .xfs, .ext4]

    // MARK: mmap, mwrite, msync

    /// Stores through a mapping are content at once; msync -s makes its range durable across a power cut,
    /// and under a disk that lies about flushes the same test fails at exactly the synced range.
    func testMsyncMakesMappedStoresDurableAndALyingDiskLosesThem() throws {
        let steps = """
        f: pwrite -S 0x11 0 64k
        f: fsync
        f: mmap -rw 0 64k
        f: mwrite -S 0x22 4k 8k
        verify f
        LYING
        f: msync -s 4k 8k
        f: munmap
        power-cut
        verify f
        """
        let honest = try define("msync", "summary: msync -s\nsteps:\n" + steps.replacingOccurrences(of: "LYING\n", with: ""))
        for result in run(honest, on: Self.all) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertEqual(result.verifications.count, 2, Self.explain(result))
        }
        let lying = try define("msync-lying", "summary: msync -s under a lying cache\nsteps:\n" + steps.replacingOccurrences(of: "LYING", with: "lying-cache on"))
        for result in run(lying, on: Self.all) {
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            let lost = result.verifications.flatMap(\.mismatches)
            XCTAssertEqual(lost.map(\.offset), [4096], Self.explain(result))
            XCTAssertEqual(lost.first?.expected, 0x22)
            XCTAssertEqual(lost.first?.found, .byte(0x11), "the synced stores never reached the disk")
        }
    }

    /// A store past the end of the file faults (SIGBUS in xfs_io): the step ends with EFAULT, the stores before
    /// it are content, and the bytes past the end of the file in its last page are no part of it.
    func testAStorePastTheEndOfTheFileIsEFAULTAndTheStoresBeforeItCount() throws {
        let test = try define("mwrite-eof", """
        summary: mwrite across the end of the file
        steps:
        f: truncate 6000
        f: mmap -rw 0 16k
        f: mwrite -S 0x41 4k 8k   expect EFAULT
        f: munmap
        verify f
        remount
        verify f
        """)
        for result in run(test, on: Self.all) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            XCTAssertTrue(result.log.contains { $0.contains("mwrite -S 0x41 4k 8k expect EFAULT -> EFAULT") }, Self.explain(result))
            XCTAssertEqual(result.verifications.map(\.foundSize), [6000, 6000], Self.explain(result))
        }
        let unexpected = try define("mwrite-eof-fails", "summary: mwrite past the end, unexpected\nsteps:\nf: truncate 100\nf: mmap 0 8k\nf: mwrite 4k 4k\n")
        for result in run(unexpected, on: [.ext4]) {
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            XCTAssertEqual(result.stepFailures.first?.got, .EFAULT)
            XCTAssertTrue(result.stepFailures.first?.detail?.contains("SIGBUS storing at offset 4096") == true, "\(result.stepFailures)")
        }
    }

    // MARK: expect-extents

    /// regress's count is filefrag's: after each `expect-extents` the real filefrag (e2fsprogs) counts the same
    /// file, and both must agree on layouts with several FIEMAP records (holes punched, a hole written again
    /// wherever the filesystem puts it); a wrong expectation fails with `f has N extent(s), expected M`.
    func testExtentCountsAgreeWithFilefragAndAWrongCountFails() throws {
        let filefrag = try XCTUnwrap(Self.installed("filefrag"), "filefrag (e2fsprogs) is installed by scripts/install")
        let test = try define("extents", """
        summary: extents after holes are punched and one written again
        steps:
        f: pwrite -b 1m 0 2m
        f: fsync
        f: close
        f: expect-extents -s 1
        f: fpunch 256k 64k
        f: fpunch 1m 4k
        f: expect-extents -s 1
        f: pwrite -S 0x33 256k 16k
        f: fsync
        f: expect-extents 1000
        verify f
        """)
        for fs in Self.all {
            var filefragCounts: [Int] = []
            let results = run(test, on: [fs], afterStep: { index, mountPoint in
                guard [3, 6, 9].contains(index) else { return }
                filefragCounts.append(Self.filefragCount(filefrag, mountPoint + "/f"))
            })
            guard let result = results.first else { continue }
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            XCTAssertEqual(result.stepFailures.count, 1, Self.explain(result))
            guard let failure = result.stepFailures.first, filefragCounts.count == 3 else { continue }
            XCTAssertEqual(filefragCounts.prefix(2), [1, 1], "filefrag: holes punched leave one extent on \(fs)")
            let ours = filefragCounts[2]
            XCTAssertEqual(failure.description, "f has \(ours) extent\(ours == 1 ? "" : "s"), expected 1000", "filefrag counted \(ours) on \(fs)")
            XCTAssertEqual(failure.location.line, 12)
            XCTAssertTrue(result.log.contains { $0.contains("FIEMAP reports") && $0.contains("3 piece(s)") }, "the punch leaves 3 records: " + Self.explain(result))
        }
    }

    /// `FILE: N extents found` → N, from the real filefrag.
    static func filefragCount(_ filefrag: String, _ path: String) -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: filefrag)
        process.arguments = ["-s", path]
        let output = Pipe()
        process.standardOutput = output
        guard (try? process.run()) != nil else { return -1 }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let words = text.split(separator: " ")
        guard let at = words.firstIndex(where: { $0 == "extent" || $0 == "extents" }), at > 0 else { return -1 }
        return Int(words[at - 1]) ?? -1
    }

    // MARK: extsize, cowextsize

    /// xfs keeps both hints (xfs_io reads them back); btrfs refuses FS_IOC_FSSETXATTR's hints (EOPNOTSUPP),
    /// ext4 takes them and keeps none (a check failure). An xfs made without reflink refuses the CoW hint (EINVAL).
    func testExtentSizeHintsOnEachFilesystem() throws {
        let xfsIO = try XCTUnwrap(Self.installed("xfs_io"), "xfs_io (xfsprogs) is installed by scripts/install")
        let xfs = try define("hints-xfs", """
        summary: hints on xfs
        filesystems: xfs
        requires: extsize cowextsize
        steps:
        f: extsize 1m
        f: cowextsize 256k
        mkdir d
        d: extsize 64k
        f: pwrite 0 4k
        """)
        var shown = ""
        guard let result = run(xfs, on: [.xfs], afterStep: { index, mountPoint in
            guard index == 3 else { return }
            shown = Self.output(xfsIO, ["-c", "extsize", "-c", "cowextsize", mountPoint + "/f"]) + Self.output(xfsIO, ["-c", "extsize", mountPoint + "/d"])
        }).first else { return }
        XCTAssertEqual(result.verdict, .pass, Self.explain(result))
        XCTAssertEqual(shown.split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }, ["[1048576]", "[262144]", "[65536]"], shown)

        let refused = try define("hints-refused", """
        summary: hints where there are none
        filesystems: btrfs
        steps:
        f: extsize 1m   expect EOPNOTSUPP
        f: cowextsize 1m   expect EOPNOTSUPP
        f: pwrite 0 4k
        """)
        for result in run(refused, on: [.btrfs]) { XCTAssertEqual(result.verdict, .pass, Self.explain(result)) }

        // ext4 says yes to FS_IOC_FSSETXATTR and keeps no hint: no errno (the kernel returned none), but the
        // test fails, on the read-back, in words of its own.
        let ignored = try define("hints-ignored", """
        summary: hints ext4 accepts and drops
        filesystems: ext4
        steps:
        f: extsize 1m
        f: pwrite 0 4k
        """)
        for result in run(ignored, on: [.ext4]) {
            XCTAssertEqual(result.verdict, .fail, Self.explain(result))
            XCTAssertEqual(result.stepFailures.map(\.got), [nil], "a check, no errno: " + Self.explain(result))
            XCTAssertTrue(result.reasons.contains { $0.contains("f keeps a extsize hint of 0 after FS_IOC_FSSETXATTR succeeded") }, Self.explain(result))
        }

        let noReflink = try define("cow-hint-no-reflink", """
        summary: a CoW hint on an xfs without reflink
        filesystems: xfs
        mkfs.xfs: -m reflink=0
        steps:
        f: cowextsize 1m   expect EINVAL
        f: pwrite 0 4k
        """)
        for result in run(noReflink, on: [.xfs]) { XCTAssertEqual(result.verdict, .pass, Self.explain(result)) }
    }

    static func installed(_ tool: String) -> String? {
        let directories: [String] = ["/usr/sbin", "/sbin", "/usr/bin"]
        return directories.map { $0 + "/" + tool }.first { access($0, X_OK) == 0 }
    }

    static func output(_ program: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return "" }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    // MARK: requires

    /// `requires: quota` with the quota mount options: where this kernel has the filesystem's quota the test
    /// runs and passes; where it lacks it (this machine's 6.18 has no CONFIG_XFS_QUOTA) it is a skip with the
    /// reason, decided by the planner and, should the planner not know, by the case itself when the mount fails.
    func testRequiresQuotaRunsOrSkipsAsTheKernelSays() throws {
        let test = try define("quota", """
        summary: quota-mounted filesystems
        filesystems: xfs ext4
        requires: quota
        mount.xfs: usrquota
        mount.ext4: usrquota
        steps:
        f: pwrite 0 64k
        verify f
        """)
        let xfsHasQuota = access("/proc/fs/xfs/xqmstat", F_OK) == 0
        let cases = Planner(filesystems: [.xfs, .ext4]).plan([test])
        for testCase in cases {
            // Past the planner too: the case's own probes after a failing mount must say the same.
            let direct = CaseRunner(TestCase(test: test, filesystem: testCase.filesystem, skipReason: nil), options: options()).run()
            let planned = CaseRunner(testCase, options: options()).run()
            if testCase.filesystem == .xfs && !xfsHasQuota {
                let reason = "requires quota: the kernel's xfs has no quota support (CONFIG_XFS_QUOTA: /proc/fs/xfs/xqmstat is missing)"
                XCTAssertEqual(testCase.skipReason, reason)
                for result in [direct, planned] {
                    XCTAssertEqual(result.verdict, .skip, Self.explain(result))
                    XCTAssertEqual(result.reasons, [reason], Self.explain(result))
                }
            } else {
                XCTAssertNil(testCase.skipReason)
                for result in [direct, planned] { XCTAssertEqual(result.verdict, .pass, Self.explain(result)) }
            }
        }
        XCTAssertEqual(Planner(filesystems: [.btrfs]).plan([try define("quota-btrfs", "summary: q\nrequires: quota\nsteps:\nf: pwrite 0 1\n")]).first?.skipReason,
                       "requires quota: btrfs has no quota")
    }

    /// `requires: compression` with `compress=zstd`: this kernel's btrfs has zstd, so the test runs, and the
    /// real filefrag sees its data compressed (FIEMAP_EXTENT_ENCODED); xfs and ext4 skip with the reason.
    func testRequiresCompressionRunsOnBtrfsWithTheAlgorithmItNames() throws {
        let filefrag = try XCTUnwrap(Self.installed("filefrag"), "filefrag (e2fsprogs) is installed by scripts/install")
        let test = try define("compressed", """
        summary: compressed data
        requires: compression
        mount.btrfs: compress=zstd
        steps:
        f: pwrite -b 1m 0 1m
        f: fsync
        remount
        verify f
        """)
        let cases = Planner(filesystems: Self.all).plan([test])
        XCTAssertEqual(cases.compactMap(\.skipReason), ["requires compression: xfs has no compression", "requires compression: ext4 has no compression"])
        XCTAssertEqual(access("/sys/fs/btrfs/features/compress_zstd", F_OK), 0, "this kernel's btrfs has zstd")
        var layout = ""
        guard let result = run(test, on: [.btrfs], afterStep: { index, mountPoint in
            if index == 1 { layout = Self.output(filefrag, ["-v", mountPoint + "/f"]) }
        }).first else { return }
        XCTAssertEqual(result.verdict, .pass, Self.explain(result))
        XCTAssertTrue(layout.contains("encoded"), "compress=zstd compressed the data: \(layout)")
    }

    /// `requires: inline_data`: a trial mkfs.ext4 -O inline_data and mount on the case's device, then the real
    /// mkfs; a 60-byte file stays in the inode (one inline extent) and its data survives. On xfs: a skip.
    func testRequiresInlineDataRunsOnExt4AndSkipsElsewhere() throws {
        let test = try define("inline", """
        summary: inline data
        filesystems: ext4 xfs
        requires: inline_data
        mkfs.ext4: -O inline_data
        steps:
        f: pwrite -S 0x61 0 60
        f: fsync
        f: expect-extents 1
        remount
        verify f
        """)
        let cases = Planner(filesystems: [.ext4, .xfs]).plan([test])
        XCTAssertEqual(cases.first { $0.filesystem == .xfs }?.skipReason, "requires inline_data: xfs has no inline_data")
        let ext4 = try XCTUnwrap(cases.first { $0.filesystem == .ext4 })
        XCTAssertNil(ext4.skipReason)
        let result = CaseRunner(ext4, options: options()).run()
        XCTAssertEqual(result.verdict, .pass, Self.explain(result))
        XCTAssertTrue(result.log.contains { $0.contains("FIEMAP reports 1 piece(s), 1 extent(s)") }, Self.explain(result))
    }

    // MARK: import

    /// The round trip: fstests' generic/029 (second case) as a script, imported, run: its mapped stores
    /// appear in the step log and the result is right.
    func testAnImportedMmapReproducerRunsItsMappedStores() throws {
        let script = """
        _require_scratch
        _scratch_mkfs > /dev/null 2>&1
        _scratch_mount
        $XFS_IO_PROG -t -f \\
        -c "truncate 5120" \\
        -c "pwrite -S 0x58 0 5120" \\
        -c "mmap -rw 0 5120" \\
        -c "mwrite -S 0x5a 2048 3072" \\
        -c "truncate 2048" \\
        -c "mwrite -S 0x57 1024 1024" \\
        -c "truncate 5120" \\
        -c "mwrite -S 0x59 2048 3072" \\
        -c "close" \\
        $SCRATCH_MNT/testfile | _filter_xfs_io
        hexdump -C $SCRATCH_MNT/testfile
        filefrag -s $SCRATCH_MNT/testfile | grep -q "1 extent found"
        _scratch_cycle_mount
        hexdump -C $SCRATCH_MNT/testfile
        """
        let output = ReproducerImporter().importScript(script, name: "generic-029")
        XCTAssertEqual(output.untranslated.map(\.number), [])
        let test = try define("generic-029", try XCTUnwrap(output.text))
        for result in run(test, on: Self.all) {
            XCTAssertEqual(result.verdict, .pass, Self.explain(result))
            for step in ["mmap -rw 0 5120 -> ok", "mwrite -S 0x57 1024 1024 -> ok", "munmap -> ok", "expect-extents -s 1 -> ok"] {
                XCTAssertTrue(result.log.contains { $0.contains(step) }, "\(step): " + Self.explain(result))
            }
        }
    }
}
