#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// One slot of a crash-state search: a base image of its own holding an epoch's durable prefix, an emulated
/// disk over it whose cache lies, and a loop device over that disk, all kept for the whole search. A state
/// is its writes put into the disk, a mount (log recovery runs), the files verified against what they were
/// owed, an unmount and the read-only fsck; then the disk rolls back to the base (everything since the
/// base was made durable sits in its undo log: the state's writes, the recovery's, the unmount's).
/// Starting a FUSE disk and attaching a loop device for every state cost more than the mount did.
final class CrashStateWorker {
    let number: Int
    private let disk: EmulatedDisk
    private let loop: LoopDevice
    private let filesystem: ScratchFilesystem
    private let basePath: String
    private let checkFilesystem: Bool
    /// The base holds this many writes of the durable prefix of the epoch at hand (prefixes only grow).
    private var basePrefix = 0
    private var cache: CrashStateWriteCache
    private(set) var timings = CrashStateTimings()
    /// One for the whole search: its chunk buffers are allocated (and faulted in) once, not every state.
    private let oracle = Oracle()

    init(number: Int, directory: String, diskSize: UInt64, kind: FilesystemKind, mountOptions: String,
         checkFilesystem: Bool, cache: CrashStateWriteCache) throws {
        self.number = number
        self.checkFilesystem = checkFilesystem
        self.cache = cache
        basePath = directory + "/crash-base-\(number).img"
        do {
            let base = try FileDescriptor.open(basePath, [.readWrite, .create, .exclusive], mode: 0o600)
            defer { base.close() }
            try base.truncate(to: diskSize)
        } catch {
            throw DeviceError.refused(basePath, "crash states: cannot make the base image: \(error)")
        }
        do {
            disk = try EmulatedDisk(imagePath: basePath, mountPoint: directory + "/crash-fuse-\(number)")
            disk.setLyingCache(true)
            // Direct I/O as under the test itself (TestDevice): requests queue up on the FUSE file.
            loop = try (try? LoopDevice.attach(to: disk.filePath, directIO: true)) ?? LoopDevice.attach(to: disk.filePath)
        } catch {
            unlink(basePath)
            throw error
        }
        filesystem = ScratchFilesystem(kind: kind, device: loop.path, mountPoint: directory + "/crash-mnt-\(number)",
                                       mountOptions: mountOptions)
    }

    /// Makes the durable prefix of `epoch` durable on the base (the writes' data is not kept).
    func grow(to epoch: Int, plan: CrashStatePlan) throws {
        let prefix = plan.epochs[epoch].durablePrefix
        guard basePrefix < prefix.count else { return }
        disk.setLyingCache(false)
        defer { disk.setLyingCache(true) }
        try cache.apply(Array(prefix[basePrefix...]), keep: false) { offset, bytes, length in
            try disk.writeDirectly(bytes, at: offset, length: length)
        }
        basePrefix = prefix.count
        disk.flushDirectly()
    }

    /// Checks the base plus the logged writes at `indices` (log order). Returns the first problem found
    /// (nil when the state holds) and whether this worker can go on: after an unmount that failed, the
    /// filesystem may still hold the loop device, and the worker must be replaced.
    /// Throws when the disk could not be rolled back (no later state on it could be trusted).
    func check(_ indices: [Int], owed: [CrashExpectation.Owed]) throws -> (problem: CrashStateProblem?, usable: Bool) {
        timings.countState()
        var result: (problem: CrashStateProblem?, usable: Bool)
        do {
            try timings.measure(.image) {
                try cache.apply(indices) { offset, bytes, length in try disk.writeDirectly(bytes, at: offset, length: length) }
            }
            result = checkMounted(owed)
        } catch {
            result = (.rebuildFailed(error: "\(error)"), true)
        }
        try timings.measure(.rollback) { try disk.rollBack() }
        return result
    }

    private func checkMounted(_ owed: [CrashExpectation.Owed]) -> (problem: CrashStateProblem?, usable: Bool) {
        // The device's cached pages are the previous state's (or the previous fsck's): gone.
        timings.measure(.attach) { loop.flushBuffers() }
        do { try timings.measure(.mount) { try filesystem.mount() } } catch { return (.unmountable(error: "\(error)"), true) }
        var problem: CrashStateProblem?
        do {
            let root = try FileDescriptor.open(filesystem.mountPoint, [.readOnly, .directory])
            defer { root.close() }
            problem = timings.measure(.verify) { CrashStateWorker.verify(owed, root: root, oracle: oracle) }
        } catch {
            problem = .rootUnopenable(error: "\(error)")
        }
        do { try timings.measure(.unmount) { try filesystem.unmount() } } catch {
            filesystem.forceUnmount()
            return (problem ?? .unmountFailed(error: "\(error)"), false)
        }
        if problem == nil && checkFilesystem {
            let (clean, output) = timings.measure(.fsck) { () -> (Bool, String) in
                loop.flushBuffers()
                return filesystem.check()
            }
            if !clean { problem = .fsck(output: output) }
        }
        return (problem, true)
    }

    /// Detaches and stops everything and deletes the base. The filesystem is unmounted.
    func close() {
        loop.detach()
        try? disk.stop()
        unlink(basePath)
    }

    private static func verify(_ owed: [CrashExpectation.Owed], root: FileDescriptor, oracle: Oracle) -> CrashStateProblem? {
        for owed in owed {
            let file = owed.file
            // As the test's own `verify` records a file it cannot read: the errno, EIO for anything else.
            func unreadable(_ error: Error) -> CrashStateProblem {
                var result = VerifyResult(file: file, expectedSize: owed.expected.newest.size, foundSize: nil)
                result.readError = (error as? Errno) ?? .EIO
                return .verify(result: result)
            }
            let fd: FileDescriptor
            do {
                fd = try FileDescriptor.open(beneath: root, file, .readOnly)
            } catch let error as Errno where error == .ENOENT {
                if case .either(nil, _) = owed.expected { continue }
                return .verify(result: VerifyResult(file: file, expectedSize: owed.expected.newest.size, foundSize: nil))
            } catch {
                return unreadable(error)
            }
            defer { fd.close() }
            do {
                let result = try verify(fd, file, owed.expected, oracle)
                // A name in flux may show one of the files it was moving between: the first problem is the one told.
                if !result.passed, try !owed.alternatives.contains(where: { try verify(fd, file, $0, oracle).passed }) {
                    return .verify(result: result)
                }
            } catch {
                return unreadable(error)
            }
        }
        return nil
    }

    private static func verify(_ fd: FileDescriptor, _ file: String, _ expected: ContentModel.Expected, _ oracle: Oracle) throws -> VerifyResult {
        switch expected {
        case .exact(let map): return try oracle.verify(fd, file: file, against: map)
        case .either(let old, let new): return try oracle.verifyAfterPowerCut(fd, file: file, old: old, new: new).0
        }
    }
}
