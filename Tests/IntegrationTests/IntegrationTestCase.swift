import Foundation
import XCTest
import RegressCore
import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// What every integration test shares: a private work directory on a disk-backed filesystem, a way to run
/// a test text through the real runner, and the check that a run leaves no loop device and no mount behind.
///
/// These tests make real filesystems on real loop devices, so they need root. They never skip: a CI job
/// that cannot run them must fail and say why, not report green.
class IntegrationTestCase: XCTestCase {
    /// This test's private directory; test files go in `tests/`, regress's images and mounts in `work/`.
    var directory = ""
    var testsDirectory: String { directory + "/tests" }
    var workDirectory: String { directory + "/work" }

    struct EnvironmentError: Error, CustomStringConvertible { let description: String }

    override func setUpWithError() throws {
        guard geteuid() == 0 else {
            throw EnvironmentError(description: "integration tests need root (loop devices, mkfs, mount): run `sudo swift test`")
        }
        guard access("/dev/loop-control", R_OK | W_OK) == 0 else {
            throw EnvironmentError(description: "integration tests need /dev/loop-control (modprobe loop)")
        }
        // /var/tmp, not /tmp: a test that fills a 512 MiB filesystem must not fill a tmpfs in RAM.
        var template = Array("/var/tmp/regress-integration-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw EnvironmentError(description: "cannot create a directory in /var/tmp: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        try FileManager.default.createDirectory(atPath: testsDirectory, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o755])
    }

    override func tearDownWithError() throws {
        guard !directory.isEmpty else { return }
        // Every run must clean up after itself: checked after every test, whatever it asserted.
        XCTAssertEqual(Self.loopDevices(backedUnder: directory), [], "loop devices left attached")
        XCTAssertEqual(Self.mountPoints(under: directory), [], "mounts left behind")
        if Self.mountPoints(under: directory).isEmpty {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    // MARK: running tests

    /// The checkout this file belongs to, where tests.d lives.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Writes `text` as the test file `name` and loads it as `regress run` would, so that locations name a real file.
    func define(_ name: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> TestDefinition {
        let path = testsDirectory + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]),
                      file: file, line: line)
        return try TestLibrary(directory: testsDirectory).load(name)
    }

    func options(_ change: (inout CaseOptions) -> Void = { _ in }) -> CaseOptions {
        var options = CaseOptions()
        options.workDirectory = workDirectory
        change(&options)
        return options
    }

    /// Runs `test` on each of `filesystems`; a case that would be skipped fails the test instead.
    func run(_ test: TestDefinition, on filesystems: [FilesystemKind], options: CaseOptions? = nil,
             afterStep: ((Int, String) -> Void)? = nil, file: StaticString = #filePath, line: UInt = #line) -> [TestResult] {
        let cases = Planner(filesystems: filesystems).plan([test])
        XCTAssertEqual(cases.map(\.filesystem), filesystems, "the test must apply to every filesystem asked for", file: file, line: line)
        return cases.compactMap { testCase in
            if let reason = testCase.skipReason {
                XCTFail("\(testCase.id) cannot run here: \(reason)", file: file, line: line)
                return nil
            }
            let result = CaseRunner(testCase, options: options ?? self.options(), afterStep: afterStep).run()
            XCTAssertEqual(Self.loopDevices(backedUnder: directory), [], "\(testCase.id) left a loop device", file: file, line: line)
            XCTAssertEqual(Self.mountPoints(under: directory), [], "\(testCase.id) left a mount", file: file, line: line)
            return result
        }
    }

    /// Everything a failed assertion needs to be understood without running the test again.
    static func explain(_ result: TestResult) -> String {
        "\(result.id): \(result.verdict.rawValue)\n  reasons: \(result.reasons)\n  log:\n    "
            + result.log.suffix(40).joined(separator: "\n    ")
    }

    // MARK: the command line

    /// What a run of the regress binary printed and how it ended.
    struct CommandOutcome { let status: Int32; let standardError: String }

    /// Runs the regress binary SwiftPM built beside this test bundle, from this test's private directory
    /// (so nothing it writes lands in the checkout), and waits for it.
    func regress(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> CommandOutcome {
        let binary = try XCTUnwrap(Self.regressExecutable, "the regress executable is not next to the test bundle: build with --build-tests",
                                   file: file, line: line)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let standardError = Pipe()
        process.standardError = standardError
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: standardError.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return CommandOutcome(status: process.terminationStatus, standardError: message)
    }

    /// The regress binary SwiftPM built beside this test bundle.
    static var regressExecutable: String? {
        guard let bundle = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        var directory = URL(fileURLWithPath: bundle).deletingLastPathComponent()
        // On Linux the bundle is `<config>/regressPackageTests.xctest`, an executable, beside `regress`.
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("regress").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    // MARK: what the kernel says is attached and mounted

    /// Loop devices whose backing file lies under `directory`, from /sys/block/loop*/loop/backing_file.
    static func loopDevices(backedUnder directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? []
        return names.filter { $0.hasPrefix("loop") }.sorted().compactMap { name in
            guard let backing = try? String(contentsOfFile: "/sys/block/\(name)/loop/backing_file", encoding: .utf8) else { return nil }
            return backing.hasPrefix(directory + "/") ? "\(name) -> \(backing.trimmingCharacters(in: .newlines))" : nil
        }
    }

    /// Mount points under `directory`, from /proc/self/mountinfo (field 5 is the mount point).
    static func mountPoints(under directory: String) -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let mountPoint = String(fields[4])
            return mountPoint == directory || mountPoint.hasPrefix(directory + "/") ? mountPoint : nil
        }
    }
}
