#if canImport(Glibc)
import Glibc
#endif

/// The first `count` bytes of a file (fewer if it is shorter), or nil if it cannot be opened or read.
func readPrefix(of path: String, count: Int) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
        let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
        if got < 0 && errno == EINTR { continue }
        guard got >= 0 else { return nil }
        if got == 0 { break }
        filled += got
    }
    return Array(bytes.prefix(filled))
}

/// What is at a path (following symlinks): a directory, or anything else; nil if nothing is.
public enum FileKind: Sendable { case directory, file }

public func fileKind(_ path: String) -> FileKind? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    return status.st_mode & S_IFMT == S_IFDIR ? .directory : .file
}
