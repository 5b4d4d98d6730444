/// What regress knows of each filesystem it can test: how to make it, how to check it, and what it can do.
/// Everything filesystem-specific lives here, so the runner never asks "is this btrfs?". What the machine
/// offers (kernel support, installed tools) is probed in RegressRunner's FilesystemSupport.
public enum FilesystemKind: String, CaseIterable, Codable, Sendable, Comparable {
    case btrfs, xfs, ext4

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// Operations and features a test may require (`requires:`); a filesystem without one skips the test
    /// with that reason. Some are also probed on the running kernel and tools (RegressRunner's FeatureProbe):
    /// a filesystem that has one on paper may still lack it here (xfs without CONFIG_XFS_QUOTA).
    public enum Feature: String, CaseIterable, Codable, Sendable {
        case reflink, dedupe, collapse, insert, nocow, unshare
        /// Disk quotas (usrquota/grpquota/prjquota), as fstests' _require_quota: ext4 and xfs.
        case quota
        /// ext4's inline_data (file data in the inode), made by `mkfs.ext4 -O inline_data`.
        case inlineData = "inline_data"
        /// Transparent compression (`mount -o compress=ALG`): btrfs.
        case compression
        /// xfs' extent-size hint (`extsize`) and copy-on-write extent-size hint (`cowextsize`).
        case extsize, cowextsize
    }

    public var features: Set<Feature> {
        switch self {
        case .btrfs: return [.reflink, .dedupe, .nocow, .compression]
        case .xfs: return [.reflink, .dedupe, .collapse, .insert, .unshare, .quota, .extsize, .cowextsize]
        case .ext4: return [.collapse, .insert, .quota, .inlineData]
        }
    }

    public var mkfsTool: String { "mkfs.\(rawValue)" }

    /// The smallest image mkfs accepts with its defaults (xfsprogs 5.19+ refuses below 300 MiB).
    public var minimumSize: UInt64 {
        switch self {
        case .btrfs: return 128 << 20
        case .xfs: return 300 << 20
        case .ext4: return 16 << 20
        }
    }

    /// The mkfs command line. `mountOptions` matter for btrfs: `nospace_cache` cannot mount a filesystem made
    /// with the free-space-tree, which current btrfs-progs turn on by default.
    /// `disableFreeSpaceTree` is the mkfs.btrfs option that turns the free-space-tree off (`-O` or `-R`,
    /// which depends on the installed btrfs-progs; RegressRunner asks the tool).
    public func mkfsCommand(device: String, options: [String], mountOptions: String, disableFreeSpaceTree: String?) -> [String] {
        var command: [String]
        switch self {
        // -K / -E nodiscard: discarding a sparse image is slow and proves nothing.
        case .btrfs:
            command = ["mkfs.btrfs", "-f", "-K"]
            let wantsNoFreeSpaceTree = mountOptions.split(separator: ",").contains { $0 == "nospace_cache" || $0 == "space_cache=v1" || $0 == "space_cache" }
            if wantsNoFreeSpaceTree, let flag = disableFreeSpaceTree {
                command += [flag, "^free-space-tree"]
            }
        case .xfs: command = ["mkfs.xfs", "-f", "-K"]
        case .ext4: command = ["mkfs.ext4", "-F", "-q", "-E", "nodiscard"]
        }
        return command + options + [device]
    }

    /// A read-only check: it must never change the filesystem, only report.
    public func fsckCommand(device: String) -> [String] {
        switch self {
        case .btrfs: return ["btrfs", "check", "--readonly", device]
        case .xfs: return ["xfs_repair", "-n", device]
        case .ext4: return ["e2fsck", "-fn", device]
        }
    }

    /// The Debian package that brings the tools, for skip messages.
    public var package: String {
        switch self {
        case .btrfs: return "btrfs-progs"
        case .xfs: return "xfsprogs"
        case .ext4: return "e2fsprogs"
        }
    }
}
