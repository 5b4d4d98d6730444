#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// The filesystem a test runs on: made with mkfs on the test's device, mounted beneath the test's
/// private directory. Problems here are errors of the environment, never failures of the test.
public final class ScratchFilesystem {
    public let kind: FilesystemKind
    public private(set) var device: String
    public let mountPoint: String
    public let mountOptions: String
    public private(set) var isMounted = false

    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
        public let output: String
    }

    public init(kind: FilesystemKind, device: String, mountPoint: String, mountOptions: String) {
        self.kind = kind
        self.device = device
        self.mountPoint = mountPoint
        self.mountOptions = mountOptions
    }

    /// Runs mkfs; returns its output for the test's log.
    public func make(options: [String]) throws -> String {
        let command = kind.mkfsCommand(device: device, options: options, mountOptions: mountOptions)
        let outcome = try Subprocess.run(command)
        guard outcome.succeeded else {
            let firstLine = outcome.output.split(separator: "\n").first { !$0.isEmpty }.map(String.init) ?? ""
            throw SetupError(description: "\(command.joined(separator: " ")) exited \(outcome.status): \(firstLine)",
                             output: outcome.output)
        }
        return "$ " + command.joined(separator: " ") + "\n" + outcome.output
    }

    public func mount() throws {
        if mkdir(mountPoint, 0o755) != 0 && errno != EEXIST { throw Errno.current }
        try Mounter.mount(source: device, target: mountPoint, type: kind.rawValue, options: mountOptions)
        isMounted = true
    }

    public func unmount() throws {
        guard isMounted else { return }
        try Mounter.unmount(mountPoint)
        isMounted = false
    }

    /// For clean-up paths: unmount, and if that fails, detach the mount lazily so nothing stays in the tree.
    public func forceUnmount() {
        guard isMounted else { return }
        if (try? Mounter.unmount(mountPoint)) == nil { Mounter.detachLazily(mountPoint) }
        isMounted = false
    }

    /// The device changed (after a power cut the durable image is attached anew).
    public func moved(to device: String) { self.device = device }

    /// A read-only fsck of the unmounted filesystem: nil when it is clean, else what fsck said.
    public func check() -> (clean: Bool, output: String) {
        let command = kind.fsckCommand(device: device)
        guard let outcome = try? Subprocess.run(command) else {
            return (true, "$ \(command.joined(separator: " "))\n(not run: \(command[0]) is not installed)")
        }
        return (outcome.succeeded, "$ \(command.joined(separator: " "))\n" + outcome.output)
    }
}
