import Foundation
import XCTest
@testable import RegressCore
@testable import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// regress runs as root: file names stay beneath the mount, other users' test files are refused, devices
/// that carry data are refused, and two regress processes at once never get in each other's way.
final class SafetyIntegrationTests: IntegrationTestCase {
    /// `../../etc/passwd` never reaches a syscall: the parser rejects it with its line and column.
    func testDotDotIsRejectedBeforeAnyIO() throws {
        let loopsBefore = LoopDevice.attached().count
        XCTAssertThrowsError(try define("escape", """
        summary: tries to write outside the mount
        steps:
        ../../etc/passwd: pwrite 0 4k
        """)) { error in
            XCTAssertEqual("\(error)", "\(self.testsDirectory)/escape:3:1: '../../etc/passwd' leaves the mount ('..' is not allowed)")
        }
        XCTAssertEqual(LoopDevice.attached().count, loopsBefore, "a rejected test must not make a loop device")
    }

    /// A symlink inside the mount that points outside: openat2(RESOLVE_BENEATH) refuses to follow it, the
    /// step fails with EXDEV and says why, and the file outside is untouched.
    func testSymlinkOutOfTheMountIsRefused() throws {
        let outside = directory + "/outside"
        XCTAssertTrue(FileManager.default.createFile(atPath: outside, contents: Data("precious\n".utf8)))
        let test = try define("symlink-escape", """
        summary: a symlink made behind regress's back points out of the mount
        filesystems: ext4
        size: 64m
        steps:
        a: pwrite 0 4k
        a: fsync
        link: pwrite 0 4k
        """)
        let afterStep: (Int, String) -> Void = { index, mountPoint in
            // After the first step, plant a symlink named "link" that leads outside the mount.
            if index == 0 { _ = symlink(outside, mountPoint + "/link") }
        }
        guard let result = run(test, on: [.ext4], afterStep: afterStep).first else { return }
        XCTAssertEqual(result.verdict, .fail, Self.explain(result))
        let failure = try XCTUnwrap(result.stepFailures.first)
        XCTAssertEqual(failure.got, .EXDEV)
        XCTAssertEqual(failure.location.line, 7)
        XCTAssertEqual(failure.detail, "'link' resolves outside the mount")
        XCTAssertEqual(try String(contentsOfFile: outside, encoding: .utf8), "precious\n", "the file outside must be untouched")
    }

    /// As root, a test file that every user may write is refused with its path.
    func testWorldWritableTestFileIsRefused() throws {
        _ = try define("writable", """
        summary: harmless, but anyone could have changed it
        steps:
        a: pwrite 0 4k
        """)
        let path = testsDirectory + "/writable"
        XCTAssertEqual(chmod(path, 0o666), 0)
        XCTAssertThrowsError(try TestLibrary(directory: testsDirectory).load("writable")) { error in
            XCTAssertEqual("\(error)", "\(path): refused: writable by every user")
        }
    }

    /// --scratch-dev refuses a loop device that carries a filesystem, and leaves it exactly as it was;
    /// with --force it is used.
    func testScratchDeviceWithAFilesystemIsRefused() throws {
        let image = directory + "/scratch.img"
        XCTAssertTrue(FileManager.default.createFile(atPath: image, contents: nil))
        XCTAssertEqual(truncate(image, 64 << 20), 0)
        let loop = try LoopDevice.attach(to: image)
        defer { loop.detach() }
        let mkfs = try Subprocess.run(["mkfs.ext4", "-F", "-q", loop.path])
        XCTAssertTrue(mkfs.succeeded, mkfs.output)
        let before = try Data(contentsOf: URL(fileURLWithPath: image))

        XCTAssertThrowsError(try ScratchDevice.check(loop.path, force: false)) { error in
            XCTAssertEqual("\(error)", "\(loop.path): refused: it carries a filesystem (ext4); pass --force to overwrite it")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: image)), before, "a refused device must not change")
        XCTAssertNoThrow(try ScratchDevice.check(loop.path, force: true))

        let mountPoint = directory + "/scratch-mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        try Mounter.mount(source: loop.path, target: mountPoint, type: "ext4", options: "")
        defer { try? Mounter.unmount(mountPoint) }
        XCTAssertThrowsError(try ScratchDevice.check(loop.path, force: true)) { error in
            XCTAssertEqual("\(error)", "\(loop.path): refused: it is mounted on \(mountPoint)")
        }
    }

    /// The machine's root disk is refused, whatever --force says.
    func testRootDiskIsRefused() throws {
        var root = stat()
        XCTAssertEqual(stat("/", &root), 0)
        guard let name = ScratchDevice.sysfsName(root.st_dev) else {
            throw XCTSkip("the root filesystem is not on a block device here (overlay or tmpfs)")
        }
        // The whole disk if / is on a partition of it.
        let disk = access("/sys/class/block/\(name)/partition", F_OK) == 0
            ? (try FileManager.default.destinationOfSymbolicLink(atPath: "/sys/class/block/\(name)"))
                .split(separator: "/").dropLast().last.map(String.init) ?? name
            : name
        XCTAssertThrowsError(try ScratchDevice.check("/dev/" + disk, force: true)) { error in
            XCTAssertTrue("\(error)".hasPrefix("/dev/\(disk): refused: "), "\(error)")
        }
    }

    /// Two regress processes at once, in the same work directory, both pass: each test gets its own loop
    /// device (LOOP_CTL_GET_FREE races are retried), nothing is shared and nothing is left.
    func testTwoRegressProcessesAtOnce() throws {
        let binary = try XCTUnwrap(Self.regressExecutable, "the regress executable is not next to the test bundle")
        _ = try define("quick-a", """
        summary: a quick test for two processes at once
        size: 300m
        steps:
        a: pwrite -S 0x61 0 2m
        a: fsync
        remount
        verify
        """)
        let processes = (0..<2).map { index -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", "-q", "-j", "2", "--tests-dir", testsDirectory, "--workdir", workDirectory,
                                 "--results", directory + "/results-\(index)", "--format", "json", "--output", directory + "/report-\(index).json"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return process
        }
        try processes.forEach { try $0.run() }
        processes.forEach { $0.waitUntilExit() }
        for (index, process) in processes.enumerated() {
            XCTAssertEqual(process.terminationStatus, 0, "regress #\(index) failed")
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/report-\(index).json"))) as? [String: Any]
            let results = report?["results"] as? [[String: Any]] ?? []
            XCTAssertEqual(results.count, 3, "one result per filesystem")
            XCTAssertTrue(results.allSatisfy { $0["verdict"] as? String == "pass" }, "\(results)")
        }
        XCTAssertEqual(Self.loopDevices(backedUnder: directory), [])
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? [], [], "work areas left behind")
    }

    /// A relative `--tests-dir` keeps the results beside it, never at the machine's root (`tests.d` has no
    /// parent in its own spelling: the results once went to `/results`).
    func testARelativeTestsDirectoryKeepsResultsBesideIt() throws {
        try FileManager.default.createDirectory(atPath: directory + "/tests.d", withIntermediateDirectories: true)
        try "summary: one write\nfilesystems: ext4\nsteps:\nf: pwrite 0 4k\nverify\n".write(toFile: directory + "/tests.d/one-write", atomically: false, encoding: .utf8)
        let rootHadResults = FileManager.default.fileExists(atPath: "/results")
        let outcome = try regress(["run", "-q", "--tests-dir", "tests.d", "--workdir", directory + "/work", "one-write"])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/results/latest"), "results beside tests.d")
        if !rootHadResults { XCTAssertFalse(FileManager.default.fileExists(atPath: "/results"), "nothing at the machine's root") }
    }
}
