#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// Finds and removes what a regress process left behind: mounts, loop devices, FUSE mounts and images.
///
/// Every test works in a private directory of the work directory holding an owner record (pid and start
/// time). What is left is found from those records alone, checked against the kernel's own tables (the mount
/// table, /sys/block/loop*/loop/backing_file): a mount counts only if it lies inside such a directory, a loop
/// device only if its backing file does. Nothing is guessed from names, and a directory whose owner still
/// runs is never touched.
public struct Cleanup {
    public let workDirectory: String
    public init(workDirectory: String) { self.workDirectory = workDirectory }

    public struct Report: Sendable {
        public var directories = 0, mounts = 0, loopDevices = 0
        public var problems: [String] = []
        public var total: Int { directories + mounts + loopDevices }
        public var summary: String {
            "\(directories) directories, \(mounts) mounts, \(loopDevices) loop devices removed" +
                (problems.isEmpty ? "" : "; \(problems.count) could not be removed: " + problems.joined(separator: "; "))
        }
    }

    /// The test directories in the work directory whose owner is gone, or, with `owner`, those of that
    /// process (the parent cleaning up after a child it killed).
    public func abandonedDirectories(ownedBy owner: Int32? = nil) -> [String] {
        var result: [String] = []
        for name in FileSystemCalls.directoryEntries(workDirectory) {
            let path = workDirectory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { continue }
            if let record = OwnerRecord.read(from: path) {
                if record.isDying { finishDying(record) }
                if let owner { if record.pid == owner && !record.isAlive { result.append(path) } }
                else if !record.isAlive { result.append(path) }
            } else if owner == nil, time(nil) - info.st_mtim.tv_sec > 60, isTestDirectoryName(name) {
                // Killed between mkdtemp and writing the record: an empty private directory, safe to drop.
                result.append(path)
            }
        }
        return result.sorted()
    }

    /// Aborts the FUSE connection of every emulated disk in `pid`'s directories, alive or not.
    ///
    /// Why: the emulated disk is served by a thread of the test's own process. A process killed while its
    /// other thread waits in the kernel for that disk (D state, e.g. in an O_DSYNC write) never finishes
    /// dying: its FUSE descriptor, whose closing would abort the connection, is only closed at the end of
    /// the exit that the stuck thread blocks. A forced unmount runs FUSE's umount_begin, which aborts the
    /// connection; the stuck I/O then fails and the process can end. (The unmount itself may stay EBUSY.)
    public func abortEmulatedDisks(ownedBy pid: Int32) {
        for name in FileSystemCalls.directoryEntries(workDirectory) {
            let path = workDirectory + "/" + name
            guard OwnerRecord.read(from: path)?.pid == pid else { continue }
            for mount in MountTable.entries() where mount.target.hasPrefix(path + "/") && mount.type.hasPrefix("fuse") {
                _ = umount2(mount.target, Int32(MNT_FORCE))
            }
        }
    }

    /// A killed test process that waits on its own emulated disk cannot end until the disk's FUSE connection
    /// is aborted (see abortEmulatedDisks): abort it and give the process a moment to go.
    private func finishDying(_ record: OwnerRecord) {
        abortEmulatedDisks(ownedBy: record.pid)
        for _ in 0..<100 where record.isAlive { usleep(20_000) }
    }

    /// Test directories are named `<test>.<fs>.XXXXXX` by WorkArea; anything else in the work directory
    /// is not ours to remove without a record.
    private func isTestDirectoryName(_ name: String) -> Bool {
        let parts = name.split(separator: ".")
        return parts.count >= 3 && parts.last!.count == 6
    }

    /// Removes everything under each directory, innermost first: the filesystem mount, the loop devices,
    /// the FUSE mount, then the files.
    @discardableResult
    public func reclaim(_ directories: [String]) -> Report {
        var report = Report()
        for directory in directories {
            let prefix = directory + "/"
            endRecordedChild(of: directory)
            // Filesystem mounts first (deepest path first), so the loop devices under them are free.
            let mounts = MountTable.entries().filter { $0.target.hasPrefix(prefix) }.sorted { $0.target.count > $1.target.count }
            for mount in mounts where mount.type != "fuse" && !mount.type.hasPrefix("fuse.") {
                unmount(mount.target, &report)
            }
            for loop in LoopDevice.attached() where loop.backingFile.hasPrefix(prefix) {
                // A dm-flakey device of the dead run holds the loop device: it goes first.
                for holder in MappedDevice.holders(of: loop.name) where holder == "regress-" + lastPathComponent(directory) {
                    MappedDevice.remove(named: holder)
                }
                if detach(loop.name) { report.loopDevices += 1 } else { report.problems.append("/dev/\(loop.name) (backing \(loop.backingFile)) is still attached") }
            }
            for mount in MountTable.entries().filter({ $0.target.hasPrefix(prefix) }).sorted(by: { $0.target.count > $1.target.count }) {
                unmount(mount.target, &report)
            }
            if MountTable.entries().contains(where: { $0.target.hasPrefix(prefix) }) {
                report.problems.append("\(directory): a mount inside it could not be removed")
                continue
            }
            WorkArea.removeTree(directory)
            report.directories += 1
        }
        return report
    }

    /// Reclaims every abandoned directory: what `regress cleanup` and the start of every run do.
    @discardableResult
    public func reclaimAbandoned() -> Report { reclaim(abandonedDirectories()) }

    /// A dead run's VM: QEMU cannot be told to die with its parent, so its pid and start time sit in the
    /// directory (OwnerRecord.childFileName). It is ended by that pid, in its own process group, only
    /// while the same process (same start time) still runs.
    private func endRecordedChild(of directory: String) {
        guard let child = OwnerRecord.read(from: directory, as: OwnerRecord.childFileName), child.isAlive,
              OwnerRecord.state(of: child.pid) != "Z" else { return }
        if getpgid(child.pid) == child.pid { kill(-child.pid, SIGKILL) } else { kill(child.pid, SIGKILL) }
        for _ in 0..<200 where child.isAlive && OwnerRecord.state(of: child.pid) != "Z" { usleep(10_000) }
    }

    private func unmount(_ target: String, _ report: inout Report) {
        if (try? Mounter.unmount(target)) == nil { Mounter.detachLazily(target) }
        if !MountTable.isMountPoint(target) { report.mounts += 1 }
    }

    /// LOOP_CLR_FD on a device whose backing file we checked; with autoclear it may already be gone.
    private func detach(_ name: String) -> Bool {
        if let fd = try? FileDescriptor.open("/dev/" + name, .readOnly) {
            _ = regress_loop_clear(fd.rawValue)
            fd.close()
        }
        for _ in 0..<200 where LoopDevice.backingFile(of: name) != nil { usleep(5000) }
        return LoopDevice.backingFile(of: name) == nil
    }
}
