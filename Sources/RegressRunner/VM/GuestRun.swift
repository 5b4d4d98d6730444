#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `regress run --kernel`: boots the kernel in a throw-away VM, runs the same `regress run` inside, and
/// brings back its standard output, its report files and its results directory. The host's side, from a
/// private work directory (<work directory>/vm.guest.XXXXXX: the initramfs, the guest's init script, the console
/// log and the control share) that it removes at the end. The directory has an owner record and QEMU's, so
/// that a regress killed by SIGKILL leaves nothing `regress cleanup` (or the next run) cannot end and remove.
public struct GuestRun {
    public struct Options: Sendable {
        public var memoryMiB = 2048
        public var cpus = 1
        public var accelerator = VirtualMachine.Accelerator.tcg
        /// The host-side limit for the whole VM, boot included.
        public var timeout: Double = 3600
        /// Whether the guest's console (kernel messages, regress's progress) is copied to standard error.
        public var showConsole = true
        /// Where the VM's own directory is made: `GuestRun.workDirectory(besides:)` of the run's.
        public var workDirectory = GuestRun.workDirectory(besides: "/var/tmp/regress")
        /// The root filesystem to boot instead of the host's, and a directory laid over it (the package).
        public var rootFilesystem: RootFilesystem?
        public var rootOverlay: String?
        public init() {}
    }

    /// `--rootfs`: a directory (shared over 9p) or a raw filesystem image (a read-only virtio disk).
    public enum RootFilesystem: Sendable, Equatable {
        case directory(String)
        case image(String)
    }

    public enum Problem: Error, CustomStringConvertible {
        case noTool(String, String)
        case dynamicBusybox(String)
        case badArgument(String)
        case workDirectory(String)

        public var description: String {
            switch self {
            case .noTool(let tool, let package): return "\(tool) not found (install \(package): scripts/install-vm)"
            case .dynamicBusybox(let path): return "\(path) is dynamically linked; the VM's initramfs needs busybox-static (scripts/install-vm)"
            case .badArgument(let argument): return "an argument with a newline cannot be passed to the VM: \(argument.debugDescription)"
            case .workDirectory(let why): return "cannot prepare the VM's work directory: \(why)"
            }
        }
    }

    /// What the run came to: the exit status, a message when the guest's regress could not give one,
    /// and the guest regress's standard output (the report).
    public struct Result: Sendable {
        public let outcome: GuestOutcome
        public let standardOutput: Data
        public let consoleLog: String?
        /// The host paths of the files copied out of the guest's directories (explore's found test).
        public var copiedFiles: [String] = []
    }

    /// The VMs' directories sit beside the tests' work directory, not in it: the guest's regress, which
    /// sees the host's paths, cleans its own work directory at start, and would take the host's VM
    /// directory (whose owner is no process of the guest's) for a dead run's and remove the shares in use.
    public static func workDirectory(besides testWorkDirectory: String) -> String {
        testWorkDirectory.hasSuffix("/") ? String(testWorkDirectory.dropLast()) + "-vm" : testWorkDirectory + "-vm"
    }

    let kernel: KernelImage
    let options: Options
    let qemu: String
    let busybox: String

    /// Checks the host's side (QEMU, a static busybox) before anything is made or booted.
    public init(kernel: KernelImage, options: Options) throws {
        guard let qemu = Subprocess.locate("qemu-system-x86_64") else { throw Problem.noTool("qemu-system-x86_64", "qemu-system-x86") }
        guard let busybox = Subprocess.locate("busybox") else { throw Problem.noTool("busybox", "busybox-static") }
        guard GuestRun.isStatic(busybox) else { throw Problem.dynamicBusybox(busybox) }
        self.kernel = kernel
        self.options = options
        self.qemu = qemu
        self.busybox = URL(fileURLWithPath: busybox).resolvingSymlinksInPath().path
    }

    /// The modules a modular kernel needs before it can reach the host's root.
    static let rootModules = ["virtio_pci", "9pnet_virtio", "9p"]
    /// On a given root filesystem, which has none of the kernel's modules (nor modprobe for the kernel's own
    /// requests), stage 1 loads them all: crc32c_generic first, which libcrc32c, ext4 and jbd2 ask the crypto
    /// API for by name (a soft dependency modules.dep does not list; crc32c-intel needs SSE4.2, which TCG's
    /// CPU lacks).
    static let givenRootModules = rootModules + ["virtio_blk", "crc32c_generic"] + GuestScript.regressModules

    /// What the guest runs: `regress run` with the host's arguments (what followed `run`), and the parsed
    /// values of the ones the host takes over (see GuestArguments).
    public struct Request: Sendable {
        public var executable: String
        public var subcommand = GuestArguments.Subcommand.run
        /// What followed the subcommand on the host's command line.
        public var runArguments: [String]
        public var output: String?
        public var reports: [String] = []
        /// Shared writable with the guest, at the same path.
        public var resultsDirectory: String
        public var timeoutScale: Double = 1
        public init(executable: String, runArguments: [String], resultsDirectory: String) {
            self.executable = executable
            self.runArguments = runArguments
            self.resultsDirectory = resultsDirectory
        }
    }

    /// Boots the VM, runs `request` in it and waits for it to end.
    public func run(_ request: Request, interrupted: () -> Int32, onConsoleLine: (String) -> Void = { _ in }) throws -> Result {
        if let bad = request.runArguments.first(where: { $0.contains("\n") }) { throw Problem.badArgument(bad) }
        let resultsDirectory = request.resultsDirectory
        let work: String
        do { work = try WorkArea.create(in: options.workDirectory, prefix: "vm.guest.").path } catch {
            throw Problem.workDirectory("\(error)")
        }
        defer { WorkArea.removeTree(work) }
        let control = work + "/control"
        let files = control + "/files"
        let arguments = GuestArguments(executable: request.executable, subcommand: request.subcommand,
                                       runArguments: request.runArguments, output: request.output,
                                       reports: request.reports, resultsDirectory: resultsDirectory, filesDirectory: files,
                                       timeoutScale: request.timeoutScale)
        do {
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: resultsDirectory, withIntermediateDirectories: true)
            try (arguments.arguments.joined(separator: "\n") + "\n").write(toFile: control + "/args", atomically: false, encoding: .utf8)
            try FileManager.default.currentDirectoryPath.write(toFile: control + "/cwd", atomically: false, encoding: .utf8)
            if let sudoUID = ProcessInfo.processInfo.environment["SUDO_UID"] {
                try sudoUID.write(toFile: control + "/sudo-uid", atomically: false, encoding: .utf8)
            }
            if isatty(2) == 0 || !options.showConsole { _ = FileManager.default.createFile(atPath: control + "/plain-progress", contents: nil) }
        } catch {
            throw Problem.workDirectory(String(describing: error))
        }

        // On the host's root the guest reads stage 2 and busybox where they are; on a given root, from a
        // share of this VM's own files at GuestScript.ownFilesDirectory.
        let ownFiles = work + "/own"
        let stage2 = options.rootFilesystem == nil ? work + "/guest-init" : ownFiles + GuestScript.ownFilesDirectory + "/guest-init"
        let script: GuestScript
        switch options.rootFilesystem {
        case nil:
            script = GuestScript(busybox: busybox, controlDirectory: control, resultsDirectory: resultsDirectory, stage2Path: stage2)
        case .some(let root):
            script = GuestScript(busybox: GuestScript.ownFilesDirectory + "/busybox", controlDirectory: control,
                                 resultsDirectory: resultsDirectory, stage2Path: GuestScript.ownFilesDirectory + "/guest-init",
                                 root: { if case .image = root { return .disk } else { return .share } }(), overlay: options.rootOverlay != nil)
        }
        var machine: VirtualMachine
        do {
            if options.rootFilesystem != nil {
                try FileManager.default.createDirectory(atPath: ownFiles + GuestScript.ownFilesDirectory, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: busybox, toPath: ownFiles + GuestScript.ownFilesDirectory + "/busybox")
            }
            try script.stage2().write(toFile: stage2, atomically: false, encoding: .utf8)
            chmod(stage2, 0o755)
            if options.rootFilesystem != nil {
                let initramfs = work + "/initramfs.cpio"
                let modules = try kernel.modulesDirectory.map { try KernelModules(directory: $0) }
                try buildInitramfs(script: script, modules: modules, loading: GuestRun.givenRootModules).write(to: URL(fileURLWithPath: initramfs))
                machine = VirtualMachine(kernel: kernel.path, initramfs: initramfs, commandLine: "console=ttyS0 panic=-1 quiet rdinit=/init")
            } else if let modulesDirectory = kernel.modulesDirectory {
                let initramfs = work + "/initramfs.cpio"
                try buildInitramfs(script: script, modules: KernelModules(directory: modulesDirectory), loading: GuestRun.rootModules)
                    .write(to: URL(fileURLWithPath: initramfs))
                machine = VirtualMachine(kernel: kernel.path, initramfs: initramfs, commandLine: "console=ttyS0 panic=-1 quiet rdinit=/init")
            } else {
                // A kernel with virtio-pci and 9p built in mounts the host's root itself and runs stage 2 as init.
                machine = VirtualMachine(kernel: kernel.path, initramfs: nil, commandLine:
                    "console=ttyS0 panic=-1 quiet root=\(GuestScript.rootTag) rootfstype=9p rootflags=\(GuestScript.ninePOptions),cache=loose ro init=\(stage2)")
            }
        } catch {
            throw Problem.workDirectory(String(describing: error))
        }
        machine.qemu = qemu
        machine.memoryMiB = options.memoryMiB
        machine.cpus = options.cpus
        machine.accelerator = options.accelerator
        machine.childRecordDirectory = work
        switch options.rootFilesystem {
        case nil: machine.shares = [VirtualMachine.Share(tag: GuestScript.rootTag, hostPath: "/", readOnly: true)]
        case .directory(let directory): machine.shares = [VirtualMachine.Share(tag: GuestScript.rootTag, hostPath: directory, readOnly: true)]
        case .image(let image): machine.readOnlyDisks = [image]
        }
        if options.rootFilesystem != nil {
            machine.shares.append(VirtualMachine.Share(tag: GuestScript.ownFilesTag, hostPath: ownFiles, readOnly: true))
            if let overlay = options.rootOverlay {
                machine.shares.append(VirtualMachine.Share(tag: GuestScript.overlayTag, hostPath: overlay, readOnly: true))
            }
        }
        machine.shares += [
            VirtualMachine.Share(tag: GuestScript.controlTag, hostPath: control, readOnly: false),
            VirtualMachine.Share(tag: GuestScript.resultsTag, hostPath: resultsDirectory, readOnly: false),
        ]

        let runsBefore = Set((try? FileManager.default.contentsOfDirectory(atPath: resultsDirectory)) ?? [])
        var seen = GuestOutcome.Observation()
        let consoleLog = work + "/console.log"
        let ending = try machine.run(consoleLog: consoleLog, timeout: options.timeout, interrupted: interrupted) { line in
            if options.showConsole { onConsoleLine(line) }
            seen.consoleTail.append(line)
            if seen.consoleTail.count > 60 { seen.consoleTail.removeFirst() }
            if line.hasPrefix(GuestMarker.booted) { seen.sawBoot = true }
            if line.hasPrefix(GuestMarker.started) { seen.sawStart = true }
            if line.hasPrefix(GuestMarker.missing) {
                seen.missing = String(line.dropFirst(GuestMarker.missing.count)).trimmingInlineWhitespace
            }
        }
        switch ending {
        case .exited(let status):
            seen.qemuStatus = status
            if status != 0 { seen.qemuFailed = seen.consoleTail.last(where: { $0.hasPrefix("qemu") }) ?? "exit status \(status)" }
        case .timedOut(let seconds): seen.timedOut = seconds
        case .interrupted(let signal): return Result(outcome: GuestOutcome(status: 128 + signal, message: "interrupted: the VM was stopped"),
                                                     standardOutput: Data(), consoleLog: nil)
        }
        if let text = try? String(contentsOfFile: control + "/status", encoding: .utf8), let status = Int32(text.trimmingWhitespace) {
            seen.guestStatus = status
        }
        for (guest, host) in arguments.copies where FileManager.default.fileExists(atPath: guest) {
            try? FileManager.default.removeItem(atPath: host)
            try? FileManager.default.copyItem(atPath: guest, toPath: host)
        }
        var copiedFiles: [String] = []
        for (guest, host) in arguments.directoryCopies {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: guest), !names.isEmpty else { continue }
            try? FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            for name in names.sorted() {
                try? FileManager.default.removeItem(atPath: host + "/" + name)
                if (try? FileManager.default.copyItem(atPath: guest + "/" + name, toPath: host + "/" + name)) != nil {
                    copiedFiles.append(host + "/" + name)
                }
            }
        }
        // The whole console beside the run's results: the post-mortem of a panic or a hang.
        var keptConsole: String?
        let newRuns = Set((try? FileManager.default.contentsOfDirectory(atPath: resultsDirectory)) ?? []).subtracting(runsBefore)
        for run in newRuns.sorted() where run != "latest" && run != "times.json" {
            let destination = resultsDirectory + "/" + run + "/console.log"
            if (try? FileManager.default.copyItem(atPath: consoleLog, toPath: destination)) != nil { keptConsole = destination }
        }
        let standardOutput = FileManager.default.contents(atPath: control + "/stdout") ?? Data()
        return Result(outcome: GuestOutcome.decide(seen), standardOutput: standardOutput, consoleLog: keptConsole, copiedFiles: copiedFiles)
    }

    /// busybox, the stage 1 script and the modules `loading` names (those the kernel has as modules),
    /// dependencies first.
    func buildInitramfs(script: GuestScript, modules: KernelModules?, loading: [String]) throws -> Data {
        var archive = Initramfs()
        for directory in ["bin", "dev", "proc", "sys", "newroot", "modules"] { archive.directory(directory) }
        archive.characterDevice("dev/console", major: 5, minor: 1)
        archive.file("bin/busybox", contents: try Data(contentsOf: URL(fileURLWithPath: busybox)), executable: true)
        var inside: [String] = []
        for file in modules?.loadOrder(loading).files ?? [] {
            let name = "modules/" + URL(fileURLWithPath: file).lastPathComponent
            archive.file(name, contents: try Data(contentsOf: URL(fileURLWithPath: modules!.directory + "/" + file)))
            inside.append("/" + name)
        }
        archive.file("init", contents: Data(script.stage1(moduleFiles: inside).utf8), executable: true)
        return archive.data()
    }

    /// An ELF executable without a PT_INTERP program header needs no dynamic loader: it runs in an
    /// initramfs that holds nothing else.
    static func isStatic(_ path: String) -> Bool {
        guard let bytes = readPrefix(of: path, count: 65536) else { return false }
        guard bytes.count > 64, bytes[0..<4] == [0x7f, 0x45, 0x4c, 0x46], bytes[4] == 2 else { return false }
        func read(_ offset: Int, _ size: Int) -> Int {
            (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        let programHeaders = read(0x20, 8), entrySize = read(0x36, 2), count = read(0x38, 2)
        for index in 0..<count {
            let offset = programHeaders + index * entrySize
            guard offset + 4 <= bytes.count else { return false }
            if read(offset, 4) == 3 { return false }   // PT_INTERP
        }
        return true
    }
}
