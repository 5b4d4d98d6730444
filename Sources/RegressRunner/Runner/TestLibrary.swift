#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// The tests of a tests.d directory: one file a test, named after the test, no extension.
/// Files ending in .md and hidden files are documentation and editor droppings, not tests.
public struct TestLibrary {
    public let directory: String

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String, String)
        case unknownTest(String, String)
        case unsafe(String, String)
        public var description: String {
            switch self {
            case .unreadable(let path, let why): return "\(path): cannot read: \(why)"
            case .unknownTest(let name, let directory): return "\(name): no such test in \(directory)"
            case .unsafe(let path, let why): return "\(path): refused: \(why)"
            }
        }
    }

    public init(directory: String) { self.directory = directory }

    /// Test names in the directory, sorted.
    public func names() throws -> [String] {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw LoadError.unreadable(directory, "no such directory")
        }
        return entries.filter(TestLibrary.isTestName).filter { name in
            return fileKind(directory + "/" + name) == .file
        }.sorted()
    }

    static func isTestName(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix(".md") && !name.hasSuffix("~") && !name.hasSuffix(".swp")
    }

    /// Parses one test. A test named by a path (`./my-test`, `/tmp/x`) is read from there.
    public func load(_ name: String) throws -> TestDefinition {
        let path = name.contains("/") ? name : directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else { throw LoadError.unknownTest(name, directory) }
        // Its directory too: whoever can write there can replace the file.
        try TestLibrary.checkOwnership(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        try TestLibrary.checkOwnership(path)
        guard let data = FileManager.default.contents(atPath: path) else { throw LoadError.unreadable(path, "permission denied") }
        guard let text = String(data: data, encoding: .utf8) else { throw LoadError.unreadable(path, "not UTF-8 text") }
        let testName = URL(fileURLWithPath: path).lastPathComponent
        return try TestParser(path: path, name: testName).parse(text)
    }

    public func loadAll() throws -> [TestDefinition] {
        try TestLibrary.checkOwnership(directory)   // refused even when it holds no test yet
        return try names().map(load)
    }

    /// As sudo refuses a sudoers file others can write: when run as root, a test file or its directory that
    /// another user could change is refused, since its steps run as root on devices.
    static func checkOwnership(_ path: String) throws {
        guard geteuid() == 0 else { return }
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        if info.st_mode & S_IWOTH != 0 { throw LoadError.unsafe(path, "writable by every user") }
        if info.st_uid != 0, info.st_mode & S_IWUSR != 0, info.st_uid != ownerOfRunningUser() {
            throw LoadError.unsafe(path, "owned by uid \(info.st_uid), who is neither root nor the user running sudo")
        }
    }

    /// The user who ran `sudo regress`, whose own test files are trusted like root's.
    private static func ownerOfRunningUser() -> uid_t {
        if let text = ProcessInfo.processInfo.environment["SUDO_UID"], let uid = uid_t(text) { return uid }
        return 0
    }
}
