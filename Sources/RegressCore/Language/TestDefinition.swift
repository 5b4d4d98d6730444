/// A test as its file in tests.d describes it: metadata, then steps.
public struct TestDefinition: Codable, Sendable {
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

    /// What the test's steps need under the filesystem (a power-cut backend, the emulated disk), with the
    /// first step that needs each: `regress list` shows it, and a run without it stops there.
    public var requirements: [(CommandSpec.Requirement, Step)] {
        var seen: Set<CommandSpec.Requirement> = []
        return steps.compactMap { step in
            guard let requirement = step.spec.requirement, seen.insert(requirement).inserted else { return nil }
            return (requirement, step)
        }
    }

    /// Whether a run needs the emulated disk (injected faults); others run on a plain loop device, or on
    /// whichever power-cut backend the kernel offers.
    public var needsEmulatedDisk: Bool { requirements.contains { $0.0 == .emulatedDisk } }
    public var needsPowerCut: Bool { !requirements.isEmpty }
}
