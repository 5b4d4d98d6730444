#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// The one owner of what a case runs on: its device, the filesystem on it and the open root of the mount,
/// through remounts and power cuts. Steps reach files only through it, so none can outlive a remount.
final class TestSession {
    let device: TestDevice
    let filesystem: ScratchFilesystem
    private var root: FileDescriptor?
    /// What xfs_io's numbers mean on the mounted filesystem (XFS's block and sector size), asked at each mount.
    private(set) var blockUnits = BlockUnits.standard
    /// The mappings `mmap` steps made, one a file name; an unmount (clean, or a power cut's) ends them all.
    var mappings: [String: FileMapping] = [:]
    /// The descriptors xfs_io holds, by the name the test opened them under (`descriptor(for:_:)`).
    private var openFiles: [String: OpenFile] = [:]
    /// Descriptors of files unlinked or replaced while open: closed with the others.
    private var orphans: [FileDescriptor] = []
    /// Called at a power cut once the filesystem is down and before the disk is gone: the crash-state
    /// recorder notes where in the write log the cut fell.
    var beforePowerCutRecovery: (() -> Void)?

    /// A step could not be run for a reason outside the test (the mount vanished, a remount failed).
    struct EnvironmentError: Error, CustomStringConvertible { let description: String }

    init(device: TestDevice, filesystem: ScratchFilesystem) {
        self.device = device
        self.filesystem = filesystem
    }

    deinit { closeRoot() }

    /// The emulated disk under the loop device, when the case runs on one.
    var disk: EmulatedDisk? { device.disk }

    func mount() throws {
        try filesystem.mount()
        root = try FileDescriptor.open(filesystem.mountPoint, [.readOnly, .directory])
        blockUnits = try root!.xfsIOUnits()
    }

    /// Closes the root and unmounts cleanly (the end of the steps, before fsck).
    func unmount() throws {
        closeRoot()
        try filesystem.unmount()
    }

    private func closeRoot() {
        // A mapping holds its file, and with it the mount, busy. Its dirty pages stay in the page cache:
        // a clean unmount writes them, a power cut loses what no flush covered.
        for mapping in mappings.values { try? mapping.unmap() }
        mappings = [:]
        for open in openFiles.values { open.fd.close() }
        openFiles = [:]
        for fd in orphans { fd.close() }
        orphans = []
        root?.close()
        root = nil
    }

    func requireRoot() throws -> FileDescriptor {
        guard let root else { throw EnvironmentError(description: "the filesystem is not mounted") }
        return root
    }

    /// The descriptor xfs_io would hold for `name`: opened at the file's first step and kept across its
    /// steps, as `xfs_io -c … -c … FILE` opens its file once for all its commands, until `close`, a
    /// remount, a power cut or the end (close-time work of the filesystem, such as xfs trimming post-EOF
    /// blocks or ext4 allocating delayed blocks, happens where the script's own close happens, not after
    /// every step). A step with other open flags (`-d`, `-s`) is another xfs_io invocation: the file is
    /// closed and opened again with them.
    func descriptor(for name: String, _ flags: OpenFlags) throws -> OpenFile {
        if let open = openFiles[name] {
            if open.flags == flags { return open }
            close(name)
        }
        let (fd, isDirectory) = try XfsIOOpen.open(beneath: requireRoot(), name, flags)
        let open = OpenFile(fd: fd, flags: flags, isDirectory: isDirectory)
        openFiles[name] = open
        return open
    }

    /// The descriptor the session holds for `name`, if it holds one.
    func heldDescriptor(_ name: String) -> FileDescriptor? { openFiles[name]?.fd }

    /// xfs_io's `close`: the file's descriptor is closed (a file without one is left as it is).
    func close(_ name: String) {
        openFiles.removeValue(forKey: name)?.fd.close()
    }

    /// A rename moves the open descriptor with its file, as a program holding the file open keeps it.
    /// One open under the new name already (a file the rename replaces) stays open until the end, as
    /// an unlinked file's does.
    func renamed(_ from: String, to: String) {
        if let replaced = openFiles.removeValue(forKey: to) { orphans.append(replaced.fd) }
        for name in openFiles.keys where name == from || name.hasPrefix(from + "/") {
            openFiles[to + name.dropFirst(from.count)] = openFiles.removeValue(forKey: name)
        }
    }

    /// An unlinked file's open descriptor keeps the inode alive until the descriptor is closed.
    func unlinked(_ name: String) {
        if let open = openFiles.removeValue(forKey: name) { orphans.append(open.fd) }
    }

    /// Opens a file for one call and closes it, as a program other than xfs_io does (chattr, filefrag), or
    /// as an xfs_io command opens the other file it names (reflink's and dedupe's source, swapext's donor).
    func withFile<T>(_ name: String, _ flags: FileDescriptor.OpenFlags, _ body: (FileDescriptor) throws -> T) throws -> T {
        let fd = try XfsIOOpen.beneath(requireRoot(), name, flags)
        defer { fd.close() }
        return try body(fd)
    }

    /// A clean unmount and mount: everything written reaches the disk, caches start cold.
    func remount() throws {
        do {
            try unmount()
            try mount()
        } catch {
            throw EnvironmentError(description: "remount: \(error)")
        }
    }

    /// The power cut: nothing more reaches the durable image, the filesystem is torn down (its unmount
    /// writes are lost too), the durable image is attached again and mounted, so that log recovery runs as
    /// after a real power loss. Returns a line for the log.
    func powerCut() throws -> String {
        let line: String
        do { line = try device.cutPower() } catch { throw EnvironmentError(description: "power-cut: \(error)") }
        closeRoot()
        filesystem.forceUnmount()
        beforePowerCutRecovery?()
        do {
            try device.reattachAfterPowerCut()
            filesystem.moved(to: device.path)
            try mount()
        } catch {
            throw EnvironmentError(description: "power-cut: recovery failed: \(error)")
        }
        return line
    }

    /// For every exit path: nothing stays mounted.
    func tearDown() {
        closeRoot()
        filesystem.forceUnmount()
    }
}

/// A descriptor the session holds, the open flags it was opened with, and whether it is a directory's
/// (opened read-only, as xfs_io retries a directory).
struct OpenFile {
    let fd: FileDescriptor
    let flags: OpenFlags
    let isDirectory: Bool
}

/// A step's failure with more to say than its errno (the errno still decides against the expectation).
struct StepError: Error {
    let errno: Errno
    let detail: String?
}
