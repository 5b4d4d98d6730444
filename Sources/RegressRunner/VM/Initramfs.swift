#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RegressCore
#if canImport(Glibc)
import Glibc
#endif

/// A small initramfs as the kernel unpacks it (Documentation/driver-api/early-userspace/buffer-format.rst):
/// an uncompressed "newc" cpio archive. Written by regress itself, in the VM's work directory, so that no
/// cpio or mkinitramfs is needed and nothing of the host's /boot is touched.
public struct Initramfs {
    private var archive = Data()
    private var inode: UInt32 = 1

    public init() {}

    public mutating func directory(_ path: String) {
        entry(path, mode: 0o040755, data: Data())
    }

    public mutating func file(_ path: String, contents: Data, executable: Bool = false) {
        entry(path, mode: executable ? 0o100755 : 0o100644, data: contents)
    }

    /// A character device node, such as dev/console (5:1), for the first open of the console.
    public mutating func characterDevice(_ path: String, major: UInt32, minor: UInt32) {
        entry(path, mode: 0o020600, data: Data(), rdev: (major, minor))
    }

    /// The archive with its trailer.
    public func data() -> Data {
        var copy = self
        copy.entry("TRAILER!!!", mode: 0, data: Data(), countsAsInode: false)
        return copy.archive
    }

    private mutating func entry(_ name: String, mode: UInt32, data: Data, rdev: (UInt32, UInt32) = (0, 0), countsAsInode: Bool = true) {
        let nameBytes = Data(name.utf8) + Data([0])
        let fields: [UInt32] = [countsAsInode ? inode : 0, mode, 0, 0, mode & 0o040000 != 0 ? 2 : 1, 0,
                                UInt32(data.count), 0, 0, rdev.0, rdev.1, UInt32(nameBytes.count), 0]
        if countsAsInode { inode += 1 }
        archive += Data("070701".utf8)
        for field in fields { archive += Data(hexDigits(field, width: 8, uppercase: true).utf8) }
        archive += nameBytes
        pad()
        archive += data
        pad()
    }

    /// newc aligns every header and every file's data to 4 bytes.
    private mutating func pad() {
        while archive.count % 4 != 0 { archive.append(0) }
    }
}
