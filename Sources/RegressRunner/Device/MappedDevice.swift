#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// A device-mapper device regress puts over its own loop device, to cut the power on kernels without FUSE
/// the way fstests does (generic/546's _flakey_drop_and_remount): dm-flakey passes every write until the
/// cut, then drops them all, the unmount's included; the table is then restored and the filesystem mounted
/// from what reached the disk, so that log replay runs.
///
/// What it models is coarser than the emulated disk: every write the loop device took before the cut
/// survives (dm-flakey sees no volatile cache), which is one of the states a real cut may leave; the model
/// allows it, block by block. Set up with dmsetup: the project lets device-mapper setup use its own tools.
final class MappedDevice {
    let name: String
    let underlying: String
    let sectors: UInt64

    /// `/dev/dm-N`, which devtmpfs makes by itself: a VM's minimal init runs no udev to make /dev/mapper/NAME.
    var path: String { "/dev/" + (kernelName ?? "mapper/" + name) }

    /// The kernel's name for it (`dm-3`), which kernel log lines use, found in /sys/block/dm-*/dm/name.
    var kernelName: String? {
        FileSystemCalls.directoryEntries("/sys/block").first { entry in
            entry.hasPrefix("dm-") && readSmallFile("/sys/block/\(entry)/dm/name")?.trimmed == name
        }
    }

    private init(name: String, underlying: String, sectors: UInt64) {
        self.name = name
        self.underlying = underlying
        self.sectors = sectors
    }

    /// Makes `/dev/mapper/<name>` over `device`, passing everything through.
    static func flakey(name: String, over device: String, bytes: UInt64) throws -> MappedDevice {
        let mapped = MappedDevice(name: name, underlying: device, sectors: bytes / 512)
        try dmsetup(["create", name, "--table", mapped.passTable])
        return mapped
    }

    private var passTable: String { "0 \(sectors) flakey \(underlying) 0 86400 0" }
    private var dropTable: String { "0 \(sectors) flakey \(underlying) 0 0 86400 1 drop_writes" }

    /// From now on every write is acknowledged and dropped (the device no longer reaches the disk).
    func cutPower() throws { try reload(dropTable) }

    /// After the unmount: writes pass again, and the disk holds what reached it before the cut.
    func restorePower() throws { try reload(passTable) }

    /// As fstests' _load_flakey_table: suspend without freezing the filesystem, load, resume.
    private func reload(_ table: String) throws {
        try MappedDevice.dmsetup(["suspend", "--nolockfs", name])
        try MappedDevice.dmsetup(["load", name, "--table", table])
        try MappedDevice.dmsetup(["resume", name])
    }

    func remove() { MappedDevice.remove(named: name) }

    static func remove(named name: String) {
        _ = try? dmsetup(["remove", "--retry", name])
    }

    /// Runs dmsetup without waiting for udev (a VM's minimal init runs none; dmsetup then makes the node).
    @discardableResult
    static func dmsetup(_ arguments: [String]) throws -> String {
        let outcome = try Subprocess.run(["dmsetup", "--noudevsync"] + arguments)
        guard outcome.succeeded else {
            throw DeviceError.refused("dmsetup", "dmsetup \(arguments.joined(separator: " ")) exited \(outcome.status): \(outcome.output.trimmed)")
        }
        return outcome.output
    }

    /// Device-mapper devices built over `loopName` (`/sys/block/dm-*/slaves/loopN`), by their dm names: what
    /// clean-up must remove before it can detach a dead run's loop device.
    static func holders(of loopName: String) -> [String] {
        FileSystemCalls.directoryEntries("/sys/block/\(loopName)/holders").compactMap { holder in
            readSmallFile("/sys/block/\(holder)/dm/name")?.trimmed
        }
    }

    /// Why dm-flakey cannot be used here, or nil when it can.
    static let unavailableReason: String? = {
        guard access("/dev/mapper/control", R_OK | W_OK) == 0 else { return "no /dev/mapper/control (a kernel without device-mapper)" }
        guard Subprocess.locate("dmsetup") != nil else { return "dmsetup not found (install dmsetup)" }
        let targets = (try? dmsetup(["targets"])) ?? ""
        if targets.split(separator: "\n").contains(where: { $0.hasPrefix("flakey") }) || FileSystemCalls.moduleExists("dm-flakey") {
            return nil
        }
        return "the kernel has no dm-flakey target"
    }()
}
