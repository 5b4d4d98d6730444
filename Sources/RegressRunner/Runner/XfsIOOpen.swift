#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// How a test's file is opened: as `xfs_io -f [-d] [-s] FILE` opens it (xfsprogs io/open.c, openfile()),
/// beneath the mount so that no name can reach outside it.
enum XfsIOOpen {
    /// xfs_io's default creation mode (`mode = 0600` in io/init.c).
    static let mode: mode_t = 0o600

    /// O_RDWR | O_CREAT with the step's flags, mode 0600. A directory refuses O_RDWR with EISDIR, and xfs_io
    /// then opens it read-only (without O_CREAT, which a directory refuses too), so that `dir: fsync` works.
    /// Returns the descriptor and whether it is a directory's.
    static func open(beneath root: FileDescriptor, _ name: String, _ flags: OpenFlags) throws -> (FileDescriptor, isDirectory: Bool) {
        var kernelFlags: FileDescriptor.OpenFlags = [.readWrite, .create]
        if flags.contains(.direct) { kernelFlags.insert(.direct) }
        if flags.contains(.sync) { kernelFlags.insert(.sync) }
        if flags.contains(.dataSync) { kernelFlags.insert(.dataSync) }
        do {
            return (try beneath(root, name, kernelFlags), false)
        } catch let error as Errno where error == .EISDIR {
            return (try beneath(root, name, kernelFlags.subtracting([.readWrite, .create]).union(.readOnly)), true)
        }
    }

    /// openat2 beneath the mount; a name that resolves outside it is the step's error, said as such.
    static func beneath(_ root: FileDescriptor, _ name: String, _ flags: FileDescriptor.OpenFlags) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(beneath: root, name, flags, mode: mode)
        } catch let error as Errno where error == .EXDEV || error == .ELOOP {
            throw StepError(errno: error, detail: "'\(name)' resolves outside the mount")
        }
    }
}
