#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// The block device one test runs on: normally a loop device over a fresh sparse image, optionally with the
/// emulated disk between them; or the scratch device the user named. Each test gets a fresh work area and
/// a fresh loop device; nothing is reused between tests.
public final class TestDevice {
    public enum Kind: Sendable {
        case loopImage(size: UInt64, emulated: Bool)
        /// A device the user named and regress already checked (ScratchDevice.check).
        case scratch(String)
    }

    public let area: WorkArea
    public private(set) var image: ImageFile?
    public private(set) var loop: LoopDevice?
    public private(set) var disk: EmulatedDisk?
    private let kind: Kind
    /// Every device name this test's filesystem lived on (a power cut attaches a new loop device), so that
    /// kernel log lines about other tests' devices can be told apart under -j.
    public private(set) var deviceNames: Set<String> = []

    public var path: String {
        if case .scratch(let device) = kind { return device }
        return loop?.path ?? "(detached)"
    }
    public var directory: String { area.path }

    /// Makes the work area (and image) and attaches it. On failure, removes what it made.
    public init(workDirectory: String, name: String, kind: Kind) throws {
        area = try WorkArea.create(in: workDirectory, prefix: "\(name).")
        self.kind = kind
        do {
            if case .loopImage(let size, _) = kind { image = try ImageFile.create(in: area, size: size) }
            try attach()
        } catch {
            release()
            throw error
        }
    }

    /// What the test's log says the device is.
    public var description: String {
        switch kind {
        case .scratch(let device):
            // BLKGETSIZE64: what the test really runs on, whatever its `size:` says.
            let size = (try? FileDescriptor.open(device, .readOnly)).flatMap { fd in
                defer { fd.close() }
                return try? fd.blockDeviceSize()
            }
            return "scratch device \(device)" + (size.map { " (\(Size.format($0)))" } ?? "")
        case .loopImage(let size, let emulated):
            return "\(path) over \(emulated ? "the emulated disk over " : "")\(image?.path ?? "?") (\(Size.format(size)))"
        }
    }

    private func attach() throws {
        if case .scratch(let device) = kind { deviceNames.insert(lastPathComponent(device)) }
        guard case .loopImage(_, let emulated) = kind, let image else { return }
        defer { if let loop { deviceNames.insert(loop.name) } }
        if emulated {
            let disk = try EmulatedDisk(imagePath: image.path, mountPoint: area.path + "/fuse")
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

    /// Moves the image out of the work area (so that release and clean-up leave it), after detaching.
    /// Returns its new path; nil for a scratch device, or if the move failed.
    public func keepImage(in directory: String) -> String? {
        guard let image else { return nil }
        loop?.detach()
        loop = nil
        try? disk?.stop()   // after a power cut this leaves the durable image, as a machine would reboot to
        disk = nil
        guard (try? WorkArea.makeDirectory(directory)) != nil else { return nil }
        let kept = directory + "/" + lastPathComponent(area.path) + ".img"
        guard rename(image.path, kept) == 0 else { return nil }
        self.image = nil
        return kept
    }

    /// Detaches and stops everything, then deletes the work area. Idempotent; the caller unmounted first.
    public func release() {
        loop?.detach()
        loop = nil
        try? disk?.stop()
        disk = nil
        area.remove()
    }
}
