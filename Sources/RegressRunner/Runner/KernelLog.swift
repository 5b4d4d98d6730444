#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RegressCore

/// The kernel log since a cursor: opened at the start of a test at the log's end, read at its end.
/// Lines that show the kernel found a bug of its own turn the verdict, even when every check of the test passed.
public final class KernelLog {
    private let descriptor: FileDescriptor?

    /// Opens /dev/kmsg positioned at its end. Without /dev/kmsg (a container), the check is off and says so.
    public init() {
        descriptor = try? FileDescriptor.open("/dev/kmsg", [.readOnly, .nonBlocking])
        if let descriptor { lseek(descriptor.rawValue, 0, SEEK_END) }
    }

    public var isAvailable: Bool { descriptor != nil }

    /// Every message logged since the cursor (or since the last call), oldest first.
    public func read() -> [String] {
        guard let descriptor else { return [] }
        var lines: [String] = []
        var record = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = record.withUnsafeMutableBytes { Glibc.read(descriptor.rawValue, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EPIPE { continue }   // the ring overwrote records we had not read: go on with the rest
                break                            // EAGAIN: nothing more
            }
            if count == 0 { break }
            // "prio,seq,usec,flags;message\n" followed by " KEY=value" dictionary lines.
            let text = String(decoding: record[0..<count], as: UTF8.self)
            guard let semicolon = text.firstIndex(of: ";") else { continue }
            let header = text[..<semicolon].split(separator: ",")
            let message = text[text.index(after: semicolon)...].split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
            let micros = header.count > 2 ? (Double(header[2]) ?? 0) : 0
            lines.append("[\(formatSeconds(micros / 1_000_000))] \(unescape(String(message)))")
        }
        return lines
    }

    deinit { descriptor?.close() }

    /// Patterns of the kernel reporting a bug of its own (as fstests' _check_dmesg looks for).
    static let alarms = ["WARNING:", "BUG:", "kernel BUG", "Oops", "Call Trace", "general protection fault",
                         "possible circular locking", "possible recursive locking", "inconsistent lock state",
                         "lockdep", "KASAN", "UBSAN", "INFO: task", "blocked for more than", "RCU stall",
                         "list_add corruption", "list_del corruption"]

    /// Drops lines that name a block device other than `devices` (`EXT4-fs (loop3): …` of another test
    /// running at the same time under -j). Lines that name no device stay: they may be ours.
    public static func lines(_ lines: [String], about devices: Set<String>) -> [String] {
        lines.filter { line in
            let named = deviceNames(in: line)
            return named.isEmpty || !named.isDisjoint(with: devices)
        }
    }

    /// `loop3`, `sda1`, `vdb`… as the kernel writes them in log lines: inside parentheses or after "device ".
    static func deviceNames(in line: String) -> Set<String> {
        var names: Set<String> = []
        for marker in ["(", "device ", "dev ", "/dev/", "] "] {
            var rest = Substring(line)
            while let range = rest.firstRange(of: marker) {
                let word = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber }
                if word.hasPrefix("loop") || word.hasPrefix("sd") || word.hasPrefix("vd") || word.hasPrefix("nvme"),
                   word.contains(where: \.isNumber) || word.hasPrefix("vd") || word.hasPrefix("sd") {
                    names.insert(String(word))
                }
                rest = rest[range.upperBound...]
            }
        }
        return names
    }

    public static func alarming(_ lines: [String]) -> [String] {
        lines.filter { line in alarms.contains { line.contains($0) } }
    }

    /// /dev/kmsg escapes non-printable bytes as \xNN; keep them escaped except the common ones.
    private func unescape(_ text: String) -> String { text.replacing("\\x09", with: " ") }
}
