#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// Which power-cut backends this machine can put under a filesystem, probed once per process.
public enum PowerCutBackends {
    /// Each backend, with nil when it is usable here, or why it is not.
    public static func available() -> [PowerCutBackend: String?] { probed }

    private static let probed: [PowerCutBackend: String?] = [
        .emulated: EmulatedDisk.isAvailable ? nil : "no /dev/fuse (a kernel without FUSE), or regress was built without libfuse3",
        .logWrites: "regress does not drive dm-log-writes yet",
        .flakey: MappedDevice.unavailableReason,
    ]
}
