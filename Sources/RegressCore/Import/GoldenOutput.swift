/// fstests' golden output (the test's `.out`: what it prints when the bug is fixed) read as the oracle it
/// is. A line that reports a failed call (`clone failed: Invalid argument`, `pwrite: No space left on
/// device`) says that the call must fail with that errno: the step that makes it gets `expect ERRNO`, so
/// that an import never turns an expected failure into an expected success. Each such line is matched
/// to the first step after the previous match that makes the call the line names, in script order, as
/// the output is printed.
public struct GoldenOutput: Equatable, Sendable {
    /// A line of the golden output that reports a failure.
    public struct Failure: Equatable, Sendable {
        public var line: Int
        public var text: String
        public var errno: Errno
        /// The step commands that print this line when they fail (`pwrite`; `reflink` for cloner's
        /// `clone failed`), empty when the line does not say which call failed.
        public var commands: [String]
    }

    public var failures: [Failure]
    /// Every line of the output, numbered from 1.
    public var lines: [String]

    public init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        failures = lines.enumerated().compactMap { index, line in GoldenOutput.failure(line, number: index + 1) }
    }

    /// The program or xfs_io command that prints each prefix when its call fails, and the steps that
    /// make that call. xfs_io prints its command's name, or the ioctl's, before perror's text; the
    /// fallocate commands all print `fallocate`; coreutils name themselves.
    static let prefixes: [(prefix: String, commands: [String])] = [
        ("pwrite:", ["pwrite"]), ("pread:", ["pread"]), ("ftruncate:", ["truncate"]), ("truncate:", ["truncate"]),
        ("fallocate:", ["falloc", "fpunch", "fzero", "fcollapse", "finsert", "funshare"]),
        ("fsync:", ["fsync"]), ("fdatasync:", ["fdatasync"]), ("mmap:", ["mmap"]), ("msync:", ["msync"]),
        ("sync_range:", ["sync_range"]), ("XFS_IOC_CLONE_RANGE:", ["reflink"]), ("XFS_IOC_CLONE:", ["reflink"]),
        ("reflink:", ["reflink"]), ("clone failed:", ["reflink"]), ("cp: failed to clone", ["reflink"]),
        ("XFS_IOC_FILE_EXTENT_SAME:", ["dedupe"]), ("dedupe:", ["dedupe"]), ("XFS_IOC_SWAPEXT:", ["swapext"]),
        ("touch: cannot touch", ["pwrite"]), ("ln: failed to create hard link", ["link"]), ("mv: cannot move", ["rename"]),
        ("rm: cannot remove", ["unlink"]), ("mkdir: cannot create directory", ["mkdir"]),
        ("chattr:", ["chattr"]), ("xfs_io: FS_IOC_SETFLAGS", ["chattr"]),
    ]

    public static func failure(_ line: String, number: Int) -> Failure? {
        guard let message = Errno.messagesLongestFirst.first(where: { line.hasSuffix($0) || line.contains(": " + $0) }),
              let errno = Errno(message: message) else { return nil }
        let trimmed = line.trimmingBlanks
        let commands = prefixes.first { trimmed.hasPrefix($0.prefix) }?.commands ?? []
        return Failure(line: number, text: line, errno: errno, commands: commands)
    }

    /// What became of each failure line: the index of the step that now expects it, or nil.
    /// `steps` are step lines (`bar: reflink foo 0 0 0`); header lines are skipped.
    public func match(_ steps: [String]) -> [Int?] {
        var next = 0
        return failures.map { failure in
            guard !failure.commands.isEmpty, next < steps.count,
                  let index = steps[next...].firstIndex(where: { failure.commands.contains(GoldenOutput.command(of: $0) ?? "") }) else { return nil }
            next = index + 1
            return index
        }
    }

    /// The command word of a step line: after `FILE:` and xfs_io's open flags.
    static func command(of step: String) -> String? {
        var words = step.split(separator: " ").map(String.init)
        if let first = words.first, first.hasSuffix(":") { words.removeFirst() }
        while let first = words.first, first.hasPrefix("-") { words.removeFirst() }
        return words.first
    }

    /// The step with its expectation made `expect ERRNO` (an `allow` or `expect` it had is replaced).
    static func expecting(_ errno: Errno, _ step: String) -> String {
        var words = step.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        if let at = words.firstIndex(where: { $0 == "allow" || $0 == "expect" }) { words.removeSubrange(at...) }
        while words.last == "" { words.removeLast() }
        return (words + ["expect", errno.name]).joined(separator: " ")
    }
}
