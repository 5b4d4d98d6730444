#if canImport(Glibc)
import Glibc
#endif

/// A Linux error number with its symbolic name: what a step returned, what a test expects.
/// A pure value; the test language names errnos by these symbols (`ENOSPC`), reports print them.
/// The numbers come from the platform's own constants, never written by hand.
public struct Errno: Hashable, Codable, Sendable, CustomStringConvertible, Error {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

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

    public static let EPERM = Errno(Glibc.EPERM), ENOENT = Errno(Glibc.ENOENT), EINTR = Errno(Glibc.EINTR)
    public static let EIO = Errno(Glibc.EIO), EBADF = Errno(Glibc.EBADF), EAGAIN = Errno(Glibc.EAGAIN)
    public static let ENOMEM = Errno(Glibc.ENOMEM), EACCES = Errno(Glibc.EACCES), EBUSY = Errno(Glibc.EBUSY)
    public static let EEXIST = Errno(Glibc.EEXIST), EXDEV = Errno(Glibc.EXDEV), ENODEV = Errno(Glibc.ENODEV)
    public static let ENOTDIR = Errno(Glibc.ENOTDIR), EISDIR = Errno(Glibc.EISDIR), EINVAL = Errno(Glibc.EINVAL)
    public static let ETXTBSY = Errno(Glibc.ETXTBSY), EFBIG = Errno(Glibc.EFBIG), ENOSPC = Errno(Glibc.ENOSPC)
    public static let EROFS = Errno(Glibc.EROFS), ENOSYS = Errno(Glibc.ENOSYS), EBADE = Errno(Glibc.EBADE)
    public static let ELOOP = Errno(Glibc.ELOOP), ENODATA = Errno(Glibc.ENODATA), EOPNOTSUPP = Errno(Glibc.EOPNOTSUPP)
    public static let EDQUOT = Errno(Glibc.EDQUOT), EUCLEAN = Errno(Glibc.EUCLEAN), ENOTTY = Errno(Glibc.ENOTTY)
    public static let ENXIO = Errno(Glibc.ENXIO), EFAULT = Errno(Glibc.EFAULT)

    /// The errnos a filesystem test meets; the table is small on purpose, so a typo is caught.
    private static let table: [(String, Int32)] = [
        ("EPERM", Glibc.EPERM), ("ENOENT", Glibc.ENOENT), ("ESRCH", Glibc.ESRCH), ("EINTR", Glibc.EINTR),
        ("EIO", Glibc.EIO), ("ENXIO", Glibc.ENXIO), ("E2BIG", Glibc.E2BIG), ("EBADF", Glibc.EBADF),
        ("EAGAIN", Glibc.EAGAIN), ("ENOMEM", Glibc.ENOMEM), ("EACCES", Glibc.EACCES), ("EFAULT", Glibc.EFAULT),
        ("EBUSY", Glibc.EBUSY), ("EEXIST", Glibc.EEXIST), ("EXDEV", Glibc.EXDEV), ("ENODEV", Glibc.ENODEV),
        ("ENOTDIR", Glibc.ENOTDIR), ("EISDIR", Glibc.EISDIR), ("EINVAL", Glibc.EINVAL), ("ENFILE", Glibc.ENFILE),
        ("EMFILE", Glibc.EMFILE), ("ENOTTY", Glibc.ENOTTY), ("ETXTBSY", Glibc.ETXTBSY), ("EFBIG", Glibc.EFBIG),
        ("ENOSPC", Glibc.ENOSPC), ("ESPIPE", Glibc.ESPIPE), ("EROFS", Glibc.EROFS), ("EMLINK", Glibc.EMLINK),
        ("ERANGE", Glibc.ERANGE), ("EDEADLK", Glibc.EDEADLK), ("ENAMETOOLONG", Glibc.ENAMETOOLONG),
        ("ENOSYS", Glibc.ENOSYS), ("ENOTEMPTY", Glibc.ENOTEMPTY), ("ELOOP", Glibc.ELOOP), ("EBADE", Glibc.EBADE),
        ("ENODATA", Glibc.ENODATA), ("EOVERFLOW", Glibc.EOVERFLOW), ("EBADMSG", Glibc.EBADMSG),
        ("EOPNOTSUPP", Glibc.EOPNOTSUPP), ("ETIMEDOUT", Glibc.ETIMEDOUT), ("ESTALE", Glibc.ESTALE),
        ("EUCLEAN", Glibc.EUCLEAN), ("EREMOTEIO", Glibc.EREMOTEIO), ("EDQUOT", Glibc.EDQUOT),
        ("ENOKEY", Glibc.ENOKEY), ("ECANCELED", Glibc.ECANCELED),
    ]
    private static let names: [Int32: String] = Dictionary(table.map { ($0.1, $0.0) }, uniquingKeysWith: { a, _ in a })
    private static let codes: [String: Int32] = {
        var codes = Dictionary(table.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        codes["ENOTSUP"] = Glibc.ENOTSUP          // the same number as EOPNOTSUPP on Linux
        codes["EWOULDBLOCK"] = Glibc.EWOULDBLOCK
        codes["EFSCORRUPTED"] = Glibc.EUCLEAN     // what xfs and ext4 call EUCLEAN
        return codes
    }()

    /// The errno whose strerror(3) text this is (`Invalid argument`: EINVAL), as programs print it.
    public init?(message: String) {
        guard let code = Errno.messages[message] else { return nil }
        self.rawValue = code
    }

    /// The strerror(3) texts of the table's errnos, longest first (so that a text that holds another,
    /// `Operation not supported` and `Operation not permitted`, is found whole).
    public static let messagesLongestFirst: [String] = messages.keys.sorted { $0.count > $1.count || ($0.count == $1.count && $0 < $1) }
    private static let messages: [String: Int32] = Dictionary(table.map { (String(cString: strerror($0.1)), $0.1) }, uniquingKeysWith: { a, _ in a })

    /// Every name the test language accepts, for the spec and the fuzz dictionary.
    public static var allNames: [String] { codes.keys.sorted() }
}
