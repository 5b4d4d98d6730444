import RegressCore

extension StepExecutor {
    /// `mmap`, `mwrite`, `msync` and `munmap`: xfs_io's mapping commands on the file's one mapping.
    func executeMapping(_ step: Step, file: String, openFlags: FileDescriptor.OpenFlags, into outcome: inout StepOutcome) throws {
        switch step.command {
        case .mmap(let range, let options):
            // xfs_io -f opens read-write and creates; the mapping outlives the descriptor.
            let mapping = try session.withFile(file, openFlags.union(.readWrite)) { fd in
                outcome.changes.append(.create(file: file))
                return try FileMapping(fd, range: range, options: options)
            }
            session.mappings[file] = mapping
        case .mwrite(let range, let options):
            let mapping = try mapping(of: file)
            let span = range ?? mapping.range
            let size = try session.withFile(file, [.readOnly]) { try $0.size() }
            let (stored, faulted) = mapping.store(options.pattern, over: span, backward: options.backward)
            // The stores land in the page cache, readable at once, as a pwrite's bytes; what lies past the end of
            // the file (the rest of its last page) is no part of it. The open flags do not apply: a store is no
            // write(2), so O_SYNC makes nothing durable.
            let inFile = stored.span.clamped(to: 0..<size)
            if !inFile.isEmpty {
                outcome.changes.append(.write(file: file, byte: options.pattern,
                                              range: ByteRange(offset: inFile.lowerBound, length: UInt64(inFile.count)), durable: false))
            }
            if faulted {
                let at = options.backward ? stored.offset - 1 : stored.end
                throw StepError(errno: .EFAULT, detail: "SIGBUS storing at offset \(at): the page is past the end of the file (size \(size)) or the filesystem could not back it")
            }
        case .msync(let range, let flags):
            let mapping = try mapping(of: file)
            let span = range ?? mapping.range
            try mapping.sync(span, flags)
            // msync(2) promises only that MS_SYNC "requests an update and waits for it to complete"; Linux
            // implements it (mm/msync.c) as vfs_fsync_range(file, start, end, datasync=1) over the pages of
            // the range: an fdatasync of that range, whose ->fsync writes the data and the metadata needed to
            // read it, and flushes the disk's cache, on btrfs, xfs and ext4 alike. The model takes exactly
            // that: the range (rounded up to whole pages, as msync rounds its length) becomes durable, the
            // rest of the file does not. MS_ASYNC is a no-op since Linux 2.6.19 (msync(2), NOTES), and
            // MS_INVALIDATE changes nothing durable.
            if flags.contains(.sync) {
                let pages = (span.length + MemoryMapCommands.pageSize - 1) / MemoryMapCommands.pageSize * MemoryMapCommands.pageSize
                outcome.changes.append(.makeRangeDurable(file: file, range: ByteRange(offset: span.offset, length: pages)))
            }
        case .munmap:
            try mapping(of: file).unmap()
            session.mappings[file] = nil
        default:
            preconditionFailure("not a mapping command: \(step.name)")
        }
    }

    /// The parser made sure an `mmap` step came first; it may have failed (and was allowed to).
    private func mapping(of file: String) throws -> FileMapping {
        guard let mapping = session.mappings[file] else {
            throw StepError(errno: .EINVAL, detail: "'\(file)' has no mapping: its mmap step failed")
        }
        return mapping
    }
}
