import RegressCore

/// `mmap`, `mwrite`, `msync` and `munmap`: xfs_io's mapping commands on the file's one mapping.
extension StepExecutor {
    /// mmap(2) through the file's descriptor, as xfs_io maps its open file; the mapping outlives a `close`.
    func map(_ step: Step, _ range: ByteRange, _ options: MapOptions, _ observed: inout Observed) throws {
        let fd = try session.descriptor(for: step.file ?? "", step.openFlags).fd
        observed.partial.append(.create(file: step.file ?? ""))
        session.mappings[step.file ?? ""] = try FileMapping(fd, range: range, options: options)
    }

    /// Stores through the mapping. The model needs the file's size (stores past the end of file are no part
    /// of it), which regress asks with fstat of the file's descriptor (or a read-only open once it is closed).
    func store(_ file: String, _ range: ByteRange?, _ options: MapWriteOptions, _ observed: inout Observed) throws {
        let mapping = try mapping(of: file)
        let span = range ?? mapping.range
        let size = try session.heldDescriptor(file).map { try $0.size() } ?? session.withFile(file, [.readOnly]) { try $0.size() }
        observed.context.fileSize = size
        let (stored, faulted) = mapping.store(options.pattern, over: span, backward: options.backward)
        if faulted {
            let inFile = stored.span.clamped(to: 0..<size)
            if !inFile.isEmpty {
                observed.partial.append(.write(file: file, byte: options.pattern,
                                               range: ByteRange(offset: inFile.lowerBound, length: UInt64(inFile.count)), durable: false))
            }
            let at = options.backward ? stored.offset - 1 : stored.end
            throw StepError(errno: .EFAULT, detail: "SIGBUS storing at offset \(at): the page is past the end of the file (size \(size)) or the filesystem could not back it")
        }
    }

    func syncMapping(_ file: String, _ range: ByteRange?, _ flags: MapSyncFlags) throws {
        let mapping = try mapping(of: file)
        try mapping.sync(range ?? mapping.range, flags)
    }

    func unmap(_ file: String) throws {
        try mapping(of: file).unmap()
        session.mappings[file] = nil
    }

    /// The parser made sure an `mmap` step came first; it may have failed (and was allowed to).
    private func mapping(of file: String) throws -> FileMapping {
        guard let mapping = session.mappings[file] else {
            throw StepError(errno: .EINVAL, detail: "'\(file)' has no mapping: its mmap step failed")
        }
        return mapping
    }
}
