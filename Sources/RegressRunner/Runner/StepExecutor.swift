#if canImport(Glibc)
import Glibc
#endif
import CLibMount

/// Runs a test's steps as direct syscalls on files beneath the mount, keeping the content model in step
/// with what each call was promised to do. A step's errno is compared with its expectation; `verify`
/// compares files with the model.
final class StepExecutor {
    let filesystem: ScratchFilesystem
    let device: TestDevice
    private(set) var model = ContentModel()
    private var oracle = Oracle()
    private var root: FileDescriptor?
    var failures: [TestResult.StepFailure] = []
    var verifications: [VerifyResult] = []
    var log: [String] = []

    /// A step could not be run for a reason outside the test (the mount vanished, a remount failed).
    struct EnvironmentError: Error, CustomStringConvertible { let description: String }

    init(filesystem: ScratchFilesystem, device: TestDevice) {
        self.filesystem = filesystem
        self.device = device
    }

    deinit {
        root?.close()
        oracle.release()
    }

    func openRoot() throws {
        root?.close()
        root = try FileDescriptor.open(filesystem.mountPoint, [.readOnly, .directory])
    }

    func closeRoot() {
        root?.close()
        root = nil
    }

    /// Runs one step; records a failure when its outcome is not what the test expects.
    func run(_ step: Step) throws {
        // After a power cut, files whose fate was uncertain are checked before anything touches them.
        if !model.unresolvedAfterPowerCut.isEmpty, !isVerify(step) {
            verify(model.unresolvedAfterPowerCut, at: step.location, implicit: true)
        }
        let started = monotonicSeconds()
        var outcome: Errno?
        var detail: String?
        do {
            try execute(step)
        } catch let error as Errno {
            outcome = error
        } catch let error as StepDetail {
            outcome = error.errno
            detail = error.detail
        }
        let elapsed = monotonicSeconds() - started
        let accepted = step.expectation.accepts(outcome)
        log.append("\(step.location.description) \(step.text) -> \(outcome?.name ?? "ok")\(accepted ? "" : " UNEXPECTED") (\(formatSeconds(elapsed))s)")
        if !accepted {
            failures.append(.init(location: step.location, step: stepName(step), got: outcome,
                                  expected: step.expectation.description, detail: detail))
        }
    }

    /// Checks at the end of the test that nothing owed after a power cut was left unverified.
    func finish(at location: SourceLocation) {
        if !model.unresolvedAfterPowerCut.isEmpty {
            verify(model.unresolvedAfterPowerCut, at: location, implicit: true)
        }
    }

    private func isVerify(_ step: Step) -> Bool {
        if case .verify = step.command { return true }
        return false
    }

    /// `fsync file1` for failure messages: the command and its file, without the arguments.
    private func stepName(_ step: Step) -> String {
        let words = step.text.split(separator: " ").filter { !$0.hasSuffix(":") }
        return ([words.first.map(String.init) ?? ""] + (step.file.map { [$0] } ?? [])).joined(separator: " ")
    }

    /// An error with more to say than its errno (the errno still decides against the expectation).
    struct StepDetail: Error { let errno: Errno; let detail: String }

    // MARK: commands

    private func execute(_ step: Step) throws {
        let file = step.file ?? ""
        switch step.command {
        case .fallocate(let mode, let keepSize, let range):
            try fallocate(file, mode: mode, keepSize: keepSize, range: range)
        case .pwrite(let range, let options):
            try pwrite(file, range: range, options: options)
        case .pread(let range, let blockSize):
            try pread(file, range: range, blockSize: blockSize)
        case .truncate(let size):
            try withFile(file, .readWrite, create: true) { try $0.truncate(to: size) }
            model.update(file) { $0.resize(to: size) }
        case .reflink(let source, let sourceOffset, let offset, let length):
            try reflink(file, from: source, sourceOffset: sourceOffset, offset: offset, length: length)
        case .dedupe(let source, let sourceOffset, let offset, let length):
            try withFile(source, .readOnly) { src in
                try withFile(file, .readWrite) { dst in
                    let result = try src.dedupeRange(offset: sourceOffset, length: length, into: dst, at: offset)
                    if result == .differs { throw StepDetail(errno: .EBADE, detail: "FIDEDUPERANGE: the ranges differ") }
                }
            }
            // Deduplication never changes what a file reads.
        case .fsync:
            // Read-only, so that a directory can be fsynced like a file.
            try withFile(file, .readOnly) { try $0.fsync() }
            model.makeDurable(file)
        case .fdatasync:
            try withFile(file, .readOnly) { try $0.fdatasync() }
            model.makeDurable(file)
        case .dropCaches:
            try requireRoot().syncfs()
            let control = try FileDescriptor.open("/proc/sys/vm/drop_caches", .writeOnly)
            defer { control.close() }
            _ = try "3".utf8CString.withUnsafeBytes { try control.write(UnsafeRawBufferPointer(rebasing: $0.dropLast()), at: 0) }
            model.makeAllDurable()
        case .sync:
            FileSystemCalls.sync()
            model.makeAllDurable()
        case .syncfs:
            try requireRoot().syncfs()
            model.makeAllDurable()
        case .remount:
            try remount()
        case .powerCut:
            try powerCut()
        case .verify(let names):
            let files = names.isEmpty ? model.fileNames : names
            verify(files, at: step.location, implicit: false)
        case .mkdir(let path):
            try FileSystemCalls.mkdir(beneath: requireRoot(), path)
        case .rename(let from, let to):
            try FileSystemCalls.rename(beneath: requireRoot(), from, to)
            model.rename(from, to: to)
        case .link(let from, let to):
            try FileSystemCalls.link(beneath: requireRoot(), from, to)
            model.link(from, to: to)
        case .unlink(let path):
            try FileSystemCalls.unlink(beneath: requireRoot(), path)
            model.remove(path)
        case .injectError(let error, let range, let after):
            try requireDisk().failWrites(with: error, range: range, afterBytes: after)
        case .lyingCache(let on):
            try requireDisk().setLyingCache(on)
        case .dropWrites(let range):
            try requireDisk().dropWrites(range)
        case .clearFaults:
            try requireDisk().clearFaults()
        }
    }

    private func requireRoot() throws -> FileDescriptor {
        guard let root else { throw EnvironmentError(description: "the filesystem is not mounted") }
        return root
    }

    private func requireDisk() throws -> EmulatedDisk {
        guard let disk = device.disk else { throw EnvironmentError(description: "this step needs the emulated disk") }
        return disk
    }

    /// Opens `name` beneath the mount for one call, as xfs_io does for each command.
    private func withFile<T>(_ name: String, _ flags: FileDescriptor.OpenFlags, create: Bool = false,
                             _ body: (FileDescriptor) throws -> T) throws -> T {
        var flags = flags
        if create { flags.insert(.create) }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(beneath: requireRoot(), name, flags)
        } catch let error as Errno where error == .EXDEV || error == .ELOOP {
            throw StepDetail(errno: error, detail: "'\(name)' resolves outside the mount")
        }
        defer { fd.close() }
        return try body(fd)
    }

    private func fallocate(_ file: String, mode: Command.AllocateMode, keepSize: Bool, range: ByteRange) throws {
        var flags: Int32 = keepSize ? REGRESS_FALLOC_KEEP_SIZE : 0
        switch mode {
        case .allocate: break
        case .punchHole: flags = REGRESS_FALLOC_PUNCH_HOLE | REGRESS_FALLOC_KEEP_SIZE
        case .zeroRange: flags |= REGRESS_FALLOC_ZERO_RANGE
        case .collapseRange: flags = REGRESS_FALLOC_COLLAPSE_RANGE
        case .insertRange: flags = REGRESS_FALLOC_INSERT_RANGE
        case .unshareRange: flags = REGRESS_FALLOC_UNSHARE_RANGE | REGRESS_FALLOC_KEEP_SIZE
        }
        try withFile(file, .readWrite, create: true) { try $0.allocate(mode: flags, offset: range.offset, length: range.length) }
        let span = range.offset..<range.end
        model.update(file) { map in
            switch mode {
            case .allocate: if !keepSize { map.resize(to: max(map.size, range.end)) }
            case .punchHole: map.zero(span)
            case .zeroRange:
                map.zero(span)
                if !keepSize { map.resize(to: max(map.size, range.end)) }
            case .collapseRange: map.collapse(span)
            case .insertRange: map.insert(at: range.offset, length: range.length)
            case .unshareRange: break
            }
        }
    }

    /// Writes `range` in `blockSize` calls, as xfs_io's pwrite does. The model learns exactly the bytes the
    /// kernel accepted, also when a call fails part way (the padding of a full filesystem).
    private func pwrite(_ file: String, range: ByteRange, options: Command.WriteOptions) throws {
        var flags: FileDescriptor.OpenFlags = [.writeOnly]
        if options.dataSync { flags.insert(.dataSync) }
        if options.direct { flags.insert(.direct) }
        let chunk = Int(min(options.blockSize, max(range.length, 1)))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: options.pattern)
        var written: UInt64 = 0
        func record() {
            let span = range.offset..<(range.offset + written)
            if options.dataSync { model.writeDurably(file, options.pattern, over: span) }
            else { model.update(file) { $0.write(options.pattern, over: span) } }
        }
        try withFile(file, flags, create: true) { fd in
            defer { record() }
            while written < range.length {
                let want = Int(min(UInt64(chunk), range.length - written))
                let count = try fd.write(UnsafeRawBufferPointer(rebasing: buffer[0..<want]), at: range.offset + written)
                if count == 0 { throw Errno.EIO }
                written += UInt64(count)
            }
            if options.fsyncAfter { try fd.fsync() }
            if options.fdatasyncAfter { try fd.fdatasync() }
        }
        if options.fsyncAfter || options.fdatasyncAfter { model.makeDurable(file) }
    }

    private func pread(_ file: String, range: ByteRange, blockSize: UInt64) throws {
        let chunk = Int(min(blockSize, max(range.length, 1)))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        try withFile(file, .readOnly) { fd in
            var done: UInt64 = 0
            while done < range.length {
                let want = Int(min(UInt64(chunk), range.length - done))
                let count = try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: range.offset + done)
                if count == 0 { break }
                done += UInt64(count)
            }
        }
    }

    private func reflink(_ file: String, from source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64?) throws {
        let sourceMap = model.content(of: source) ?? ExtentMap()
        try withFile(source, .readOnly) { src in
            try withFile(file, .readWrite, create: true) { dst in
                try dst.cloneRange(from: src, sourceOffset: sourceOffset, length: length ?? 0, at: offset)
            }
        }
        // A zero length (or none) clones to the source's end of file.
        let end = (length ?? 0) == 0 ? sourceMap.size : sourceOffset + length!
        model.update(file) { $0.clone(from: sourceMap, range: sourceOffset..<max(sourceOffset, end), to: offset) }
    }

    // MARK: verify

    func verify(_ files: [String], at location: SourceLocation, implicit: Bool) {
        for file in files {
            guard let expected = model.expected(for: file) else { continue }
            let result: VerifyResult
            do {
                result = try verifyOne(file, expected)
            } catch {
                var failed = VerifyResult(file: file, expectedSize: 0, foundSize: nil)
                switch expected {
                case .exact(let map): failed.expectedSize = map.size
                case .either(_, let new): failed.expectedSize = new.size
                }
                failed.readError = (error as? Errno) ?? .EIO
                log.append("\(location) verify \(file): cannot read: \(error)")
                verifications.append(failed)
                continue
            }
            let what = implicit ? "verify (after power cut)" : "verify"
            log.append("\(location) \(what) \(file): " + (result.passed ? "ok" : "\(result.mismatches.count + result.unlistedMismatches) bad ranges"))
            verifications.append(result)
        }
    }

    private func verifyOne(_ file: String, _ expected: ContentModel.Expected) throws -> VerifyResult {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(beneath: requireRoot(), file, .readOnly)
        } catch let error as Errno where error == .ENOENT {
            if case .either(nil, let new) = expected {
                model.resolve(file, to: nil)   // never made durable: it may well be gone
                return VerifyResult(file: file, expectedSize: new.size, foundSize: 0, allowedSizes: 0...new.size)
            }
            if case .exact(let map) = expected { return VerifyResult(file: file, expectedSize: map.size, foundSize: nil) }
            if case .either(_, let new) = expected { return VerifyResult(file: file, expectedSize: new.size, foundSize: nil) }
            throw Errno.ENOENT
        }
        defer { fd.close() }
        switch expected {
        case .exact(let map):
            return try oracle.verify(fd, file: file, against: map)
        case .either(let old, let new):
            let (result, found) = try oracle.verifyAfterPowerCut(fd, file: file, old: old, new: new)
            model.resolve(file, to: found)
            return result
        }
    }

    // MARK: mounts

    /// A clean unmount and mount: everything written reaches the disk, caches start cold.
    private func remount() throws {
        closeRoot()
        do {
            try filesystem.unmount()
            try filesystem.mount()
        } catch {
            throw EnvironmentError(description: "remount: \(error)")
        }
        try openRoot()
        model.makeAllDurable()
    }

    /// The emulated power cut: nothing more reaches the durable image, the filesystem is torn down (its
    /// unmount writes are lost too), the durable image is attached again and mounted, so that log recovery
    /// runs as after a real power loss.
    private func powerCut() throws {
        let disk = try requireDisk()
        disk.powerCut()
        let stats = disk.statistics
        log.append("power cut: the disk had taken \(stats.writes) writes (\(Size.format(stats.writeBytes))) and \(stats.flushes) flushes; \(Size.format(stats.undoBytes)) written since the last flush are lost")
        closeRoot()
        filesystem.forceUnmount()
        do {
            try device.reattachAfterPowerCut()
            filesystem.moved(to: device.path)
            try filesystem.mount()
        } catch {
            throw EnvironmentError(description: "power-cut: recovery failed: \(error)")
        }
        try openRoot()
        model.powerCut()
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
