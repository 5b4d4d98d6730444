#if canImport(Glibc)
import Glibc
#endif

/// One test on one filesystem, or the reason it cannot run here.
public struct TestCase: Sendable {
    public let test: TestDefinition
    public let filesystem: FilesystemKind
    /// Nil when the case can run; otherwise why not, in words a user can act on.
    public let skipReason: String?
    public var id: String { "\(test.name).\(filesystem.rawValue)" }
}

/// Turns test definitions into test cases for the filesystems asked for, deciding skips before anything runs.
public struct Planner {
    public var filesystems: [FilesystemKind]
    /// Set when tests run on a device the user named: tests that need the emulated disk cannot.
    public var scratchDevice: String?
    public init(filesystems: [FilesystemKind] = FilesystemKind.allCases) { self.filesystems = filesystems }

    public func plan(_ tests: [TestDefinition]) -> [TestCase] {
        tests.flatMap { test in
            test.applicableFilesystems.filter(filesystems.contains).map { fs in
                TestCase(test: test, filesystem: fs, skipReason: Planner.skipReason(test, fs) ?? scratchDeviceReason(test))
            }
        }
    }

    private func scratchDeviceReason(_ test: TestDefinition) -> String? {
        guard let scratchDevice, test.needsEmulatedDisk else { return nil }
        return "needs the emulated disk, which --scratch-dev \(scratchDevice) cannot provide"
    }

    /// What this machine lacks for `test` on `fs`, checked in the order a user would fix it.
    public static func skipReason(_ test: TestDefinition, _ fs: FilesystemKind) -> String? {
        if let missing = test.requires.subtracting(fs.features).map(\.rawValue).sorted().first {
            return "\(fs.rawValue) has no \(missing)"
        }
        if geteuid() != 0 { return "needs root (loop devices, mkfs and mount)" }
        if access("/dev/loop-control", R_OK | W_OK) != 0 { return "no /dev/loop-control (is the loop module loaded?)" }
        if !fs.kernelSupports { return "the kernel has no \(fs.rawValue) support" }
        if Subprocess.locate(fs.mkfsTool) == nil { return "\(fs.mkfsTool) not found (install \(fs.package))" }
        if test.needsEmulatedDisk && !EmulatedDisk.isAvailable {
            return "needs the emulated disk: no /dev/fuse, or regress was built without libfuse3"
        }
        return nil
    }
}
