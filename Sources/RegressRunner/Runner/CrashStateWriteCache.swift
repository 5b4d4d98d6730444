#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// The logged writes' data, read from the write log once and kept (up to a budget) for the many states
/// that replay the same epoch. One a worker of the search: it is not shared between threads.
struct CrashStateWriteCache {
    let disk: EmulatedDisk
    let records: [EmulatedDisk.WriteLogRecord]
    let budget: Int
    private var data: [Int: [UInt8]] = [:]
    private var bytes = 0

    init(disk: EmulatedDisk, records: [EmulatedDisk.WriteLogRecord], budget: Int) {
        self.disk = disk
        self.records = records
        self.budget = budget
    }

    /// Hands the logged writes at `indices`, in that order, to `write`: offset, bytes (nil for a zeroing:
    /// a hole reads as the zeros the disk was told to write), length.
    /// `keep`: keep their data for the next time (the writes of the epoch at hand, not the base's).
    mutating func apply(_ indices: [Int], keep: Bool = true, _ write: (UInt64, [UInt8]?, UInt64) throws -> Void) throws {
        for index in indices {
            let record = records[index]
            if record.kind == .zeroing {
                try write(record.range.offset, nil, record.range.length)
            } else {
                try write(record.range.offset, try self.bytes(of: index, keep: keep), record.range.length)
            }
        }
    }

    /// The same, into a plain image file.
    mutating func apply(_ indices: [Int], to fd: FileDescriptor, keep: Bool = true) throws {
        try apply(indices, keep: keep) { offset, bytes, length in
            guard let bytes else {
                try fd.allocate(mode: StepExecutor.fallocateMode([.punchHole, .keepSize]), offset: offset, length: length)
                return
            }
            var done = 0
            while done < bytes.count {
                let wrote = try bytes.withUnsafeBytes { buffer in
                    try fd.write(UnsafeRawBufferPointer(rebasing: buffer[done...]), at: offset + UInt64(done))
                }
                guard wrote > 0 else { throw Errno.EIO }
                done += wrote
            }
        }
    }

    mutating func bytes(of index: Int, keep: Bool) throws -> [UInt8] {
        if let cached = data.removeValue(forKey: index) {
            if keep { data[index] = cached } else { bytes -= cached.count }
            return cached
        }
        guard let read = disk.writeLogData(records[index]) else { throw Errno.EIO }
        if keep && bytes + read.count <= budget {
            data[index] = read
            bytes += read.count
        }
        return read
    }
}
