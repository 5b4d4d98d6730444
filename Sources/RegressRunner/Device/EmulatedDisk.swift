#if canImport(Glibc)
import Glibc
#endif
#if canImport(CEmulatedDisk)
import CEmulatedDisk
#endif
import RegressCore

/// A disk regress serves itself, so that it sees every write and flush the loop device sends down.
///
/// Why FUSE and not device-mapper: this kernel (like many CI kernels) has no dm-flakey or dm-log-writes.
/// The loop driver turns every block flush into an fsync of its backing file; with a FUSE file as the
/// backing file, opened with direct_io so no page cache sits in between, those writes and fsyncs arrive in
/// our own process (Sources/CEmulatedDisk). It models a volatile write cache: a write is readable at once
/// and durable only once a flush covers it; a power cut throws away what no flush covered.
public final class EmulatedDisk {
    #if canImport(CEmulatedDisk)
    private var handle: OpaquePointer?
    /// The model behind the disk (CDiskModel), nil once stopped.
    var model: OpaquePointer? { handle.map { edisk_model($0) } }
    #endif
    public let imagePath: String
    public let mountPoint: String

    public struct Statistics: Sendable, Codable {
        public var reads: UInt64 = 0, writes: UInt64 = 0, writeBytes: UInt64 = 0, flushes: UInt64 = 0
        public var failedWrites: UInt64 = 0, droppedWrites: UInt64 = 0, undoBytes: UInt64 = 0
    }

    public static var isAvailable: Bool {
        #if canImport(CEmulatedDisk)
        return access("/dev/fuse", R_OK | W_OK) == 0
        #else
        return false
        #endif
    }

    /// Serves `imagePath` as the file `<mountPoint>/disk`. With `writeLog`, every write and flush from the
    /// first one on is logged there (see EmulatedDisk+WriteLog.swift), keeping at most `writeLogMemory` bytes of
    /// written data in memory (0: the model's default).
    public init(imagePath: String, mountPoint: String, writeLog: String? = nil, writeLogMemory: UInt64 = 0) throws {
        self.imagePath = imagePath
        self.mountPoint = mountPoint
        #if canImport(CEmulatedDisk)
        if mkdir(mountPoint, 0o700) != 0 && errno != EEXIST { throw DeviceError.cannotCreate(mountPoint, .current) }
        var message = [CChar](repeating: 0, count: 512)
        guard let disk = edisk_start(imagePath, mountPoint, &message, message.count) else {
            throw DeviceError.refused(mountPoint, "emulated disk: " + String(cString: message))
        }
        handle = disk
        if let writeLog {
            let rc = disk_model_enable_log(edisk_model(disk), writeLog, writeLogMemory)
            if rc < 0 {
                edisk_stop(disk)
                handle = nil
                throw DeviceError.refused(writeLog, "emulated disk: cannot start the write log: \(Errno(-rc).message)")
            }
        }
        #else
        throw DeviceError.refused(mountPoint, "regress was built without the emulated disk (libfuse3)")
        #endif
    }

    /// The file to attach the loop device to.
    public var filePath: String { mountPoint + "/disk" }

    /// From now on nothing written becomes durable; the filesystem above can still unmount without errors.
    public func powerCut() {
        #if canImport(CEmulatedDisk)
        if let handle { edisk_power_cut(handle) }
        #endif
    }

    /// Writes overlapping `range` (the whole disk when nil), after `afterBytes` more bytes, fail with `error`.
    public func failWrites(with error: Errno, range: ByteRange?, afterBytes: UInt64) {
        #if canImport(CEmulatedDisk)
        if let handle { edisk_fail_writes(handle, error.rawValue, range?.offset ?? 0, range?.length ?? 0, afterBytes) }
        #endif
    }

    public func setLyingCache(_ on: Bool) {
        #if canImport(CEmulatedDisk)
        if let handle { edisk_set_lying_cache(handle, on ? 1 : 0) }
        #endif
    }

    public func clearFaults() {
        #if canImport(CEmulatedDisk)
        if let handle { edisk_clear_faults(handle) }
        #endif
    }

    public var statistics: Statistics {
        var result = Statistics()
        #if canImport(CEmulatedDisk)
        if let handle {
            var s = edisk_stats()
            edisk_get_stats(handle, &s)
            result = Statistics(reads: s.reads, writes: s.writes, writeBytes: s.write_bytes, flushes: s.flushes,
                                failedWrites: s.failed_writes, droppedWrites: s.dropped_writes, undoBytes: s.undo_bytes)
        }
        #endif
        return result
    }

    /// Stops serving. After a power cut, this is when the image is rolled back to its durable content.
    /// The loop device over it must be detached first.
    public func stop() throws {
        #if canImport(CEmulatedDisk)
        guard let handle else { return }
        self.handle = nil
        let rc = edisk_stop(handle)
        if rc < 0 { throw DeviceError.refused(imagePath, "emulated disk: restoring the durable image failed: \(Errno(-rc).message)") }
        #endif
    }

    deinit { try? stop() }
}
