#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RegressCore

/// What a result says about the machine that produced it (ResultOrigin): asked once a run, after the tests.
public enum ThisMachine {
    /// `kernel` as the run reports it (`Linux 6.18.44`); `shard` as `--shard` gave it; `regress` the binary's
    /// own version (only the executable knows its build's commit).
    public static func origin(kernel: String, shard: String?, regress: RegressVersion) -> ResultOrigin {
        var uts = utsname()
        uname(&uts)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return ResultOrigin(kernel: kernel, hostname: field(uts.nodename), architecture: field(uts.machine),
                            shard: shard, toolVersions: toolVersions(), regress: regress)
    }

    /// The first line each installed mkfs prints for its version flag; a tool that is missing is left out.
    public static func toolVersions() -> [String: String] {
        var versions: [String: String] = [:]
        for filesystem in FilesystemKind.allCases where Subprocess.locate(filesystem.mkfsTool) != nil {
            // mkfs.btrfs, mkfs.xfs and mke2fs all take -V; each prints its version first.
            guard let outcome = try? Subprocess.run([filesystem.mkfsTool, "-V"]), outcome.succeeded,
                  let line = outcome.output.split(separator: "\n").first else { continue }
            versions[filesystem.mkfsTool] = String(line).trimmingInlineWhitespace
        }
        return versions
    }
}
