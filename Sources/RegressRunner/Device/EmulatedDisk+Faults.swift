#if canImport(CEmulatedDisk)
import CDiskModel
import CEmulatedDisk
#endif
import RegressCore

/// The faults added for crash-state reproducers and meta-tests (issue 11), set on the disk's model directly:
/// several dropped ranges at once, and flushes that are no barrier.
extension EmulatedDisk {
    /// Writes overlapping any of `ranges` (a length 0: to the end) are acknowledged but never become
    /// durable; replaces the previous ranges.
    public func dropWrites(_ ranges: [ByteRange]) throws {
        #if canImport(CEmulatedDisk)
        guard let model else { return }
        let starts = ranges.map(\.offset), lengths = ranges.map(\.length)
        let rc = disk_model_drop_writes_ranges(model, starts, lengths, ranges.count)
        if rc < 0 { throw Errno(-rc) }
        #endif
    }

    /// While on, a flush is acknowledged but the writes after it may reach the media before those before it.
    public func setReorderFlushes(_ on: Bool) {
        #if canImport(CEmulatedDisk)
        if let model { disk_model_set_reorder_flushes(model, on ? 1 : 0) }
        #endif
    }
}

extension CrashStatePlan.Record {
    /// The plan's view of one record of the emulated disk's write log.
    init(_ record: EmulatedDisk.WriteLogRecord) {
        self.init(kind: record.kind == .flush ? .flush : record.kind == .restart ? .restart : .write, dropped: record.dropped, ignored: record.ignored,
                  afterPowerCut: record.afterPowerCut, reordered: record.reordered)
    }
}
