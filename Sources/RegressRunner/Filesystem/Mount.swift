#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// Mounting and unmounting through libmount, as mount(8) does, so that option strings mean what they
/// mean to mount(8) (`nospace_cache`, `-o ro`…) and libmount's error text reaches the report.
public enum Mounter {
    public struct Failure: Error, CustomStringConvertible {
        public let operation: String
        public let target: String
        public let message: String
        public var description: String { "\(operation) \(target): \(message)" }
    }

    public static func mount(source: String, target: String, type: String, options: String) throws {
        guard let context = mnt_new_context() else { throw Failure(operation: "mount", target: target, message: "libmount: out of memory") }
        defer { mnt_free_context(context) }
        mnt_context_disable_mtab(context, 1)
        mnt_context_set_source(context, source)
        mnt_context_set_target(context, target)
        mnt_context_set_fstype(context, type)
        if !options.isEmpty { mnt_context_set_options(context, options) }
        let rc = mnt_context_mount(context)
        if rc != 0 || mnt_context_get_status(context) != 1 {
            throw Failure(operation: "mount", target: target, message: explain(context, rc))
        }
    }

    /// Unmounts `target`. A busy fs is retried briefly (udev and blkid may hold it for a moment after mkfs).
    public static func unmount(_ target: String) throws {
        var lastMessage = ""
        for attempt in 0..<50 {
            guard let context = mnt_new_context() else { throw Failure(operation: "umount", target: target, message: "libmount: out of memory") }
            defer { mnt_free_context(context) }
            mnt_context_disable_mtab(context, 1)
            mnt_context_set_target(context, target)
            let rc = mnt_context_umount(context)
            if rc == 0 && mnt_context_get_status(context) == 1 { return }
            lastMessage = explain(context, rc)
            guard mnt_context_get_syscall_errno(context) == EBUSY else { break }
            usleep(useconds_t(20_000 * min(attempt + 1, 10)))
        }
        throw Failure(operation: "umount", target: target, message: lastMessage)
    }

    /// Last resort for clean-up: detach the mount from the tree now, let the kernel finish when it can.
    public static func detachLazily(_ target: String) {
        _ = umount2(target, Int32(MNT_DETACH))
    }

    private static func explain(_ context: OpaquePointer, _ rc: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        _ = mnt_context_get_excode(context, rc, &buffer, buffer.count)
        let text = String(cString: buffer)
        if !text.isEmpty { return text }
        let error = mnt_context_get_syscall_errno(context)
        return error != 0 ? Errno(error).message : "libmount error \(rc)"
    }
}

/// The kernel's mount table, read through libmount.
public enum MountTable {
    public struct Entry: Sendable { public let source: String; public let target: String; public let type: String }

    public static func entries() -> [Entry] {
        guard let table = mnt_new_table_from_file("/proc/self/mountinfo") else { return [] }
        defer { mnt_unref_table(table) }
        var result: [Entry] = []
        guard let iterator = mnt_new_iter(Int32(MNT_ITER_FORWARD)) else { return [] }
        defer { mnt_free_iter(iterator) }
        var fs: OpaquePointer?
        while mnt_table_next_fs(table, iterator, &fs) == 0, let fs {
            func string(_ value: UnsafePointer<CChar>?) -> String { value.map { String(cString: $0) } ?? "" }
            result.append(Entry(source: string(mnt_fs_get_source(fs)), target: string(mnt_fs_get_target(fs)),
                                type: string(mnt_fs_get_fstype(fs))))
        }
        return result
    }

    /// Mount points whose source is `device` (by path, or by device number for renamed nodes).
    public static func mountPoints(of device: String) -> [String] {
        var info = stat()
        let rdev = stat(device, &info) == 0 ? info.st_rdev : nil
        return entries().filter { entry in
            if entry.source == device { return true }
            guard let rdev, entry.source.hasPrefix("/dev/") else { return false }
            var other = stat()
            return stat(entry.source, &other) == 0 && (other.st_mode & S_IFMT) == S_IFBLK && other.st_rdev == rdev
        }.map(\.target)
    }

    public static func isMountPoint(_ path: String) -> Bool { entries().contains { $0.target == path } }
}
