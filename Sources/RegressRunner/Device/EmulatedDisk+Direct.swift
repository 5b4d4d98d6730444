#if canImport(Glibc)
import Glibc
#endif
#if canImport(CEmulatedDisk)
import CDiskModel
import CEmulatedDisk
#endif
import RegressCore

/// The emulated disk driven from inside regress rather than through its FUSE file, for a crash-state
/// search that checks state after state on one disk: a state's writes go into the model without a FUSE
/// round trip, and a roll-back (a power cut and a restart in one) returns the disk to its durable content
/// while the FUSE file and the loop device over it stay up. The loop device must not be in use meanwhile
/// (nothing mounted), and its cached pages must be dropped afterwards (`LoopDevice.flushBuffers`).
extension EmulatedDisk {
    /// Writes `bytes` at `offset` as the loop device would have (nil: zeros, as a discard or write-zeroes).
    func writeDirectly(_ bytes: [UInt8]?, at offset: UInt64, length: UInt64) throws {
        #if canImport(CEmulatedDisk)
        guard let model else { throw DeviceError.refused(imagePath, "emulated disk: stopped") }
        let rc: Int32
        if let bytes {
            precondition(UInt64(bytes.count) == length)
            rc = bytes.withUnsafeBytes { disk_model_write(model, $0.baseAddress, offset, length) }
        } else {
            rc = disk_model_write(model, nil, offset, length)
        }
        if rc < 0 { throw Errno(-rc) }
        #else
        throw DeviceError.refused(imagePath, "regress was built without the emulated disk (libfuse3)")
        #endif
    }

    /// A flush, as the loop device's: what was written becomes durable (unless the cache lies).
    func flushDirectly() {
        #if canImport(CEmulatedDisk)
        if let model { disk_model_flush(model) }
        #endif
    }

    /// Every block changed since the last honoured flush gets its durable content back; the power is on again.
    func rollBack() throws {
        #if canImport(CEmulatedDisk)
        guard let model else { throw DeviceError.refused(imagePath, "emulated disk: stopped") }
        let rc = disk_model_roll_back(model)
        if rc < 0 { throw DeviceError.refused(imagePath, "emulated disk: rolling back to the durable image failed: \(Errno(-rc).message)") }
        #endif
    }
}
