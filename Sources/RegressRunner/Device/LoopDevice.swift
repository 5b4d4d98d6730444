#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// A loop device regress attached itself, through /dev/loop-control and LOOP_CONFIGURE (no losetup).
/// regress keeps its descriptor open for the device's whole life: with LO_FLAGS_AUTOCLEAR the kernel
/// detaches the device on last close, so even a regress killed by SIGKILL cannot leave it attached
/// once its mount (if any) is gone.
public final class LoopDevice {
    public let number: Int32
    public let backingPath: String
    private var descriptor: FileDescriptor?

    public var path: String { "/dev/loop\(number)" }
    public var name: String { "loop\(number)" }

    private init(number: Int32, backingPath: String, descriptor: FileDescriptor) {
        self.number = number
        self.backingPath = backingPath
        self.descriptor = descriptor
    }

    /// Attaches a free loop device to `backingPath`. Another process may grab the same free device between
    /// LOOP_CTL_GET_FREE and LOOP_CONFIGURE (EBUSY): ask for another, a bounded number of times.
    public static func attach(to backingPath: String, directIO: Bool = false) throws -> LoopDevice {
        let backing = try FileDescriptor.open(backingPath, .readWrite)
        defer { backing.close() }
        let control: FileDescriptor
        do { control = try FileDescriptor.open("/dev/loop-control", .readWrite) } catch let error as Errno {
            throw DeviceError.noLoopDevice(error)
        }
        defer { control.close() }

        var lastError = Errno.EBUSY
        for attempt in 0..<64 {
            let number = regress_loop_get_free(control.rawValue)
            guard number >= 0 else { throw DeviceError.noLoopDevice(.current) }
            let path = "/dev/loop\(number)"
            let device: FileDescriptor
            do { device = try FileDescriptor.open(path, .readWrite) } catch let error as Errno {
                lastError = error
                if error == .ENOENT { usleep(useconds_t(1000 * (attempt + 1))); continue } // node not created yet
                throw DeviceError.attach(path, error)
            }
            var flags = REGRESS_LO_FLAGS_AUTOCLEAR
            if directIO { flags |= REGRESS_LO_FLAGS_DIRECT_IO }
            if regress_loop_configure(device.rawValue, backing.rawValue, flags, 0) == 0 {
                return LoopDevice(number: number, backingPath: backingPath, descriptor: device)
            }
            lastError = .current
            device.close()
            guard lastError == .EBUSY else { throw DeviceError.attach(path, lastError) }
            usleep(useconds_t(1000 * (attempt + 1)))
        }
        throw DeviceError.attach("/dev/loop-control", lastError)
    }

    /// Detaches the device. The caller must have unmounted it; LOOP_CLR_FD then closing our descriptor
    /// releases it at once. Idempotent.
    public func detach() {
        guard let descriptor else { return }
        _ = regress_loop_clear(descriptor.rawValue)
        descriptor.close()
        self.descriptor = nil
        // The release is synchronous on close, but udev or blkid may hold it open for a moment.
        for _ in 0..<200 where LoopDevice.backingFile(of: name) != nil {
            usleep(5000)
        }
    }

    /// Drops the kernel's cached pages of the device (needed after its backing file changed under it).
    public func flushBuffers() {
        guard let descriptor else { return }
        _ = regress_block_flush_buffers(descriptor.rawValue)
    }

    deinit { detach() }

    /// The backing file of `/dev/<name>` as the kernel reports it, or nil when the device is not attached.
    public static func backingFile(of name: String) -> String? {
        guard let text = readSmallFile("/sys/block/\(name)/loop/backing_file") else { return nil }
        let path = text.trimmed
        return path.isEmpty ? nil : path
    }

    /// Every attached loop device and its backing file, from sysfs.
    public static func attached() -> [(name: String, backingFile: String)] {
        FileSystemCalls.directoryEntries("/sys/block").filter { $0.hasPrefix("loop") }.compactMap { name in
            backingFile(of: name).map { (name, $0) }
        }
    }
}

/// Reads a small text file (sysfs, procfs) whole; nil if it cannot be opened.
func readSmallFile(_ path: String) -> String? {
    guard let fd = try? FileDescriptor.open(path, .readOnly) else { return nil }
    defer { fd.close() }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = (try? chunk.withUnsafeMutableBytes { try fd.read(into: $0, at: UInt64(bytes.count)) }) ?? 0
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
