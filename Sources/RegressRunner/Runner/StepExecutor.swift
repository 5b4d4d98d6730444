#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// What one step did: the errno it ended with (nil: success), and the changes for the content model. A
/// step that succeeded made its `StepPromise`; one that failed made what the executor saw land (the half
/// of a write that got through, the size a failed fallocate left), which may be nothing.
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
/// arguments, same buffer sizes), on files beneath the session's mount, through the descriptor the session
/// holds for the step's file as xfs_io holds its file. The switch is exhaustive: a new `Command` case does
/// not compile until it is executed here.
struct StepExecutor {
    let session: TestSession
    let verifier: Verifier

    /// What a step does while it runs: what the kernel was seen to accept, and what it told about the file
    /// that the promise needs (`StepPromise.Context`).
    struct Observed {
        /// Changes that landed, for a step that then failed (a partial write's bytes).
        var partial: [ModelChange] = []
        /// Changes only the run itself knows, success or not (what `verify` found after a power cut).
        var found: [ModelChange] = []
        var context = StepPromise.Context()
    }

    /// The outcome of `step`, already `resolved(_:)`; throws only when the machine failed (`TestSession.EnvironmentError`: a remount
    /// or power cut that could not bring the filesystem back), which is no outcome of the step's.
    func run(_ step: Step, model: ContentModel) throws -> StepOutcome {
        var outcome = StepOutcome()
        var observed = Observed()
        observed.context.mappedRange = session.mappings[step.file ?? ""]?.range
        do {
            try execute(step, model: model, observed: &observed, into: &outcome)
            outcome.changes = StepPromise(step, observed.context).changes + observed.found
        } catch let error as Errno {
            outcome.error = error
            outcome.changes = observed.partial + observed.found
        } catch let error as StepError {
            outcome.error = error.errno
            outcome.detail = error.detail
            outcome.changes = observed.partial + observed.found
        }
        return outcome
    }

    /// The step's own file, opened (or still open) as xfs_io holds it. Once it is open the file exists:
    /// a step that fails after the open has still created it.
    private func open(_ step: Step, _ observed: inout Observed) throws -> FileDescriptor {
        let file = step.file ?? ""
        let open = try session.descriptor(for: file, step.openFlags)
        if open.isDirectory { observed.context.fileIsDirectory = true } else { observed.partial.append(.create(file: file)) }
        return open.fd
    }

    private func execute(_ step: Step, model: ContentModel, observed: inout Observed, into outcome: inout StepOutcome) throws {
        let file = step.file ?? ""
        let durable = step.openFlags.writesAreDurable

        switch step.command {
        case .fallocate(let mode, let range):
            let fd = try open(step, &observed)
            do {
                try fd.allocate(mode: StepExecutor.fallocateMode(mode), offset: range.offset, length: range.length)
            } catch {
                // A failed fallocate may have done part of its work: ext4's zero range, out of space half
                // way, keeps the size it reached (explore found it). The size the kernel left is recorded,
                // as a partial pwrite's bytes are, so that the model holds the file to it (the growth
                // reads as zeros, as allocated or zeroed blocks do).
                if !mode.contains(.keepSize), let size = try? fd.size(), size > (model.content(of: file)?.size ?? 0) {
                    observed.partial.append(.truncate(file: file, size: size))
                }
                throw error
            }
        case .pwrite(let range, let options):
            let fd = try open(step, &observed)
            observed.context.written = []
            try XfsIO.pwrite(fd, range: range, options: options) { written in
                observed.context.written?.append(written)
                observed.partial.append(.write(file: file, byte: options.pattern, range: written, durable: durable || options.dataSync))
            }
            if options.fsyncAfter { try fd.fsync() }
            if options.fdatasyncAfter { try fd.fdatasync() }
        case .pread(let range, let options):
            try XfsIO.pread(open(step, &observed), range: range, options: options)
        case .truncate(let size):
            try open(step, &observed).truncate(to: size)
        case .reflink(let source, let sourceOffset, let offset, let length):
            let dst = try open(step, &observed)
            try session.withFile(source, [.readOnly]) { src in
                // xfs_io's reflink_ioctl: FICLONE when all three numbers are 0 or absent.
                if sourceOffset == 0 && offset == 0 && (length ?? 0) == 0 {
                    try dst.clone(from: src)
                } else {
                    try dst.cloneRange(from: src, sourceOffset: sourceOffset, length: length ?? 0, at: offset)
                }
            }
        case .dedupe(let source, let sourceOffset, let offset, let length):
            let dst = try open(step, &observed)
            try session.withFile(source, [.readOnly]) { src in
                try XfsIO.dedupe(from: src, offset: sourceOffset, into: dst, at: offset, length: length)
            }
        case .swapext(let donor):
            // xfs_io opens the donor read-write; the kernel wants both writable.
            let target = try open(step, &observed)
            try session.withFile(donor, [.readWrite]) { try target.swapExtents(with: $0) }
        case .syncRange(let range, let mode):
            let modes: [SyncRangeMode: Int32] = [.write: 0, .waitBefore: 1, .waitAfter: 2]
            try open(step, &observed).syncRange(offset: range.offset, length: range.length, mode: modes[mode]!)
        case .chattr(let add, let remove):
            // chattr(1) is a program of its own: it opens the file read-only and non-blocking, without
            // creating it, for its one call (a directory's flags can change too).
            try session.withFile(file, [.readOnly, .nonBlocking]) { try $0.changeInodeFlags(add: add.rawValue, remove: remove.rawValue) }
        case .mmap(let range, let options):
            try map(step, range, options, &observed)
        case .mwrite(let range, let options):
            try store(file, range, options, &observed)
        case .msync(let range, let flags):
            try syncMapping(file, range, flags)
        case .munmap:
            try unmap(file)
        case .expectExtents(let expected, let syncFirst):
            // filefrag is a program of its own: its own descriptor, for the one FIEMAP.
            let extents = try session.withFile(file, [.readOnly]) { try $0.extents(syncFirst: syncFirst) }
            let count = ExtentCount.filefrag(extents)
            outcome.log.append("\(file): FIEMAP reports \(extents.count) piece(s), \(count) extent(s) as filefrag counts: \(extents.map(\.description).joined(separator: ", "))")
            if count != Int(expected) {
                outcome.checkFailure = ("\(file) has \(count) extent\(count == 1 ? "" : "s")", "\(expected)")
            }
        case .extentSizeHint(let bytes, let copyOnWrite):
            let fd = try open(step, &observed)
            try fd.setExtentSizeHint(UInt32(bytes), copyOnWrite: copyOnWrite)
            // ext4 takes FS_IOC_FSSETXATTR and keeps no hint (xfs_io does not even ask it: "extsize command is
            // for XFS filesystems only"). The kernel said yes; the test's premise, a file with this hint, does
            // not hold: the test's failure, not an errno the kernel never returned.
            let kept = try fd.extentSizeHint(copyOnWrite: copyOnWrite)
            if kept != UInt32(bytes) {
                outcome.checkFailure = ("\(file) keeps a \(step.name) hint of \(kept) after FS_IOC_FSSETXATTR succeeded", "\(bytes)")
            }
        case .xflags(let add, let remove):
            try open(step, &observed).changeXFlags(add: add.rawValue, remove: remove.rawValue)
        case .fsync:
            try open(step, &observed).fsync()
        case .fdatasync:
            try open(step, &observed).fdatasync()
        case .close:
            session.close(file)
        case .dropCaches:
            // Only the write to drop_caches, as `echo 3 > /proc/sys/vm/drop_caches`: no sync before it, so
            // dirty pages stay dirty (and stay in the cache) and nothing becomes durable.
            let control = try FileDescriptor.open("/proc/sys/vm/drop_caches", .writeOnly)
            defer { control.close() }
            _ = try "3".utf8CString.withUnsafeBytes { try control.write(UnsafeRawBufferPointer(rebasing: $0.dropLast()), at: 0) }
        case .sync:
            FileSystemCalls.sync()
        case .syncfs:
            try session.requireRoot().syncfs()
        case .remount:
            try session.remount()
        case .powerCut:
            outcome.log.append(try session.powerCut())
        case .verify(let names):
            let (results, changes, log) = verifier.verify(names.isEmpty ? model.fileNames : names, model: model,
                                                          at: step.location, implicit: false)
            outcome.verifications = results
            observed.found = changes
            outcome.log = log
        case .mkdir(let path):
            try FileSystemCalls.mkdir(beneath: session.requireRoot(), path)
        case .rename(let from, let to):
            try FileSystemCalls.rename(beneath: session.requireRoot(), from, to)
            session.renamed(from, to: to)
        case .link(let from, let to):
            try FileSystemCalls.link(beneath: session.requireRoot(), from, to)
        case .unlink(let path):
            try FileSystemCalls.unlink(beneath: session.requireRoot(), path)
            session.unlinked(path)
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

    /// The step read with the mounted filesystem's block units (xfs_io takes XFS's block and sector size);
    /// the caller runs this one. A step that no longer reads is the machine's failure, not the step's.
    func resolved(_ step: Step) throws -> Step {
        do {
            return try step.resolved(in: session.blockUnits)
        } catch {
            throw TestSession.EnvironmentError(description: "\(error) (read with \(session.blockUnits))")
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
