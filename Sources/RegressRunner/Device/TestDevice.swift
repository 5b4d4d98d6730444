#if canImport(Glibc)
import Glibc
#endif

/// The block device one test runs on: a loop device over a fresh sparse image, optionally with the
/// emulated disk between them. Each test gets its own; nothing is ever reused between tests.
public final class TestDevice {
    public let image: ImageFile
    public private(set) var loop: LoopDevice?
    public private(set) var disk: EmulatedDisk?
    private let emulated: Bool

    public var path: String { loop?.path ?? "(detached)" }
    /// The work directory's private folder: mount points go here, so clean-up finds them from the owner record.
    public var directory: String { image.directory }

    /// Makes the image and attaches it. On failure, removes what it made.
    public init(workDirectory: String, name: String, size: UInt64, emulated: Bool) throws {
        image = try ImageFile.create(in: workDirectory, prefix: "\(name).", size: size)
        self.emulated = emulated
        do {
            try attach()
        } catch {
            release()
            throw error
        }
    }

    private func attach() throws {
        if emulated {
            let disk = try EmulatedDisk(imagePath: image.path, mountPoint: image.directory + "/fuse")
            self.disk = disk
            loop = try LoopDevice.attach(to: disk.filePath)
        } else {
            loop = try LoopDevice.attach(to: image.path)
        }
    }

    /// After a power cut and the unmount: detach, let the emulated disk roll the image back to what was
    /// durable, and attach the durable image again, as a machine that boots after losing power.
    public func reattachAfterPowerCut() throws {
        loop?.detach()
        loop = nil
        try disk?.stop()
        disk = nil
        try attach()
    }

    /// Detaches and stops everything, then deletes the image. Idempotent; the caller unmounted first.
    public func release() {
        loop?.detach()
        loop = nil
        try? disk?.stop()
        disk = nil
        image.remove()
    }
}
