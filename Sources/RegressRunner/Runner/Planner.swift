#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// Turns test definitions into test cases for the filesystems asked for, deciding skips before anything runs.
public struct Planner {
    public var filesystems: [FilesystemKind]
    public init(filesystems: [FilesystemKind] = FilesystemKind.allCases) { self.filesystems = filesystems }

    public func plan(_ tests: [TestDefinition]) -> [TestCase] {
        tests.flatMap { test in
            test.applicableFilesystems.filter(filesystems.contains).map { fs in
                TestCase(test: test, filesystem: fs, skipReason: Planner.skipReason(test, fs))
            }
        }
    }

    /// What this machine lacks for `test` on `fs`, checked in the order a user would fix it.
    public static func skipReason(_ test: TestDefinition, _ fs: FilesystemKind) -> String? {
        if let why = FeatureProbe.tableLacks(test.requires, on: fs) { return why }
        if geteuid() != 0 { return "needs root (loop devices, mkfs and mount)" }
        if access("/dev/loop-control", R_OK | W_OK) != 0 { return "no /dev/loop-control (is the loop module loaded?)" }
        if !fs.kernelSupports { return "the kernel has no \(fs.rawValue) support" }
        if Subprocess.locate(fs.mkfsTool) == nil { return "\(fs.mkfsTool) not found (install \(fs.package))" }
        if let why = FeatureProbe.kernelLacks(test.requires, on: fs, mountOptions: test.mountOptions[fs] ?? "") { return why }
        // A step that needs a power-cut backend the machine lacks does not skip the test: the steps before
        // it run (a failure there is still a failure), and the case is skipped at that step if all passed.
        return nil
    }
}
