#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// Who made a work directory: a process id and its start time (so a recycled pid is not taken for the owner).
/// Each directory regress makes for a test holds one, as the file `owner`; clean-up trusts nothing else.
public struct OwnerRecord: Equatable, Sendable {
    public let pid: Int32
    public let startTime: UInt64

    public static let fileName = "owner"
    /// A process the owner started that outlives it unless ended (QEMU: it has no way to die with its
    /// parent), recorded beside the owner so that clean-up can end it by its pid and start time.
    public static let childFileName = "child"

    public static var current: OwnerRecord { OwnerRecord(pid: getpid(), startTime: startTime(of: getpid()) ?? 0) }

    /// The record of a running process (nil when it is already gone).
    public static func of(_ pid: pid_t) -> OwnerRecord? {
        startTime(of: pid).map { OwnerRecord(pid: pid, startTime: $0) }
    }

    public func write(to directory: String, as fileName: String = OwnerRecord.fileName) {
        let text = "\(pid) \(startTime)\n"
        guard let fd = try? FileDescriptor.open(directory + "/" + fileName, [.writeOnly, .create, .truncate], mode: 0o600) else { return }
        defer { fd.close() }
        _ = text.utf8CString.withUnsafeBytes { try? fd.write(UnsafeRawBufferPointer(rebasing: $0.dropLast()), at: 0) }
    }

    public static func read(from directory: String, as fileName: String = OwnerRecord.fileName) -> OwnerRecord? {
        guard let text = readSmallFile(directory + "/" + fileName) else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, let pid = Int32(fields[0]), let start = UInt64(fields[1]) else { return nil }
        return OwnerRecord(pid: pid, startTime: start)
    }

    /// Whether the recorded process still runs (same pid and same start time).
    public var isAlive: Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        return OwnerRecord.startTime(of: pid) == startTime
    }

    /// Whether the recorded process is on its way out: a zombie, or SIGKILL pending (a test process whose
    /// parent died gets SIGKILL, but cannot finish dying while it waits on its own emulated disk).
    public var isDying: Bool {
        guard isAlive else { return false }
        if OwnerRecord.state(of: pid) == "Z" { return true }
        guard let status = readSmallFile("/proc/\(pid)/status") else { return false }
        for line in status.split(separator: "\n") where line.hasPrefix("ShdPnd:") || line.hasPrefix("SigPnd:") {
            if let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16), mask & (1 << (UInt64(SIGKILL) - 1)) != 0 {
                return true
            }
        }
        return false
    }

    /// Field 22 of /proc/PID/stat: the start time in clock ticks since boot.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let text = readSmallFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)", field 3 (state) is fields[0]; field 22 is fields[19].
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// The state letter of /proc/PID/stat ("D" for uninterruptible sleep in the kernel).
    public static func state(of pid: Int32) -> Character? {
        guard let text = readSmallFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").first?.first
    }
}
