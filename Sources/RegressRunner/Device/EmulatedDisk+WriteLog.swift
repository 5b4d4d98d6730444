#if canImport(Glibc)
import Glibc
#endif
#if canImport(CEmulatedDisk)
import CDiskModel
import CEmulatedDisk
#endif
import RegressCore

/// The emulated disk's write log, for a crash-state search (issue 11.1): every write the filesystem sent down
/// and every flush, in order, from the disk's start (`EmulatedDisk(…, writeLog:)`). Flushes cut the log into
/// epochs: epoch 0 is before the first flush, the k-th flush ends epoch k-1. A crash state is the durable
/// prefix (every write of the epochs before E) plus any subset of epoch E's writes.
/// The loop driver turns a FUA write into a write and a flush, and discard / write-zeroes into zeroing, so
/// the log holds nothing else.
extension EmulatedDisk {
    public struct WriteLogRecord: Sendable, Equatable {
        /// `restart`: the power came back after a cut; the records after it are the next disk's, which
        /// started from the durable image (see `continueWriteLog`).
        public enum Kind: Sendable { case write, zeroing, flush, restart }
        public var kind: Kind
        public var range: ByteRange
        /// The model dropped this write (a `drop-writes` fault), ignored this flush (a lying cache), or saw
        /// it after the power cut: what the filesystem asked for is logged all the same.
        public var dropped = false, ignored = false, afterPowerCut = false
        /// A flush made while `reorder-flushes` was on: no barrier.
        public var reordered = false
        fileprivate var dataAt: UInt64 = 0
    }

    /// Every record so far (empty without a write log).
    public var writeLogRecords: [WriteLogRecord] {
        #if canImport(CEmulatedDisk)
        guard let model else { return [] }
        let count = disk_model_log_count(model)
        var raw = [disk_log_record](repeating: disk_log_record(), count: Int(count))
        let got = disk_model_log_records(model, 0, &raw, count)
        return raw.prefix(Int(got)).map { record in
            let kind: WriteLogRecord.Kind = record.kind == UInt32(DISK_LOG_FLUSH) ? .flush
                : record.kind == UInt32(DISK_LOG_RESTART) ? .restart
                : record.kind == UInt32(DISK_LOG_ZERO) ? .zeroing : .write
            return WriteLogRecord(kind: kind, range: ByteRange(offset: record.offset, length: record.length),
                                  dropped: record.flags & UInt32(DISK_LOG_DROPPED) != 0,
                                  ignored: record.flags & UInt32(DISK_LOG_IGNORED) != 0,
                                  afterPowerCut: record.flags & UInt32(DISK_LOG_AFTER_CUT) != 0,
                                  reordered: record.flags & UInt32(DISK_LOG_REORDERED) != 0,
                                  dataAt: record.data_at)
        }
        #else
        return []
        #endif
    }

    /// What a logged write wrote (zeros for a zeroing); nil for a flush or without a write log.
    public func writeLogData(_ record: WriteLogRecord) -> [UInt8]? {
        #if canImport(CEmulatedDisk)
        guard let model, record.kind == .write || record.kind == .zeroing else { return nil }
        var raw = disk_log_record(offset: record.range.offset, length: record.range.length, data_at: record.dataAt,
                                  kind: UInt32(record.kind == .zeroing ? DISK_LOG_ZERO : DISK_LOG_WRITE), flags: 0)
        var bytes = [UInt8](repeating: 0, count: Int(record.range.length))
        return disk_model_log_data(model, &raw, &bytes) == 0 ? bytes : nil
        #else
        return nil
        #endif
    }

    /// Hands the write log over to `next`, the disk that serves the durable image this one left after a
    /// power cut: the log goes on there after a restart record. Call before this disk stops (its log
    /// would go with it); the returned log must then be continued (`continueWriteLog`) or freed.
    func takeWriteLog() -> OpaquePointer? {
        #if canImport(CEmulatedDisk)
        guard let model else { return nil }
        return disk_model_take_log(model)
        #else
        return nil
        #endif
    }

    /// Continues a log another disk logged until its power cut (`takeWriteLog`). On failure the log is freed.
    func continueWriteLog(_ log: OpaquePointer) throws {
        #if canImport(CEmulatedDisk)
        guard let model else {
            disk_model_free_log(log)
            throw DeviceError.refused(imagePath, "emulated disk: stopped")
        }
        let rc = disk_model_continue_log(model, log)
        if rc < 0 {
            disk_model_free_log(log)
            throw DeviceError.refused(imagePath, "emulated disk: cannot continue the write log: \(Errno(-rc).message)")
        }
        #endif
    }

    /// Frees a log taken from a disk that no other disk continues.
    static func freeWriteLog(_ log: OpaquePointer) {
        #if canImport(CEmulatedDisk)
        disk_model_free_log(log)
        #endif
    }

    /// Writes a new sparse image at `path` holding the crash state: all writes of the epochs before `epoch`,
    /// then the writes of `epoch` whose index within it is in `writes` (all of them when nil), in log order.
    /// The replay covers the log up to its first power cut.
    public func materialiseCrashState(at path: String, epoch: UInt64, writes: [UInt64]?) throws {
        #if canImport(CEmulatedDisk)
        guard let model else { throw DeviceError.refused(path, "emulated disk: stopped, its write log is gone") }
        let chosen = writes?.sorted() ?? []
        let rc = disk_model_log_replay(model, path, epoch, chosen, writes == nil ? UInt64.max : UInt64(chosen.count))
        if rc < 0 { throw DeviceError.refused(path, "emulated disk: cannot replay epoch \(epoch): \(Errno(-rc).message)") }
        #else
        throw DeviceError.refused(path, "regress was built without the emulated disk (libfuse3)")
        #endif
    }
}
