#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// Whether this machine really offers what a test's `requires:` names, asked the way fstests' `_require_*`
/// helpers ask: what the kernel shows in /proc and /sys, a trial mkfs and mount on the case's own device, and
/// what the filesystem just made reports. Each answer is the skip reason, `requires FEATURE: why`, or nil.
/// The feature table (`FilesystemKind.features`) says what a filesystem can have at all; this says whether
/// the kernel, the tools and the filesystem made here have it.
public enum FeatureProbe {
    /// The table's answer: a filesystem that never has the feature.
    public static func tableLacks(_ required: Set<FilesystemKind.Feature>, on fs: FilesystemKind) -> String? {
        guard let missing = required.subtracting(fs.features).map(\.rawValue).sorted().first else { return nil }
        return "requires \(missing): \(fs.rawValue) has no \(missing)"
    }

    /// What the running kernel shows. Nil also when it cannot tell yet: a filesystem module not loaded has no
    /// /proc/fs/xfs or /sys/fs/btrfs, so the case asks again once its filesystem is mounted.
    public static func kernelLacks(_ required: Set<FilesystemKind.Feature>, on fs: FilesystemKind, mountOptions: String) -> String? {
        for feature in required.sorted(by: { $0.rawValue < $1.rawValue }) {
            if let why = kernelLacks(feature, on: fs, mountOptions: mountOptions) { return "requires \(feature.rawValue): \(why)" }
        }
        return nil
    }

    static func kernelLacks(_ feature: FilesystemKind.Feature, on fs: FilesystemKind, mountOptions: String) -> String? {
        switch (feature, fs) {
        case (.quota, .ext4):
            // fstests' _require_quota: CONFIG_QUOTA is what makes /proc/sys/fs/quota.
            return exists("/proc/sys/fs/quota") ? nil : "the kernel has no disk quota support (CONFIG_QUOTA: /proc/sys/fs/quota is missing)"
        case (.quota, .xfs):
            guard exists("/proc/fs/xfs") else { return nil }
            // fstests' _require_quota for xfs: CONFIG_XFS_QUOTA is what makes /proc/fs/xfs/xqmstat.
            return exists("/proc/fs/xfs/xqmstat") ? nil : "the kernel's xfs has no quota support (CONFIG_XFS_QUOTA: /proc/fs/xfs/xqmstat is missing)"
        case (.compression, .btrfs):
            // zlib is always built in; lzo and zstd show in /sys/fs/btrfs/features when the kernel has them.
            let features = "/sys/fs/btrfs/features"
            guard exists(features) else { return nil }
            for algorithm in compressionAlgorithms(mountOptions) where algorithm != "zlib" && !exists("\(features)/compress_\(algorithm)") {
                return "the kernel's btrfs has no \(algorithm) compression (\(features)/compress_\(algorithm) is missing)"
            }
            return nil
        default:
            return nil
        }
    }

    /// The algorithms the mount options ask for: `compress`, `compress=zstd:3`, `compress-force=lzo`.
    static func compressionAlgorithms(_ mountOptions: String) -> [String] {
        mountOptions.split(separator: ",").compactMap { option in
            let parts = option.split(separator: "=", maxSplits: 1)
            guard parts[0] == "compress" || parts[0] == "compress-force" else { return nil }
            guard parts.count == 2 else { return "zlib" }
            return String(parts[1].prefix { $0 != ":" })
        }
    }

    /// fstests' `_require_scratch_ext4_feature`: mkfs.ext4 with the feature on the case's own device, then a
    /// mount of it. The tools must know the feature and the kernel must mount it; the real mkfs comes after.
    static func trialLacks(_ required: Set<FilesystemKind.Feature>, on fs: FilesystemKind, device: String, mountPoint: String,
                           mkfsOptions: [String], mountOptions: String) -> String? {
        guard fs == .ext4, required.contains(.inlineData) else { return nil }
        let trial = ScratchFilesystem(kind: fs, device: device, mountPoint: mountPoint, mountOptions: mountOptions)
        do {
            _ = try trial.make(options: mkfsOptions + ["-O", "inline_data"])
        } catch let error as ScratchFilesystem.SetupError {
            return "requires inline_data: mkfs.ext4 cannot make it: \(error.description)"
        } catch {
            return "requires inline_data: mkfs.ext4 cannot make it: \(error)"
        }
        defer { trial.forceUnmount() }
        do { try trial.mount() } catch { return "requires inline_data: the kernel cannot mount an ext4 with inline_data: \(error)" }
        return nil
    }

    /// What the filesystem just made and mounted reports: an xfs made without reflink (`-m reflink=0`, or by
    /// an xfsprogs older than 5.1) has no reflink, dedupe, unshare or CoW extent-size hint.
    static func filesystemLacks(_ required: Set<FilesystemKind.Feature>, on fs: FilesystemKind, root: FileDescriptor) -> String? {
        guard fs == .xfs, let needsReflink = required.intersection([.reflink, .dedupe, .unshare, .cowextsize]).map(\.rawValue).sorted().first else {
            return nil
        }
        var flags: UInt32 = 0
        guard regress_xfs_geometry_flags(root.rawValue, &flags) == 0 else { return nil }
        if flags & REGRESS_XFS_GEOMETRY_REFLINK != 0 { return nil }
        return "requires \(needsReflink): this xfs was made without reflink (XFS_IOC_FSGEOMETRY: no XFS_FSOP_GEOM_FLAGS_REFLINK)"
    }

    private static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
