import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressRunner

/// `regress run --kernel`'s options: which kernel, and the VM it boots in.
struct VirtualMachineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Boot this kernel in a throw-away QEMU VM and run the tests there: a bzImage, a kernel build directory (its arch/x86/boot/bzImage) or an installed version (/boot/vmlinuz-VERSION). For `git bisect run`.", valueName: "kernel"))
    var kernel: String?

    @Option(name: .customLong("vm-memory"), help: ArgumentHelp("The VM's memory in MiB; the tests' images live in it.", valueName: "MiB"))
    var memory: Int = 2048

    @Option(name: .customLong("vm-cpus"), help: ArgumentHelp("The VM's CPUs (default: 1 under TCG, 2 with KVM).", valueName: "n"))
    var cpus: Int?

    @Option(name: .customLong("vm-timeout"), help: ArgumentHelp("Seconds the whole VM may take, boot included; then it is killed (a hung kernel: status 1).", valueName: "seconds"))
    var timeout: Int = 3600

    @Option(name: .customLong("vm-accel"), help: ArgumentHelp("tcg (emulation, the default: works in any VM) or kvm (where nested KVM works).", valueName: "accel"))
    var accelerator: String = "tcg"

    @Option(help: ArgumentHelp("With --kernel: boot this root filesystem (a directory, or a raw filesystem image) instead of the host's; read-only, with a tmpfs overlay. regress must be in it, or in --rootfs-overlay.", valueName: "dir|image"))
    var rootfs: String?

    @Option(name: .customLong("rootfs-overlay"), help: ArgumentHelp("With --rootfs: a directory laid over it, read-only (the package, extracted).", valueName: "dir"))
    var rootfsOverlay: String?

    @Option(name: .customLong("timeout-scale"), help: ArgumentHelp("Multiply every test's timeout by this (a slow machine; with --kernel under TCG the default is 5).", valueName: "factor"))
    var timeoutScale: Double?

    func validate() throws {
        guard VirtualMachine.Accelerator(rawValue: accelerator) != nil else { throw ValidationError("--vm-accel takes tcg or kvm") }
        guard memory >= 256 else { throw ValidationError("--vm-memory must be at least 256 (MiB)") }
        if let cpus, cpus < 1 || cpus > 64 { throw ValidationError("--vm-cpus must be 1 to 64") }
        guard timeout >= 1 else { throw ValidationError("--vm-timeout must be at least 1 second") }
        if let timeoutScale, !(timeoutScale > 0) { throw ValidationError("--timeout-scale must be above 0") }
        if rootfs != nil, kernel == nil { throw ValidationError("--rootfs needs --kernel: it is the root filesystem the VM boots") }
        if rootfsOverlay != nil, rootfs == nil { throw ValidationError("--rootfs-overlay needs --rootfs") }
        if let rootfsOverlay, fileKind(rootfsOverlay) != .directory { throw ValidationError("--rootfs-overlay \(rootfsOverlay): not a directory") }
        if let rootfs, fileKind(rootfs) == nil { throw ValidationError("--rootfs \(rootfs): no such directory or image") }
    }

    /// What --rootfs names, with an absolute path (QEMU is given it from the VM's own directory).
    var rootFilesystem: GuestRun.RootFilesystem? {
        guard let rootfs else { return nil }
        let path = URL(fileURLWithPath: rootfs).standardizedFileURL.path
        return fileKind(path) == .directory ? .directory(path) : .image(path)
    }

    /// One CPU under TCG: each emulated CPU is a host thread, and on a small shared host a guest
    /// spinning on a lock held by a descheduled vCPU thread makes 2 CPUs slower than 1 (the seed's test:
    /// 643 s in all with 2, 166 s with 1, on this project's busy 2-core machine).
    var effectiveCPUs: Int {
        cpus ?? (accelerator == "tcg" ? 1 : 2)
    }

    /// The test timeouts' factor: the user's, or 5 for an emulated VM (a guest under TCG runs the seed's
    /// test some 5-15 times slower than the host).
    var effectiveTimeoutScale: Double {
        timeoutScale ?? (kernel != nil && accelerator == "tcg" ? 5 : 1)
    }
}

extension Run {
    /// Runs this same command in a VM booted with `kernel`, and exits with the guest's status (see
    /// GuestOutcome: 0, 1, 2 or 125, never above 127 unless the user interrupts).
    func runInVirtualMachine(_ kernelSpec: String) -> Never {
        if let scratchDevice { fail("--scratch-dev \(scratchDevice) cannot be used with --kernel: the VM has no host disk") }
        // A VM's run times are not the host's: by default its results go to results/vm/, with times of their own.
        let library = location.library()
        let resultsRoot = URL(fileURLWithPath: resultsDirectory ?? URL(fileURLWithPath: library.directory).deletingLastPathComponent().path + "/results/vm")
            .standardizedFileURL.path   // the guest mounts it at this path: absolute
        var request = GuestRun.Request(executable: VirtualMachineLaunch.executable(virtualMachine), runArguments: VirtualMachineLaunch.arguments(after: "run"),
                                       resultsDirectory: resultsRoot)
        request.output = output
        request.reports = extraReports
        let result = VirtualMachineLaunch(kernelSpec: kernelSpec, options: virtualMachine, workDirectory: workDirectory, quiet: quiet).run(request)
        StandardStream.output.write(result.standardOutput)
        Glibc.exit(result.outcome.status)
    }
}

extension Explore {
    /// Runs this explore in a VM booted with `kernel`: its progress comes back on the console, the shrunk
    /// test of a finding into `--output` on the host, and the guest's exit status is this one's.
    func exploreInVirtualMachine(_ kernelSpec: String) -> Never {
        // explore writes no results; the VM still needs a writable results share, a private one.
        let results = GuestRun.workDirectory(besides: workDirectory) + "/explore-results.\(getpid())"
        var request = GuestRun.Request(executable: VirtualMachineLaunch.executable(virtualMachine), runArguments: VirtualMachineLaunch.arguments(after: "explore"),
                                       resultsDirectory: results)
        request.subcommand = .explore
        request.output = output
        let result = VirtualMachineLaunch(kernelSpec: kernelSpec, options: virtualMachine, workDirectory: workDirectory, quiet: quiet).run(request)
        // The guest printed its own path of the found test; the host's copy is the one to name.
        for path in result.copiedFiles { print(path) }
        try? FileManager.default.removeItem(atPath: results)
        Glibc.exit(result.outcome.status)
    }
}

/// Boots the kernel and runs one request in it: what `run --kernel` and `explore --kernel` share.
struct VirtualMachineLaunch {
    let kernelSpec: String
    let options: VirtualMachineOptions
    let workDirectory: String
    let quiet: Bool

    /// This binary, which the guest runs from the host's root; on a given root filesystem, the regress on its
    /// PATH (the package's /usr/local/bin/regress).
    static func executable(_ options: VirtualMachineOptions) -> String {
        if options.rootfs != nil { return "regress" }
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// What followed the subcommand on this command line.
    static func arguments(after subcommand: String) -> [String] { Array(CommandLine.arguments.drop { $0 != subcommand }.dropFirst()) }

    /// The guest's result; exits with status 2 when the VM cannot be prepared.
    func run(_ request: GuestRun.Request) -> GuestRun.Result {
        let kernel: KernelImage
        do { kernel = try KernelImage.resolve(kernelSpec) } catch { fail("--kernel \(error)") }
        var guest = GuestRun.Options()
        guest.memoryMiB = options.memory
        guest.cpus = options.effectiveCPUs
        guest.accelerator = VirtualMachine.Accelerator(rawValue: options.accelerator)!
        guest.timeout = Double(options.timeout)
        guest.showConsole = !quiet
        guest.workDirectory = GuestRun.workDirectory(besides: workDirectory)
        guest.rootFilesystem = options.rootFilesystem
        guest.rootOverlay = options.rootfsOverlay.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let guestRun: GuestRun
        do { guestRun = try GuestRun(kernel: kernel, options: guest) } catch { fail("\(error)") }
        var request = request
        request.timeoutScale = options.effectiveTimeoutScale
        let reclaimed = Cleanup(workDirectory: guest.workDirectory).reclaimAbandoned()
        if reclaimed.total > 0 && !quiet { printError("removed what a killed run left: \(reclaimed.summary)") }
        installSignalHandlers()
        if !quiet { printError("booting \(kernel.path)\(kernel.release.map { " (\($0))" } ?? "") in QEMU (\(guest.accelerator.rawValue))") }
        let result: GuestRun.Result
        do {
            result = try guestRun.run(request, interrupted: { Suite.interruptedBySignal }, onConsoleLine: { printError($0) })
        } catch {
            fail("\(error)")
        }
        if let message = result.outcome.message { printError("regress: --kernel \(kernelSpec): " + message) }
        if let console = result.consoleLog, result.outcome.status != 0, !quiet { printError("the VM's console: \(console)") }
        return result
    }
}
