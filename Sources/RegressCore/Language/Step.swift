/// One line of a test's `steps:` section, parsed: what to do, to which file, and what the test expects.
public struct Step: Equatable, Codable, Sendable {
    public let command: Command
    /// The command's name in `CommandTable` (`fpunch`, `falloc`: both parse to a fallocate).
    public let name: String
    /// The file the command acts on (`file1: fsync`), relative to the mount's root; nil for whole-fs commands.
    public let file: String?
    /// How the file is opened for this step, as xfs_io's own flags open it (`foo: -d pwrite …` is
    /// `xfs_io -d -c 'pwrite …' foo`).
    public let openFlags: OpenFlags
    public let expectation: Expectation
    public let location: SourceLocation
    /// The step as written, for reports: `file1: reflink file1 8k 0 4k`.
    public let text: String

    public init(command: Command, name: String, file: String?, openFlags: OpenFlags = [], expectation: Expectation = .success,
                location: SourceLocation, text: String) {
        self.command = command
        self.name = name
        self.file = file
        self.openFlags = openFlags
        self.expectation = expectation
        self.location = location
        self.text = text
    }

    /// `fsync file1` for failure messages: the command and its file, without the arguments.
    public var shortName: String { ([name] + (file.map { [$0] } ?? [])).joined(separator: " ") }

    /// The command's declaration: its category, the backend it needs, its help.
    public var spec: CommandSpec { CommandTable.spec(name)! }
}

/// xfs_io's open flags a step may carry before its command: `-d` O_DIRECT, `-s` O_SYNC, and regress's `-D`
/// O_DSYNC (xfs_io has no flag for it; its `pwrite -D` is RWF_DSYNC on each call).
public struct OpenFlags: OptionSet, Hashable, Codable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let direct = OpenFlags(rawValue: 1)
    public static let sync = OpenFlags(rawValue: 2)
    public static let dataSync = OpenFlags(rawValue: 4)

    /// The flag words in the test language, in the order they are written.
    public static let words: [(String, OpenFlags)] = [("-d", .direct), ("-s", .sync), ("-D", .dataSync)]

    /// Writes through such an open are durable when the call returns.
    public var writesAreDurable: Bool { contains(.sync) || contains(.dataSync) }
}

/// What a step's outcome must be. A step that fails with an errno not allowed, or succeeds where an errno
/// is required, makes the test `not ok`.
public enum Expectation: Equatable, Codable, Sendable {
    case success
    /// Success, or one of these errnos (the padding fill of a full fs runs into ENOSPC by design).
    case allow(Set<Errno>)
    /// One of these errnos; success is a failure of the test.
    case require(Set<Errno>)

    public func accepts(_ error: Errno?) -> Bool {
        switch (self, error) {
        case (.success, nil), (.allow, nil): return true
        case (.success, .some): return false
        case (.allow(let set), .some(let e)), (.require(let set), .some(let e)): return set.contains(e)
        case (.require, nil): return false
        }
    }

    /// "success", "success or ENOSPC", "EINVAL": for `expected …` in failure messages.
    public var description: String {
        func names(_ set: Set<Errno>) -> String { set.map(\.name).sorted().joined(separator: " or ") }
        switch self {
        case .success: return "success"
        case .allow(let set): return "success or \(names(set))"
        case .require(let set): return names(set)
        }
    }
}
