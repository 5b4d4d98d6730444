import CLibMount
import RegressCore

/// Probing a device's signatures with libblkid, as wipefs(8) and mount(8) do.
public enum Blkid {
    public struct Signature: Sendable, Equatable {
        public let type: String     // "btrfs", "xfs", "ext4", "gpt", "dos"…
        public let isPartitionTable: Bool
    }

    /// The filesystem or partition-table signature on `device`, or nil when it carries none.
    /// Throws when the device cannot be probed at all.
    public static func probe(_ device: String) throws -> Signature? {
        guard let probe = blkid_new_probe_from_filename(device) else { throw Errno.current == Errno(0) ? Errno.EIO : Errno.current }
        defer { blkid_free_probe(probe) }
        blkid_probe_enable_superblocks(probe, 1)
        blkid_probe_set_superblocks_flags(probe, Int32(BLKID_SUBLKS_TYPE))
        blkid_probe_enable_partitions(probe, 1)
        blkid_probe_set_partitions_flags(probe, Int32(BLKID_PARTS_MAGIC))
        let rc = blkid_do_safeprobe(probe)
        if rc == 1 { return nil }
        if rc == -2 { return Signature(type: "ambivalent (several signatures)", isPartitionTable: false) }
        guard rc == 0 else { throw Errno.EIO }
        var value: UnsafePointer<CChar>?
        var length = 0
        if blkid_probe_lookup_value(probe, "TYPE", &value, &length) == 0, let value {
            return Signature(type: String(cString: value), isPartitionTable: false)
        }
        if blkid_probe_lookup_value(probe, "PTTYPE", &value, &length) == 0, let value {
            return Signature(type: String(cString: value), isPartitionTable: true)
        }
        return Signature(type: "unknown", isPartitionTable: false)
    }
}
