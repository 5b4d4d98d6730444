#if canImport(Glibc)
import Glibc
#endif
import CLibMount
import RegressCore

/// Runs an external program (mkfs, fsck: the only programs regress runs) with posix_spawn.
/// Its stdout and stderr go to a log the caller owns, never to regress's own output, so nothing a
/// tool prints can reach a report. stdin is /dev/null: a tool that asks a question gets EOF.
public struct Subprocess {
    public struct Outcome: Sendable {
        public let status: Int32      // exit status, or 128 + signal
        public let output: String     // stdout and stderr, interleaved as written
        public var succeeded: Bool { status == 0 }
    }

    public enum Failure: Error, CustomStringConvertible {
        case notFound(String)
        case spawn(String, Errno)
        public var description: String {
            switch self {
            case .notFound(let tool): return "\(tool): not found in PATH"
            case .spawn(let tool, let error): return "\(tool): cannot start: \(error.message)"
            }
        }
    }

    /// Finds `tool` in PATH (plus the sbin directories, which sudo's PATH may lack). Remembered per process:
    /// planning asks for the same few tools for every test.
    public static func locate(_ tool: String) -> String? {
        locations.withLock { cache in
            if let known = cache[tool] { return known }
            let found = search(tool)
            cache[tool] = .some(found)
            return found
        }
    }

    private static let locations = Locked<[String: String?]>([:])

    private static func search(_ tool: String) -> String? {
        if tool.contains("/") { return access(tool, X_OK) == 0 ? tool : nil }
        let path = (getenv("PATH").map { String(cString: $0) } ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(tool)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs `arguments[0]` to completion and returns its status and output.
    public static func run(_ arguments: [String]) throws -> Outcome {
        guard let executable = locate(arguments[0]) else { throw Failure.notFound(arguments[0]) }
        // The output goes through an anonymous file rather than a pipe: no reader thread, no deadlock on a full pipe.
        let capture = regress_memfd_create("regress-subprocess")
        guard capture >= 0 else { throw Failure.spawn(arguments[0], .current) }
        defer { close(capture) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, capture, 1)
        posix_spawn_file_actions_adddup2(&actions, capture, 2)

        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let variables = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]
        var environment: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer { environment.forEach { free($0) } }

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, &cArguments, &environment)
        guard rc == 0 else { throw Failure.spawn(arguments[0], Errno(rc)) }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitStatus, output: readAll(capture))
    }

    private static func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
            offset += off_t(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A child process regress started and may end (only its own children, by PID and process group).
public struct ChildProcess: Sendable {
    public let pid: pid_t

    public enum Status: Equatable, Sendable { case running, exited(Int32), signaled(Int32) }

    /// Starts `executable` in a process group of its own, so that a timeout can end it and everything it
    /// started, and so that a terminal's Ctrl-C reaches only regress's parent, which then cleans up.
    /// Its output goes to `outputPath` (appended).
    public static func start(_ executable: String, _ arguments: [String], outputPath: String) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let all = [executable] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = all.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, &cArguments, environ)
        guard rc == 0 else { throw Subprocess.Failure.spawn(executable, Errno(rc)) }
        return ChildProcess(pid: pid)
    }

    /// Reaps the child if it ended; never blocks.
    public func poll() -> Status {
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        guard rc == pid else { return .running }
        if (status & 0x7f) == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    /// SIGKILL to the child's whole process group.
    public func killGroup() { kill(-pid, SIGKILL) }
}

/// A plain mutex: lock and unlock around what several threads share.
final class Mutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}

/// A value behind a mutex, for the few caches regress keeps per process.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private var mutex = pthread_mutex_t()
    init(_ value: Value) { self.value = value; pthread_mutex_init(&mutex, nil) }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body(&value)
    }
}
