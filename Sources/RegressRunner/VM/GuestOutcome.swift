/// What one boot of the VM comes to, as an exit status `git bisect run` can read: never above 127 (bisect
/// aborts on those), 125 when this kernel could not test anything (bisect skips it), 1 when the kernel
/// failed the tests, including by panicking or hanging once regress ran.
public struct GuestOutcome: Equatable, Sendable {
    public let status: Int32
    /// One line for the user when the guest's regress did not say it itself; nil when it did.
    public let message: String?

    /// What the host saw of the guest.
    public struct Observation: Sendable {
        public var sawBoot = false          // stage 2 ran: the kernel booted and mounted the host's root
        public var sawStart = false         // regress started in the guest
        public var missing: String?         // what the guest said the kernel lacks
        public var guestStatus: Int32?      // the guest regress's exit status, from the control share
        public var timedOut: Double?        // the host's --vm-timeout ran out after this many seconds
        public var qemuStatus: Int32?       // how QEMU ended
        public var qemuFailed: String?      // QEMU's own last line, when it ended with an error
        public var consoleTail: [String] = []
        public init() {}
    }

    public static func decide(_ seen: Observation) -> GuestOutcome {
        let shown = GuestOutcome.relevantLines(seen.consoleTail)
        let tail = shown.isEmpty ? "" : "; console's last lines:\n" + shown.map { "    " + $0 }.joined(separator: "\n")
        if let status = seen.guestStatus {
            switch status {
            case 0, 1, 2, 125: return GuestOutcome(status: status, message: nil)
            default: return GuestOutcome(status: 1, message: "regress in the VM ended with status \(status)" + tail)
            }
        }
        if let missing = seen.missing {
            return GuestOutcome(status: 125, message: "the kernel cannot run regress: it lacks \(missing)")
        }
        let panicked = seen.consoleTail.contains { $0.contains("Kernel panic") }
        if seen.sawStart {
            if let seconds = seen.timedOut {
                return GuestOutcome(status: 1, message: "the VM did not finish within \(Int(seconds))s (--vm-timeout) while regress ran: a hung kernel" + tail)
            }
            return GuestOutcome(status: 1, message: (panicked ? "the kernel panicked" : "the VM stopped") + " while regress ran" + tail)
        }
        if let seconds = seen.timedOut {
            return GuestOutcome(status: 125, message: "the kernel did not start regress within \(Int(seconds))s (--vm-timeout)" + tail)
        }
        if let failure = seen.qemuFailed, seen.consoleTail.isEmpty {
            return GuestOutcome(status: 125, message: "QEMU could not boot the kernel: \(failure)")
        }
        return GuestOutcome(status: 125, message: "the kernel never started regress" + hint(seen) + tail)
    }

    /// What of the console's tail explains an ending: before a panic, what led to it (the panic's stack
    /// trace, in the whole console.log, says less to a user); otherwise the last lines.
    static func relevantLines(_ tail: [String]) -> [String] {
        if let panic = tail.firstIndex(where: { $0.contains("Kernel panic") }) {
            return Array(tail[max(0, panic - 12)...panic])
        }
        return Array(tail.suffix(15))
    }

    /// Why a kernel did not get as far as regress, when its console says.
    static func hint(_ seen: Observation) -> String {
        let console = seen.consoleTail.joined(separator: "\n")
        if console.contains("Unable to mount root fs") || console.contains("VFS: Cannot open root device") {
            return " (it cannot mount the host's root over 9p: build in CONFIG_VIRTIO_PCI, CONFIG_NET_9P, CONFIG_NET_9P_VIRTIO and CONFIG_9P_FS, or install its modules in /lib/modules)"
        }
        if console.contains("No working init found") || console.contains("Requested init") || console.contains("Attempted to kill init") {
            return seen.sawBoot ? "" : " (its init could not run)"
        }
        return ""
    }
}
