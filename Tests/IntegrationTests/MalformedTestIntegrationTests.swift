import Foundation
import XCTest
import RegressRunner

/// A test file with an error is refused before anything is made: no image, no loop device, no mount.
final class MalformedTestIntegrationTests: IntegrationTestCase {
    static let text = """
    summary: the fourth step is a typo
    filesystems: ext4
    steps:
    f: pwrite 0 4k
    f: frobnicate 0 4k
    verify f
    """

    func testTheLoaderGivesTheDiagnostic() throws {
        XCTAssertThrowsError(try define("broken", Self.text)) { error in
            XCTAssertEqual((error as? Diagnostic)?.description, "\(testsDirectory)/broken:5:4: unknown command 'frobnicate'")
        }
    }

    /// Through the real command line: exit status 2, the diagnostic on stderr, and no loop device ever
    /// attached. Loop devices are counted by backing file: every image this run could make lies under its
    /// --workdir, so the count is exact even while other regress runs attach devices of their own.
    func testTheCommandLineRefusesItAndAttachesNothing() throws {
        let regress = try XCTUnwrap(Self.regressExecutable, "the regress executable is not next to the test bundle: build with --build-tests")
        XCTAssertTrue(FileManager.default.createFile(atPath: testsDirectory + "/broken", contents: Data(Self.text.utf8),
                                                     attributes: [.posixPermissions: 0o644]))
        let loopsBefore = Self.loopDevices(backedUnder: directory)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: regress)
        process.arguments = ["run", "--tests-dir", testsDirectory, "--workdir", workDirectory, "broken"]
        // Run from the private directory, so that nothing the command might write lands in the checkout.
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let standardError = Pipe()
        process.standardError = standardError
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: standardError.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 2, "a bad test file is bad usage: \(message)")
        XCTAssertEqual(message, "regress: \(testsDirectory)/broken:5:4: unknown command 'frobnicate'\n")
        XCTAssertEqual(loopsBefore, [])
        XCTAssertEqual(Self.loopDevices(backedUnder: directory), [])
        let made = (try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? []
        XCTAssertFalse(made.contains { $0.hasPrefix("broken") }, "an image directory was made for a test that cannot parse: \(made)")
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
}
