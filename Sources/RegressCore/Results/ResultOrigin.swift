#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a result was produced: the kernel under test, the machine, the shard of the selection and the
/// versions of the filesystem tools. A farm runs one selection as N shards on N machines; `regress merge`
/// needs this to refuse joining results of different kernels, and KCIDB wants it in a test's environment.
public struct ResultOrigin: Codable, Sendable, Equatable {
    /// `Linux 6.18.44`, as RunSummary.kernel says it.
    public var kernel: String
    public var hostname: String
    /// `x86_64`, `aarch64`: uname's machine.
    public var architecture: String
    /// `2/3` when the run was `--shard 2/3`; nil for an unsharded run.
    public var shard: String?
    /// The first line of each filesystem tool's version (`mkfs.btrfs` → `mkfs.btrfs, part of btrfs-progs v6.2`).
    public var toolVersions: [String: String]
    /// The regress that produced the result; nil in reports written before results said so.
    public var regress: RegressVersion?

    public init(kernel: String, hostname: String, architecture: String, shard: String? = nil, toolVersions: [String: String] = [:],
                regress: RegressVersion? = nil) {
        self.kernel = kernel
        self.hostname = hostname
        self.architecture = architecture
        self.shard = shard
        self.toolVersions = toolVersions
        self.regress = regress
    }
}

/// A start time as every report writes it: RFC 3339 in UTC with milliseconds (`2026-12-02T03:54:46.123Z`),
/// the form KCIDB's `date-time` format and JSON readers accept.
public func timestampString(_ date: Date) -> String {
    let time = UTCTime(date)
    return "\(time.date)T\(time.time(separator: ":")).\(zeroPadded(time.milliseconds, 3))Z"
}
