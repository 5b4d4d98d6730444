import Foundation
#if canImport(Glibc)
import Glibc
#endif
import RegressRunner

/// `strace -f` of each side, read back as the file operations on the test's filesystem, normalized so that
/// the two sides compare call for call: the syscalls that open, close, read, write, allocate, clone, sync or
/// map a file beneath the mount, each with its file named by its path beneath the mount instead of its
/// descriptor, without buffer contents and addresses. What either side does elsewhere (xfs_io reading
/// /proc/self/mounts, regress's emulated disk writing its image, a locale lookup) is not a file operation of
/// the test's and is left out.
enum Strace {
    /// Every write and read variant, opens and closes, fallocate, ioctl, the fsync family, sync and syncfs,
    /// mmap and msync; ftruncate and lseek, which steps make too. faccessat is the marker (`endMarker`).
    static let syscalls = ["openat", "openat2", "close", "read", "write", "pread64", "pwrite64", "readv", "writev",
                           "preadv", "pwritev", "preadv2", "pwritev2", "fallocate", "ioctl", "fsync", "fdatasync",
                           "sync", "syncfs", "sync_file_range", "mmap", "munmap", "msync", "ftruncate", "lseek",
                           "access", "faccessat", "faccessat2"]

    /// A path no one has: the regress side asks for it (faccessat) once its last step ran, and the trace
    /// ends there, before regress's own reads of the files for the comparison and its unmount.
    static let endMarker = "/regress-differential-end-of-steps"

    static func arguments(output prefix: String) -> [String] {
        // -ff: one file a thread (no interleaved "unfinished" lines); -ttt to put them back in order;
        // -y: every descriptor with its path; -s 0: no buffer contents; -v: whole structures (dedupe's info).
        ["-f", "-ff", "-ttt", "-qq", "-y", "-v", "-s", "0", "-e", "signal=none", "-e", "trace=" + syscalls.joined(separator: ","), "-o", prefix]
    }

    /// Runs `command` under strace; its output, and the trace's lines (from every thread, in time order).
    static func run(_ executable: String, _ command: [String], in directory: String) throws -> (output: String, lines: [String]) {
        let prefix = directory + "/trace"
        let result = try Subprocess.run([executable] + arguments(output: prefix) + ["--"] + command)
        return (result.output, try collect(prefix: prefix, in: directory))
    }

    /// Traces this process (every thread) while `body` runs: strace attaches to it, and `body` starts once
    /// the calling thread is traced.
    static func tracingThisProcess<T>(_ executable: String, in directory: String, _ body: () throws -> T) throws -> (T, [String]) {
        let prefix = directory + "/trace"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments(output: prefix) + ["-p", String(getpid())]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while tracerOfThisThread() == 0 {
            guard Date() < deadline, process.isRunning else {
                process.terminate()
                throw StraceError(description: "strace did not attach to the test process")
            }
            usleep(10_000)
        }
        let value: T
        do {
            value = try body()
        } catch {
            kill(process.processIdentifier, SIGINT)
            process.waitUntilExit()
            throw error
        }
        kill(process.processIdentifier, SIGINT)   // strace detaches and writes what it has
        process.waitUntilExit()
        return (value, try collect(prefix: prefix, in: directory))
    }

    struct StraceError: Error, CustomStringConvertible { let description: String }

    private static func tracerOfThisThread() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/thread-self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("TracerPid:") }) else { return 0 }
        return Int(line.dropFirst("TracerPid:".count).trimmingCharacters(in: .whitespaces)) ?? 0
    }

    /// The lines of every `prefix.PID` file, each as `PID TIME CALL`, in time order; the files are removed.
    private static func collect(prefix: String, in directory: String) throws -> [String] {
        let base = (prefix as NSString).lastPathComponent + "."
        var lines: [(Double, Int, String)] = []
        var order = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasPrefix(base) {
            let pid = String(name.dropFirst(base.count))
            let path = directory + "/" + name
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try FileManager.default.removeItem(atPath: path)
            for line in text.split(separator: "\n") {
                guard let space = line.firstIndex(of: " "), let time = Double(line[..<space]) else { continue }
                lines.append((time, order, pid + " " + line[line.index(after: space)...]))
                order += 1
            }
        }
        return lines.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    }
}

/// The file operations of one side's trace, each a normalized line: `pwrite64(<f1>, "…", 4096, 0) = 4096`,
/// `open("f1", O_RDWR|O_CREAT, 0600) = <f1>`.
struct FileOperations: Equatable {
    var calls: [String] = []

    /// Appends the file operations among `lines` (one process's or thread's trace, `PID CALL` each) on files
    /// beneath `mountPoint`. `upToMarker` stops at Strace.endMarker.
    ///
    /// `closingAtExit`: the lines are a whole process's (an xfs_io run), which closes what it still holds by
    /// exiting, with no close(2) in the trace; the closes the kernel makes there are appended, in descriptor
    /// order, as the `close` that ends the run in regress's test.
    mutating func append(_ lines: [String], mountPoint: String, upToMarker: Bool = false, closingAtExit: Bool = false) {
        var descriptors: [String: [String: String]] = [:]   // pid → fd → path beneath the mount
        defer {
            if closingAtExit {
                for (_, open) in descriptors.sorted(by: { $0.key < $1.key }) {
                    for (_, path) in open.sorted(by: { Int($0.key) ?? 0 < Int($1.key) ?? 0 }) { calls.append("close(<\(path)>) = 0") }
                }
            }
        }
        append(lines, mountPoint: mountPoint, upToMarker: upToMarker, descriptors: &descriptors)
    }

    private mutating func append(_ lines: [String], mountPoint: String, upToMarker: Bool, descriptors: inout [String: [String: String]]) {
        var mappings: Set<String> = []
        for line in lines {
            guard let space = line.firstIndex(of: " ") else { continue }
            let pid = String(line[..<space])
            let call = String(line[line.index(after: space)...])
            if call.contains(Strace.endMarker) {
                if upToMarker { return }
                continue
            }
            guard let name = call.prefix(while: { $0 != "(" }).nilIfEmpty, call.contains("(") else { continue }
            if name == "access" || name.hasPrefix("faccessat") { continue }
            // The result: `= 3</m/f1>`, `= -1 EISDIR (Is a directory)`, `= 0x7f…` (mmap).
            var normalized = Self.normalize(call, mountPoint: mountPoint, descriptors: descriptors[pid] ?? [:])
            let beneath = call.contains("<" + mountPoint + "/")
            switch name {
            case "openat", "openat2":
                guard let open = Self.open(call, mountPoint: mountPoint) else { continue }
                if let fd = open.fd { descriptors[pid, default: [:]][fd] = open.path }
                calls.append(open.line)
                continue
            case "close":
                guard beneath else { continue }
                if let fd = call.split(separator: "(").dropFirst().first?.prefix(while: { $0.isNumber }) {
                    descriptors[pid]?[String(fd)] = nil
                }
            case "sync":
                break
            case "syncfs", "fsync", "fdatasync":
                // regress's drop-caches synced the mount's root; any sync of a file beneath it counts too.
                guard beneath || call.contains("<" + mountPoint + ">") else { continue }
            case "mmap":
                guard beneath else { continue }
                if let address = call.split(separator: "=").last?.trimmingCharacters(in: .whitespaces), address.hasPrefix("0x") {
                    mappings.insert(address)
                }
            case "munmap", "msync":
                guard let address = call.split(separator: "(").dropFirst().first?.prefix(while: { $0 != "," }),
                      mappings.contains(String(address)) else { continue }
                if name == "munmap" { mappings.remove(String(address)) }
            case "ioctl":
                guard beneath else { continue }
                // xfs_io asks XFS_IOC_FSGEOMETRY (v5, or v4/v1) at each open of a file on xfs, for its block
                // units; regress asks once a mount, on the mount's root.
                if call.contains("_IOC(_IOC_READ, 0x58, 0x7e") || call.contains("_IOC(_IOC_READ, 0x58, 0x7c")
                    || call.contains("_IOC(_IOC_READ, 0x58, 0x64") || call.contains("XFS_IOC_FSGEOMETRY") { continue }
            default:
                guard beneath else { continue }
            }
            normalized = normalized.replacingOccurrences(of: "  ", with: " ")
            calls.append(normalized)
        }
    }

    /// `openat(AT_FDCWD</x>, "/m/f1", O_RDWR|O_CREAT, 0600) = 3</m/f1>` and
    /// `openat2(3</m>, "f1", {flags=O_RDWR|O_CREAT|O_CLOEXEC, mode=0600, resolve=…}, 24) = 5</m/f1>` both become
    /// `open("f1", O_RDWR|O_CREAT, 0600) = <f1>`: O_CLOEXEC (regress's on every descriptor) and the resolve
    /// flags (regress confines names beneath the mount) say nothing about the file operation.
    static func open(_ call: String, mountPoint: String) -> (line: String, path: String, fd: String?)? {
        let quoted = call.split(separator: "\"", omittingEmptySubsequences: false)
        guard quoted.count >= 3 else { return nil }
        var path = String(quoted[1])
        let directory = call.contains("openat2(") ? String(quoted[0]).between("<", ">") : nil
        if let directory, !path.hasPrefix("/") { path = directory + "/" + path }
        guard path.hasPrefix(mountPoint + "/") else { return nil }
        let relative = String(path.dropFirst(mountPoint.count + 1))
        let rest = String(quoted[2...].joined(separator: "\""))
        var flags = "", mode = ""
        if call.hasPrefix("openat2(") {
            flags = rest.between("flags=", ",") ?? rest.between("flags=", "}") ?? ""
            mode = rest.between("mode=", ",") ?? ""
        } else {
            // `, O_RDWR|O_CREAT, 0600) = 3</m/f1>`
            let words = rest.split(separator: ")").first.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
            flags = words.first ?? ""
            mode = words.dropFirst().first ?? ""
        }
        let kept = flags.split(separator: "|").filter { $0 != "O_CLOEXEC" && $0 != "O_LARGEFILE" }.joined(separator: "|")
        let result = call.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let fd = result.first?.isNumber == true ? String(result.prefix { $0.isNumber }) : nil
        let shownResult = fd != nil ? "<\(relative)>" : result.split(separator: " ").prefix(2).joined(separator: " ")
        let shownMode = kept.contains("O_CREAT") ? ", " + mode : ""
        return ("open(\"\(relative)\", \(kept)\(shownMode)) = \(shownResult)", relative, fd)
    }

    /// Descriptors by the paths beneath the mount they stand for, strings and addresses blanked, errors
    /// without their text.
    static func normalize(_ call: String, mountPoint: String, descriptors: [String: String]) -> String {
        var text = call
        text = text.replacingMatches(of: #"\d+<"# + NSRegularExpression.escapedPattern(for: mountPoint) + #"/([^>]*)>"#, with: "<$1>")
        text = text.replacingMatches(of: #"\d+<"# + NSRegularExpression.escapedPattern(for: mountPoint) + #">"#, with: "<mnt>")
        text = text.replacingMatches(of: #""([^"\\]|\\.)*"(\.\.\.)?"#, with: "\"…\"")
        text = text.replacingMatches(of: #"0x[0-9a-f]{8,}"#, with: "ADDR")
        // A buffer is an address: xfs_io's memalign of 0 bytes may be NULL, regress's never is.
        text = text.replacingOccurrences(of: ", NULL, ", with: ", \"…\", ")
        // Bare descriptors that strace prints without their path (FICLONE's source, dedupe's dest_fd).
        for key in ["FICLONE, ", "dest_fd=", "src_fd="] {
            text = text.replacingMatches(of: NSRegularExpression.escapedPattern(for: key) + #"(\d+)\b"#) { fd in
                key + (descriptors[fd].map { "<\($0)>" } ?? fd)
            }
        }
        // `= -1 EINVAL (Invalid argument)`: the name is enough.
        text = text.replacingMatches(of: #"= -1 (E[A-Z0-9]+) \([^)]*\)$"#, with: "= -1 $1")
        return text
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }

    /// The text between the first `start` and the `end` after it.
    func between(_ start: String, _ end: String) -> String? {
        guard let from = range(of: start), let to = self[from.upperBound...].range(of: end) else { return nil }
        return String(self[from.upperBound..<to.lowerBound])
    }

    func replacingMatches(of pattern: String, with template: String) -> String {
        let expression = try! NSRegularExpression(pattern: pattern)
        return expression.stringByReplacingMatches(in: self, range: NSRange(startIndex..., in: self), withTemplate: template)
    }

    /// Each match replaced by `transform` of its first group.
    func replacingMatches(of pattern: String, _ transform: (String) -> String) -> String {
        let expression = try! NSRegularExpression(pattern: pattern)
        var result = self
        for match in expression.matches(in: self, range: NSRange(startIndex..., in: self)).reversed() {
            guard let whole = Range(match.range, in: self), let group = Range(match.range(at: 1), in: self) else { continue }
            result.replaceSubrange(whole, with: transform(String(self[group])))
        }
        return result
    }
}

extension Substring {
    var nilIfEmpty: String? { isEmpty ? nil : String(self) }
}
