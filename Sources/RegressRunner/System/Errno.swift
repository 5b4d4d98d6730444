#if canImport(Glibc)
import Glibc
#endif

/// A Linux error number with its symbolic name: what a step returned, what a test expects.
/// A pure value; the test language names errnos by these symbols (`ENOSPC`), reports print them.
public struct Errno: Hashable, Codable, Sendable, CustomStringConvertible, Error {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The errno left by the last failed libc call.
    public static var current: Errno { Errno(errno) }

    /// `ENOSPC` for 28; `errno 4242` for numbers Linux does not name.
    public var name: String { Errno.names[rawValue] ?? "errno \(rawValue)" }
    public var description: String { name }

    /// strerror(3)'s text, for humans.
    public var message: String { String(cString: strerror(rawValue)) }

    public init?(name: String) {
        guard let code = Errno.codes[name.uppercased()] else { return nil }
        self.rawValue = code
    }

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let value = Errno(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown errno \(name)"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    public static let EPERM = Errno(1), ENOENT = Errno(2), EINTR = Errno(4), EIO = Errno(5), EBADF = Errno(9)
    public static let EAGAIN = Errno(11), ENOMEM = Errno(12), EACCES = Errno(13), EBUSY = Errno(16), EEXIST = Errno(17)
    public static let EXDEV = Errno(18), ENODEV = Errno(19), ENOTDIR = Errno(20), EISDIR = Errno(21), EINVAL = Errno(22)
    public static let ETXTBSY = Errno(26), EFBIG = Errno(27), ENOSPC = Errno(28), EROFS = Errno(30), ENOSYS = Errno(38)
    public static let EBADE = Errno(52), ELOOP = Errno(40), ENODATA = Errno(61), EOPNOTSUPP = Errno(95), EDQUOT = Errno(122), EUCLEAN = Errno(117)

    /// The errnos a filesystem test meets; the table is small on purpose, so a typo is caught.
    private static let table: [(String, Int32)] = [
        ("EPERM", 1), ("ENOENT", 2), ("ESRCH", 3), ("EINTR", 4), ("EIO", 5), ("ENXIO", 6), ("E2BIG", 7),
        ("EBADF", 9), ("EAGAIN", 11), ("ENOMEM", 12), ("EACCES", 13), ("EFAULT", 14), ("EBUSY", 16),
        ("EEXIST", 17), ("EXDEV", 18), ("ENODEV", 19), ("ENOTDIR", 20), ("EISDIR", 21), ("EINVAL", 22),
        ("ENFILE", 23), ("EMFILE", 24), ("ETXTBSY", 26), ("EFBIG", 27), ("ENOSPC", 28), ("ESPIPE", 29),
        ("EROFS", 30), ("EMLINK", 31), ("ERANGE", 34), ("EDEADLK", 35), ("ENAMETOOLONG", 36), ("ENOSYS", 38),
        ("ENOTEMPTY", 39), ("ELOOP", 40), ("EBADE", 52), ("ENODATA", 61), ("EOVERFLOW", 75), ("EBADMSG", 74),
        ("EOPNOTSUPP", 95), ("ETIMEDOUT", 110), ("ESTALE", 116), ("EUCLEAN", 117), ("EREMOTEIO", 121),
        ("EDQUOT", 122), ("ENOKEY", 126), ("ECANCELED", 125),
    ]
    private static let names: [Int32: String] = Dictionary(table.map { ($0.1, $0.0) }, uniquingKeysWith: { a, _ in a })
    private static let codes: [String: Int32] = {
        var codes = Dictionary(table.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        codes["ENOTSUP"] = 95       // the same number as EOPNOTSUPP on Linux
        codes["EWOULDBLOCK"] = 11
        codes["EFSCORRUPTED"] = 117 // what xfs and ext4 call EUCLEAN
        return codes
    }()
}

/// Runs a libc call, retrying on EINTR (as swift-system does), and turns -1 into a thrown `Errno`.
@discardableResult
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) throws -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Errno.current
        if error != .EINTR { throw error }
    }
}
