#if canImport(Glibc)
import Glibc
#endif
import RegressCore

extension Errno {
    /// The errno left by the last failed libc call.
    public static var current: Errno { Errno(errno) }
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
