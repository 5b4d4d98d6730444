#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// Which power-cut backends this machine can put under a filesystem, probed once per process.
public enum PowerCutBackends {
    /// Why `backend` cannot be used here; nil when it can.
    public static func whyUnavailable(_ backend: PowerCutBackend) -> String? {
        switch backend {
        case .emulated: return emulatedReason
        case .logWrites: return "regress does not drive dm-log-writes yet"
        case .flakey: return MappedDevice.unavailableReason
        }
    }

    private static let emulatedReason: String? =
        EmulatedDisk.isAvailable ? nil : "no /dev/fuse (a kernel without FUSE), or regress was built without libfuse3"
}
