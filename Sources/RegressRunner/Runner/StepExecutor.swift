#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// What one step did: the errno it ended with (nil: success), and what the kernel accepted, as changes for
/// the content model. A write that failed half way reports both the errno and the half that landed.
struct StepOutcome {
    var error: Errno?
    var detail: String?
    var changes: [ModelChange] = []
    var verifications: [VerifyResult] = []
    var log: [String] = []
    /// A check step found the file not as the test says (`foo has 3 extents, expected 1`).
    var checkFailure: (found: String, expected: String)?
}

/// Runs each command of the test language as the syscalls `xfs_io -c` makes for it (same calls, same
/// arguments, same buffer sizes), on files beneath the session's mount. The switch is exhaustive: a new
/// `Command` case does not compile until it is executed here.
struct StepExecutor {
    let session: TestSession
    let verifier: Verifier

    /// The step's outcome; throws only when the machine failed (`TestSession.EnvironmentError`: a remount
    /// or power cut that could not bring the filesystem back), which is no outcome of the step's.
    func run(_ step: Step, model: ContentModel) throws -> StepOutcome {
        var outcome = StepOutcome()
        do {
            try execute(step, model: model, into: &outcome)
        } catch let error as Errno {
            outcome.error = error
        } catch let error as StepError {
            outcome.error = error.errno
            outcome.detail = error.detail
        }
        return outcome
    }

    private func execute(_ step: Step, model: ContentModel, into outcome: inout StepOutcome) throws {
        let file = step.file ?? ""
        // xfs_io -f: every command on a file opens it with O_CREAT, and the test's open flags apply.
        var flags: FileDescriptor.OpenFlags = [.create]
        if step.openFlags.contains(.direct) { flags.insert(.direct) }
        if step.openFlags.contains(.sync) { flags.insert(.sync) }
        if step.openFlags.contains(.dataSync) { flags.insert(.dataSync) }
        let durable = step.openFlags.writesAreDurable

        switch step.command {
        case .fallocate(let mode, let range):
            try session.withFile(file, flags.union(.readWrite)) { fd in
                outcome.changes.append(.create(file: file))
                do {
                    try fd.allocate(mode: StepExecutor.fallocateMode(mode), offset: range.offset, length: range.length)
                } catch {
                    // A failed fallocate may have done part of its work: ext4's zero range, out of space half
                    // way, keeps the size it reached (explore found it). The size the kernel left is recorded,
                    // as a partial pwrite's bytes are, so that the model holds the file to it (the growth
                    // reads as zeros, as allocated or zeroed blocks do).
                    if !mode.contains(.keepSize), let size = try? fd.size(), size > (model.content(of: file)?.size ?? 0) {
                        outcome.changes.append(.truncate(file: file, size: size))
                    }
                    throw error
                }
            }
            outcome.changes.append(.allocate(file: file, flags: mode, range: range))
        case .pwrite(let range, let options):
            try session.withFile(file, flags.union(.readWrite)) { fd in
                outcome.changes.append(.create(file: file))
                try XfsIO.pwrite(fd, range: range, options: options) { written in
                    outcome.changes.append(.write(file: file, byte: options.pattern, range: written,
                                                  durable: durable || options.dataSync))
                }
                if options.fsyncAfter { try fd.fsync() }
                if options.fdatasyncAfter { try fd.fdatasync() }
            }
            if options.fsyncAfter { outcome.changes.append(.makeDurable(file: file)) }
            else if options.fdatasyncAfter { outcome.changes.append(.makeDataDurable(file: file)) }
        case .pread(let range, let options):
            try session.withFile(file, flags.union(.readOnly)) { try XfsIO.pread($0, range: range, options: options) }
        case .truncate(let size):
            try session.withFile(file, flags.union(.readWrite)) { fd in
                outcome.changes.append(.create(file: file))
                try fd.truncate(to: size)
            }
            outcome.changes.append(.truncate(file: file, size: size))
        case .reflink(let source, let sourceOffset, let offset, let length):
            try session.withFile(source, [.readOnly]) { src in
                try session.withFile(file, flags.union(.readWrite)) { dst in
                    outcome.changes.append(.create(file: file))
                    try dst.cloneRange(from: src, sourceOffset: sourceOffset, length: length ?? 0, at: offset)
                }
            }
            outcome.changes.append(.clone(file: file, source: source, sourceOffset: sourceOffset, offset: offset, length: length))
        case .dedupe(let source, let sourceOffset, let offset, let length):
            // Deduplication never changes what a file reads.
            try session.withFile(source, [.readOnly]) { src in
                try session.withFile(file, flags.union(.readWrite)) { dst in
                    let result = try src.dedupeRange(offset: sourceOffset, length: length, into: dst, at: offset)
                    if result == .differs { throw StepError(errno: .EBADE, detail: "FIDEDUPERANGE: the ranges differ") }
                }
            }
        case .swapext(let donor):
            // xfs_io opens the donor read-write; the kernel wants both writable.
            try session.withFile(donor, [.readWrite]) { other in
                try session.withFile(file, flags.union(.readWrite)) { try $0.swapExtents(with: other) }
            }
            outcome.changes.append(.exchange(file: file, with: donor))
        case .syncRange(let range, let mode):
            let modes: [SyncRangeMode: Int32] = [.write: 0, .waitBefore: 1, .waitAfter: 2]
            try session.withFile(file, [.readOnly]) { try $0.syncRange(offset: range.offset, length: range.length, mode: modes[mode]!) }
        case .chattr(let add, let remove):
            // Read-only and not created, as chattr(1) opens; a directory's flags can change too.
            try session.withFile(file, [.readOnly, .nonBlocking]) { try $0.changeInodeFlags(add: add.rawValue, remove: remove.rawValue) }
        case .mmap, .mwrite, .msync, .munmap:
            try executeMapping(step, file: file, openFlags: flags, into: &outcome)
        case .expectExtents(let expected, let syncFirst):
            let extents = try session.withFile(file, [.readOnly]) { try $0.extents(syncFirst: syncFirst) }
            let count = ExtentCount.filefrag(extents)
            outcome.log.append("\(file): FIEMAP reports \(extents.count) piece(s), \(count) extent(s) as filefrag counts: \(extents.map(\.description).joined(separator: ", "))")
            if count != Int(expected) {
                outcome.checkFailure = ("\(file) has \(count) extent\(count == 1 ? "" : "s")", "\(expected)")
            }
        case .extentSizeHint(let bytes, let copyOnWrite):
            // As xfs_io -f: an existing file or directory is opened as it is, a missing file is made.
            func setHint(_ fd: FileDescriptor) throws {
                try fd.setExtentSizeHint(UInt32(bytes), copyOnWrite: copyOnWrite)
                // ext4 takes FS_IOC_FSSETXATTR and drops the hint without a word (xfs_io does not even ask it:
                // "extsize command is for XFS filesystems only"). A hint the file does not keep is no hint.
                let kept = try fd.extentSizeHint(copyOnWrite: copyOnWrite)
                if kept != UInt32(bytes) {
                    throw StepError(errno: .EOPNOTSUPP, detail: "FS_IOC_FSSETXATTR succeeded but the file keeps a hint of \(kept), not \(bytes): this filesystem has no \(step.name) hint")
                }
            }
            do {
                try session.withFile(file, [.readOnly], setHint)
            } catch let error as Errno where error == .ENOENT {
                try session.withFile(file, flags.union(.readWrite)) { fd in
                    outcome.changes.append(.create(file: file))
                    try setHint(fd)
                }
            }
        case .fsync:
            // Read-only, so that a directory can be fsynced like a file.
            try session.withFile(file, [.readOnly]) { try $0.fsync() }
            outcome.changes.append(.makeDurable(file: file))
        case .fdatasync:
            try session.withFile(file, [.readOnly]) { try $0.fdatasync() }
            outcome.changes.append(.makeDataDurable(file: file))
        case .dropCaches:
            try session.requireRoot().syncfs()
            let control = try FileDescriptor.open("/proc/sys/vm/drop_caches", .writeOnly)
            defer { control.close() }
            _ = try "3".utf8CString.withUnsafeBytes { try control.write(UnsafeRawBufferPointer(rebasing: $0.dropLast()), at: 0) }
            outcome.changes.append(.makeAllDurable)
        case .sync:
            FileSystemCalls.sync()
            outcome.changes.append(.makeAllDurable)
        case .syncfs:
            try session.requireRoot().syncfs()
            outcome.changes.append(.makeAllDurable)
        case .remount:
            try session.remount()
            outcome.changes.append(.makeAllDurable)
        case .powerCut:
            outcome.log.append(try session.powerCut())
            outcome.changes.append(.powerCut)
        case .verify(let names):
            let (results, changes, log) = verifier.verify(names.isEmpty ? model.fileNames : names, model: model,
                                                          at: step.location, implicit: false)
            outcome.verifications = results
            outcome.changes = changes
            outcome.log = log
        case .mkdir(let path):
            try FileSystemCalls.mkdir(beneath: session.requireRoot(), path)
        case .rename(let from, let to):
            try FileSystemCalls.rename(beneath: session.requireRoot(), from, to)
            outcome.changes.append(.rename(from: from, to: to))
        case .link(let from, let to):
            try FileSystemCalls.link(beneath: session.requireRoot(), from, to)
            outcome.changes.append(.link(from: from, to: to))
        case .unlink(let path):
            try FileSystemCalls.unlink(beneath: session.requireRoot(), path)
            outcome.changes.append(.remove(file: path))
        case .injectError(let error, let range, let after):
            try requireDisk().failWrites(with: error, range: range, afterBytes: after)
        case .lyingCache(let on):
            try requireDisk().setLyingCache(on)
        case .reorderFlushes(let on):
            try requireDisk().setReorderFlushes(on)
        case .dropWrites(let ranges):
            try requireDisk().dropWrites(ranges)
        case .clearFaults:
            try requireDisk().clearFaults()
        }
    }

    private func requireDisk() throws -> EmulatedDisk {
        guard let disk = session.disk else { throw TestSession.EnvironmentError(description: "this step needs the emulated disk") }
        return disk
    }

    /// The kernel's FALLOC_FL_* bits for the language's mode.
    static func fallocateMode(_ flags: AllocateFlags) -> Int32 {
        let bits: [(AllocateFlags, Int32)] = [
            (.keepSize, REGRESS_FALLOC_KEEP_SIZE), (.punchHole, REGRESS_FALLOC_PUNCH_HOLE),
            (.zeroRange, REGRESS_FALLOC_ZERO_RANGE), (.collapseRange, REGRESS_FALLOC_COLLAPSE_RANGE),
            (.insertRange, REGRESS_FALLOC_INSERT_RANGE), (.unshareRange, REGRESS_FALLOC_UNSHARE_RANGE),
        ]
        return bits.reduce(0) { flags.contains($1.0) ? $0 | $1.1 : $0 }
    }
}
