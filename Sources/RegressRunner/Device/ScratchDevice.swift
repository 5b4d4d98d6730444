#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// An existing block device the user named (`--scratch-dev`, fstests' SCRATCH_DEV), checked before
/// anything touches it. regress refuses a device that is mounted or has a mounted partition, that something
/// holds (an exclusive open fails: a mount, md, dm, another regress), that holds the root filesystem, or
/// that carries a filesystem or partition table, unless told to overwrite it (`--force`). The checks only
/// read; a refused device is left exactly as it was.
public enum ScratchDevice {
    public struct Refusal: Error, CustomStringConvertible {
        public let device: String
        public let reason: String
        public var description: String { "\(device): refused: \(reason)" }
    }

    public static func check(_ path: String, force: Bool) throws {
        func refuse(_ reason: String) -> Refusal { Refusal(device: path, reason: reason) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw refuse("cannot stat: \(Errno.current.message)") }
        guard (info.st_mode & S_IFMT) == S_IFBLK else { throw refuse("not a block device") }
        let name = sysfsName(info.st_rdev) ?? lastPathComponent(path)
        let partitions = partitionNames(of: name)

        // The root filesystem (and /boot, /usr… are caught by the mount check below).
        var root = stat()
        if stat("/", &root) == 0 {
            let devices = [info.st_rdev] + partitions.compactMap(deviceNumber)
            if devices.contains(root.st_dev) { throw refuse("it holds the root filesystem") }
        }
        for device in ["/dev/" + name] + partitions.map({ "/dev/" + $0 }) {
            if let mountPoint = MountTable.mountPoints(of: device).first {
                throw refuse(device == "/dev/" + name ? "it is mounted on \(mountPoint)" : "its partition \(device) is mounted on \(mountPoint)")
            }
        }
        for holderOwner in [name] + partitions {
            if let holder = holders(of: holderOwner).first {
                throw refuse("it is in use by /dev/\(holder) (device-mapper, md or similar)")
            }
        }
        // O_EXCL on a block device fails with EBUSY while anyone else holds it exclusively (a mount, md, dm).
        do {
            let fd = try FileDescriptor.open(path, [.readOnly, .exclusive])
            fd.close()
        } catch let error as Errno {
            throw refuse(error == .EBUSY ? "it is in use (an exclusive open failed: EBUSY)" : "cannot open: \(error.message)")
        }
        if !force {
            let signature: Blkid.Signature?
            do { signature = try Blkid.probe(path) } catch { throw refuse("cannot probe it for signatures: \(error)") }
            if let signature {
                let what = signature.isPartitionTable ? "a partition table (\(signature.type))" : "a filesystem (\(signature.type))"
                throw refuse("it carries \(what); pass --force to overwrite it")
            }
        }
    }

    /// `sda` for 8:0, from /sys/dev/block/MAJ:MIN.
    static func sysfsName(_ device: dev_t) -> String? {
        let link = "/sys/dev/block/\(regress_major(device)):\(regress_minor(device))"
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(link, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(cString: buffer).split(separator: "/").last.map(String.init)
    }

    static func partitionNames(of name: String) -> [String] {
        FileSystemCalls.directoryEntries("/sys/class/block/\(name)").filter { child in
            child.hasPrefix(name) && access("/sys/class/block/\(name)/\(child)/partition", F_OK) == 0
        }
    }

    static func holders(of name: String) -> [String] {
        FileSystemCalls.directoryEntries("/sys/class/block/\(name)/holders")
    }

    static func deviceNumber(_ name: String) -> dev_t? {
        guard let text = readSmallFile("/sys/class/block/\(name)/dev") else { return nil }
        let parts = text.trimmed.split(separator: ":").compactMap { UInt32($0) }
        guard parts.count == 2 else { return nil }
        return regress_makedev(parts[0], parts[1])
    }
}

/// `loop3` for `/dev/loop3`.
func lastPathComponent(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
