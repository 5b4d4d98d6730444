/// A test as its file in tests.d describes it: metadata, then steps.
public struct TestDefinition: Sendable {
    public let name: String
    public let path: String
    public var summary = ""
    public var groups: [String] = []
    /// The filesystems the test applies to; empty means all that regress knows.
    public var filesystems: [FilesystemKind] = []
    public var imageSize: UInt64 = 512 << 20
    public var mkfsOptions: [FilesystemKind: [String]] = [:]
    public var mountOptions: [FilesystemKind: String] = [:]
    public var requires: Set<FilesystemKind.Feature> = []
    /// The fix the test guards: its commit subject, and its id where known.
    public var fixSubject: String?
    public var fixCommit: String?
    public var timeoutSeconds: Int?
    public var steps: [Step] = []

    public init(name: String, path: String) { self.name = name; self.path = path }

    public var applicableFilesystems: [FilesystemKind] { filesystems.isEmpty ? FilesystemKind.allCases : filesystems }

    /// Whether a run needs the emulated disk (power cuts, injected faults); others run on a plain loop device.
    public var needsEmulatedDisk: Bool { steps.contains { $0.command.needsEmulatedDisk } }
}
