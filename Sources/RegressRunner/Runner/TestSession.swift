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
    /// The mappings `mmap` steps made, one a file name; an unmount (clean, or a power cut's) ends them all.
    var mappings: [String: FileMapping] = [:]
    /// Called at a power cut once the filesystem is down and before the disk is gone: the crash-state
    /// recorder notes where in the write log the cut fell.
    var beforePowerCutRecovery: (() -> Void)?

    /// A step could not be run for a reason outside the test (the mount vanished, a remount failed).
    struct EnvironmentError: Error, CustomStringConvertible { let description: String }

    init(device: TestDevice, filesystem: ScratchFilesystem) {
        self.device = device
        self.filesystem = filesystem
    }

    deinit { root?.close() }

    /// The emulated disk under the loop device, when the case runs on one.
    var disk: EmulatedDisk? { device.disk }

    func mount() throws {
        try filesystem.mount()
        root = try FileDescriptor.open(filesystem.mountPoint, [.readOnly, .directory])
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
        root?.close()
        root = nil
    }

    func requireRoot() throws -> FileDescriptor {
        guard let root else { throw EnvironmentError(description: "the filesystem is not mounted") }
        return root
    }

    /// Opens `name` beneath the mount for one call, as xfs_io opens its file for each `-c` command.
    func withFile<T>(_ name: String, _ flags: FileDescriptor.OpenFlags, _ body: (FileDescriptor) throws -> T) throws -> T {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(beneath: requireRoot(), name, flags)
        } catch let error as Errno where error == .EXDEV || error == .ELOOP {
            throw StepError(errno: error, detail: "'\(name)' resolves outside the mount")
        }
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

/// A step's failure with more to say than its errno (the errno still decides against the expectation).
struct StepError: Error {
    let errno: Errno
    let detail: String?
}
