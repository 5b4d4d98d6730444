#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One throw-away QEMU VM: a kernel, an optional initramfs, the host's root shared read-only over 9p,
/// writable 9p shares, the console on a serial port. No disk image: the guest's writable files live in RAM.
///
/// QEMU is driven directly, as kvm-xfstests and kirk do, not through virtme-ng: virtme-ng is not in Debian,
/// has no timeout of its own and exits 255 after a panic, which `git bisect run` takes as "abort". Driving
/// QEMU ourselves lets every ending map to a status bisect understands.
///
/// TCG (emulation), not KVM, unless asked: on this project's machines (themselves VMs) /dev/kvm exists but
/// guests do not boot with it, and a probe that boots a guest would cost as much as the run. Under TCG a
/// guest is some 5-15 times slower, which the test timeouts are scaled for.
public struct VirtualMachine: Sendable {
    public enum Accelerator: String, CaseIterable, Sendable { case tcg, kvm }

    public struct Share: Sendable {
        public let tag: String
        public let hostPath: String
        public let readOnly: Bool
        public init(tag: String, hostPath: String, readOnly: Bool) {
            self.tag = tag
            self.hostPath = hostPath
            self.readOnly = readOnly
        }
    }

    public var qemu = "qemu-system-x86_64"
    public var kernel: String
    public var initramfs: String?
    public var commandLine: String
    public var memoryMiB = 2048
    public var cpus = 1
    public var accelerator = Accelerator.tcg
    public var shares: [Share] = []
    /// Raw images the guest sees read-only as virtio disks, /dev/vda first.
    public var readOnlyDisks: [String] = []
    /// Where QEMU's pid and start time are written once it runs (a work directory with an owner record):
    /// if regress is killed, the next clean-up ends the VM (see Cleanup).
    public var childRecordDirectory: String?

    public init(kernel: String, initramfs: String?, commandLine: String) {
        self.kernel = kernel
        self.initramfs = initramfs
        self.commandLine = commandLine
    }

    /// QEMU's arguments (without its path).
    public var arguments: [String] {
        var arguments = [
            "-nodefaults", "-display", "none", "-no-reboot",
            "-accel", accelerator.rawValue,
            // Under TCG, QEMU's default CPU (qemu64), not "max": with SSE4.2 the guest's btrfs checksums with
            // crc32c-intel, whose instruction TCG emulates bit by bit (a loop of 64 steps for 8 bytes), where
            // the table-driven crc32c-generic runs as translated code.
            "-cpu", accelerator == .kvm ? "host" : "qemu64",
            "-m", "\(memoryMiB)M", "-smp", "\(cpus)",
            "-kernel", kernel,
            "-append", commandLine,
            // The console on standard output, which regress reads; no monitor, nothing read from stdin.
            "-serial", "stdio", "-monitor", "none",
        ]
        if let initramfs { arguments += ["-initrd", initramfs] }
        for disk in readOnlyDisks {
            // A file name with a comma would split QEMU's option list: commas are doubled, as QEMU reads them.
            arguments += ["-drive", "file=\(disk.replacing(",", with: ",,")),format=raw,if=virtio,readonly=on"]
        }
        for (number, share) in shares.enumerated() {
            // multidevs=remap: the host's root spans several filesystems; without it their inode numbers collide.
            var fsdev = "local,id=share\(number),path=\(share.hostPath),security_model=none,multidevs=remap"
            if share.readOnly { fsdev += ",readonly=on" }
            arguments += ["-fsdev", fsdev, "-device", "virtio-9p-pci,fsdev=share\(number),mount_tag=\(share.tag)"]
        }
        return arguments
    }

    public enum Ending: Equatable, Sendable {
        case exited(Int32)
        case timedOut(Double)
        case interrupted(Int32)
    }

    /// Boots the VM and waits for it to power off, `timeout` seconds at most (then QEMU is killed).
    /// The console goes to `consoleLog`; every complete line is also handed to `onLine` as it comes.
    /// `interrupted` is polled: a nonzero value (a signal number) ends the VM early.
    public func run(consoleLog: String, timeout: Double, interrupted: () -> Int32,
                    onLine: (String) -> Void) throws -> Ending {
        guard let executable = Subprocess.locate(qemu) else { throw Subprocess.Failure.notFound(qemu) }
        _ = FileManager.default.createFile(atPath: consoleLog, contents: nil)
        let reader = try FileDescriptorReader(path: consoleLog)
        let child = try ChildProcess.start(executable, arguments, outputPath: consoleLog)
        if let childRecordDirectory { OwnerRecord.of(child.pid)?.write(to: childRecordDirectory, as: OwnerRecord.childFileName) }
        let deadline = monotonicSeconds() + timeout
        var pending = Data()
        func drain() {
            pending += reader.readAvailable()
            while let newline = pending.firstIndex(of: 0x0a) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending = pending[(newline + 1)...]
                onLine(line.hasSuffix("\r") ? String(line.dropLast()) : line)
            }
        }
        while true {
            drain()
            switch child.poll() {
            case .exited(let status):
                drain()
                if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
                return .exited(status)
            case .signaled(let signal):
                drain()
                return .exited(128 + signal)
            case .running:
                break
            }
            let signal = interrupted()
            if signal != 0 || monotonicSeconds() > deadline {
                child.killGroup()
                while child.poll() == .running { usleep(10_000) }
                drain()
                return signal != 0 ? .interrupted(signal) : .timedOut(timeout)
            }
            usleep(50_000)
        }
    }
}

/// Reads what was appended to a file since the last read (QEMU writes the console there).
private final class FileDescriptorReader {
    private let descriptor: Int32
    init(path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Subprocess.Failure.spawn(path, .current) }
    }
    deinit { close(descriptor) }
    func readAvailable() -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return data
    }
}
