#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Standard output or error, written whole (write(2) retried on EINTR and short counts): FileHandle is in
/// the part of Foundation a static binary would carry ICU for.
enum StandardStream {
    case output, error

    func write(_ text: String) { write(Data(text.utf8)) }

    func write(_ data: Data) {
        let fd: Int32 = self == .output ? 1 : 2
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}

extension String {
    /// The string, blanks after it up to `width` characters.
    func padded(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
