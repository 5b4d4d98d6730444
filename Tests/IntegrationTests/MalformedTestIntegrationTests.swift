import Foundation
import XCTest
import RegressCore
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
        XCTAssertTrue(FileManager.default.createFile(atPath: testsDirectory + "/broken", contents: Data(Self.text.utf8),
                                                     attributes: [.posixPermissions: 0o644]))
        let loopsBefore = Self.loopDevices(backedUnder: directory)
        let outcome = try regress(["run", "--tests-dir", testsDirectory, "--workdir", workDirectory, "broken"])
        let message = outcome.standardError
        XCTAssertEqual(outcome.status, 2, "a bad test file is bad usage: \(message)")
        XCTAssertEqual(message, "regress: \(testsDirectory)/broken:5:4: unknown command 'frobnicate'\n")
        XCTAssertEqual(loopsBefore, [])
        XCTAssertEqual(Self.loopDevices(backedUnder: directory), [])
        let made = (try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? []
        XCTAssertFalse(made.contains { $0.hasPrefix("broken") }, "an image directory was made for a test that cannot parse: \(made)")
    }
}
