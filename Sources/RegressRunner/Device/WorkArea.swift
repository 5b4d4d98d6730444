#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// A test's private directory in the work directory (mode 0700, from mkdtemp): its image, its mount points
/// and its owner record live here, so no other user can swap a file under us, and clean-up finds
/// everything a test made from the directory alone.
public struct WorkArea: Sendable {
    public let path: String

    /// Creates `<workDirectory>/<prefix>XXXXXX` and writes its owner record.
    public static func create(in workDirectory: String, prefix: String) throws -> WorkArea {
        try makeDirectory(workDirectory)
        var template = Array("\(workDirectory)/\(prefix)XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw DeviceError.cannotCreate(workDirectory, .current)
        }
        let path = String(cString: created)
        // The owner record comes first: from here on, a regress killed by SIGKILL leaves a directory that
        // the next run's clean-up recognises as its own (see Cleanup.swift).
        OwnerRecord.current.write(to: path)
        return WorkArea(path: path)
    }

    /// Deletes the directory and what is in it (never crossing into a mount that is still there).
    public func remove() { WorkArea.removeTree(path) }

    /// Creates `path` and its parents as 0755 directories if missing.
    static func makeDirectory(_ path: String) throws {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw DeviceError.cannotCreate(prefix, .current) }
        }
    }

    /// Removes a directory tree regress made. Never crosses into a mount point (it only unlinks entries
    /// on the same device as the top), so a stale FUSE or fs mount below cannot be emptied by mistake.
    static func removeTree(_ path: String) {
        var top = stat()
        guard lstat(path, &top) == 0 else { return }
        func remove(_ path: String) {
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                guard info.st_dev == top.st_dev else { return }
                FileSystemCalls.directoryEntries(path).forEach { remove(path + "/" + $0) }
                rmdir(path)
            } else {
                unlink(path)
            }
        }
        remove(path)
    }
}

public enum DeviceError: Error, CustomStringConvertible {
    case cannotCreate(String, Errno)
    case noLoopDevice(Errno)
    case attach(String, Errno)
    case refused(String, String)

    public var description: String {
        switch self {
        case .cannotCreate(let path, let error): return "\(path): cannot create: \(error.message)"
        case .noLoopDevice(let error): return "/dev/loop-control: no free loop device: \(error.message)"
        case .attach(let device, let error): return "\(device): cannot attach: \(error.message)"
        case .refused(let device, let reason): return "\(device): refused: \(reason)"
        }
    }
}

/// A sparse image file in a work area: the backing store of a test's loop device.
public struct ImageFile: Sendable {
    public let path: String
    public let size: UInt64

    /// Creates `<area>/image` with `size` bytes, all a hole.
    public static func create(in area: WorkArea, size: UInt64) throws -> ImageFile {
        let path = area.path + "/image"
        do {
            let fd = try FileDescriptor.open(path, [.readWrite, .create, .exclusive], mode: 0o600)
            defer { fd.close() }
            try fd.truncate(to: size)
        } catch let error as Errno {
            throw DeviceError.cannotCreate(path, error)
        }
        return ImageFile(path: path, size: size)
    }
}
