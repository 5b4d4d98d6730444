#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// The block device one test runs on: normally a loop device over a fresh sparse image, with the power-cut
/// backend the case needs (the emulated disk beneath the loop device, or dm-flakey above it); or the
/// scratch device the user named. Each test gets a fresh work area and
/// a fresh loop device; nothing is reused between tests.
public final class TestDevice {
    public enum Kind: Sendable {
        case loopImage(size: UInt64, backend: PowerCutBackend?)
        /// A device the user named and regress already checked (ScratchDevice.check).
        case scratch(String)
    }

    public let area: WorkArea
    public private(set) var image: ImageFile?
    public private(set) var loop: LoopDevice?
    public private(set) var disk: EmulatedDisk?
    private var mapped: MappedDevice?
    private let kind: Kind
    /// Every device name this test's filesystem lived on (a power cut attaches a new loop device), so that
    /// kernel log lines about other tests' devices can be told apart under -j.
    public private(set) var deviceNames: Set<String> = []

    public var path: String {
        if case .scratch(let device) = kind { return device }
        return mapped?.path ?? loop?.path ?? "(detached)"
    }
    public var directory: String { area.path }

    /// Where the emulated disk logs every write and flush from the first one (`writeLog`: a crash-state
    /// search). A power cut does not end the log: the disk attached after it continues it.
    public private(set) var writeLogPath: String?

    /// Makes the work area (and image) and attaches it. On failure, removes what it made.
    public init(workDirectory: String, name: String, kind: Kind, writeLog: Bool = false) throws {
        area = try WorkArea.create(in: workDirectory, prefix: "\(name).")
        self.kind = kind
        writeLogPath = writeLog ? area.path + "/write.log" : nil
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
        case .loopImage(let size, let backend):
            let layers = [mapped.map { "dm-flakey \($0.path) over " }, loop.map { "\($0.path) over " },
                          disk.map { _ in "the emulated disk over " }].compactMap { $0 }.joined()
            return layers + "\(image?.path ?? "?") (\(Size.format(size)))" + (backend.map { ", power-cut backend \($0.rawValue)" } ?? "")
        }
    }

    /// `continuing`: the write log of the disk before a power cut, which the new emulated disk continues.
    private func attach(continuing log: OpaquePointer? = nil) throws {
        if case .scratch(let device) = kind { deviceNames.insert(lastPathComponent(device)) }
        guard case .loopImage(let size, let backend) = kind, let image else { return }
        defer {
            if let loop { deviceNames.insert(loop.name) }
            if let name = mapped?.kernelName { deviceNames.insert(name) }
        }
        switch backend {
        case .emulated:
            let disk: EmulatedDisk
            do {
                disk = try EmulatedDisk(imagePath: image.path, mountPoint: area.path + "/fuse", writeLog: log == nil ? writeLogPath : nil)
            } catch {
                if let log { EmulatedDisk.freeWriteLog(log) }
                throw error
            }
            self.disk = disk
            if let log { try disk.continueWriteLog(log) }
            // Direct I/O: the loop device's requests reach the FUSE file asynchronously and queue up, so the
            // emulated disk serves them back to back instead of waking up for each (bench/edisk-cost). A kernel
            // whose loop driver refuses direct I/O on a FUSE file gets the buffered loop device.
            loop = try (try? LoopDevice.attach(to: disk.filePath, directIO: true)) ?? LoopDevice.attach(to: disk.filePath)
        case .flakey:
            loop = try LoopDevice.attach(to: image.path)
            // Named after the work area, so that clean-up can tell a dead run's device from anyone else's.
            mapped = try MappedDevice.flakey(name: "regress-" + lastPathComponent(area.path), over: loop!.path, bytes: size)
        case .logWrites, nil:
            loop = try LoopDevice.attach(to: image.path)
        }
    }

    /// Cuts the power under the filesystem: from now on nothing more reaches the durable disk. Returns a
    /// line for the log saying what the backend had seen.
    public func cutPower() throws -> String {
        if let disk {
            disk.powerCut()
            let stats = disk.statistics
            return "power cut (emulated disk): the disk had taken \(stats.writes) writes (\(Size.format(stats.writeBytes))) and \(stats.flushes) flushes; \(Size.format(stats.undoBytes)) written since the last flush are lost"
        }
        if let mapped {
            try mapped.cutPower()
            return "power cut (dm-flakey): every write from now on is dropped, the unmount's included"
        }
        throw DeviceError.refused(path, "no power-cut backend under this device")
    }

    /// After a power cut and the unmount: bring back what the disk kept, as a machine that boots after
    /// losing power. The emulated disk rolls the image back to what was durable and a new loop device is
    /// attached; dm-flakey lets writes through again.
    public func reattachAfterPowerCut() throws {
        if let mapped {
            try mapped.restorePower()
            return
        }
        loop?.detach()
        loop = nil
        // The log goes on: the next disk starts from the durable image, which the log's epochs before the
        // cut rebuild (a crash-state search replays the log from an all-zero image).
        let log = disk?.takeWriteLog()
        do {
            try disk?.stop()
        } catch {
            if let log { EmulatedDisk.freeWriteLog(log) }
            throw error
        }
        disk = nil
        try attach(continuing: log)
    }

    /// Moves the image out of the work area (so that release and clean-up leave it), after detaching.
    /// Returns its new path; nil for a scratch device, or if the move failed.
    public func keepImage(in directory: String) -> String? {
        guard let image else { return nil }
        mapped?.remove()
        mapped = nil
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
        mapped?.remove()
        mapped = nil
        loop?.detach()
        loop = nil
        try? disk?.stop()
        disk = nil
        area.remove()
    }
}
