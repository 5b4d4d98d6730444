import ArgumentParser
import Foundation
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

    @Option(name: .customLong("timeout-scale"), help: ArgumentHelp("Multiply every test's timeout by this (a slow machine; with --kernel under TCG the default is 5).", valueName: "factor"))
    var timeoutScale: Double?

    func validate() throws {
        guard VirtualMachine.Accelerator(rawValue: accelerator) != nil else { throw ValidationError("--vm-accel takes tcg or kvm") }
        guard memory >= 256 else { throw ValidationError("--vm-memory must be at least 256 (MiB)") }
        if let cpus, cpus < 1 || cpus > 64 { throw ValidationError("--vm-cpus must be 1 to 64") }
        guard timeout >= 1 else { throw ValidationError("--vm-timeout must be at least 1 second") }
        if let timeoutScale, !(timeoutScale > 0) { throw ValidationError("--timeout-scale must be above 0") }
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
        let kernel: KernelImage
        do { kernel = try KernelImage.resolve(kernelSpec) } catch { fail("--kernel \(error)") }
        var options = GuestRun.Options()
        options.memoryMiB = virtualMachine.memory
        options.cpus = virtualMachine.effectiveCPUs
        options.accelerator = VirtualMachine.Accelerator(rawValue: virtualMachine.accelerator)!
        options.timeout = Double(virtualMachine.timeout)
        options.showConsole = !quiet
        options.workDirectory = GuestRun.workDirectory(besides: workDirectory)
        let guestRun: GuestRun
        do { guestRun = try GuestRun(kernel: kernel, options: options) } catch { fail("\(error)") }

        // A VM's run times are not the host's: by default its results go to results/vm/, with times of their own.
        let library = location.library()
        let resultsRoot = URL(fileURLWithPath: resultsDirectory ?? (library.directory as NSString).deletingLastPathComponent + "/results/vm")
            .standardizedFileURL.path   // the guest mounts it at this path: absolute
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let runArguments = Array(CommandLine.arguments.drop { $0 != "run" }.dropFirst())
        var request = GuestRun.Request(executable: executable, runArguments: runArguments, resultsDirectory: resultsRoot)
        request.output = output
        request.reports = extraReports
        request.timeoutScale = virtualMachine.effectiveTimeoutScale
        let reclaimed = Cleanup(workDirectory: options.workDirectory).reclaimAbandoned()
        if reclaimed.total > 0 && !quiet { printError("removed what a killed run left: \(reclaimed.summary)") }
        installSignalHandlers()
        if !quiet { printError("booting \(kernel.path)\(kernel.release.map { " (\($0))" } ?? "") in QEMU (\(options.accelerator.rawValue))") }
        let result: GuestRun.Result
        do {
            result = try guestRun.run(request, interrupted: { Suite.interruptedBySignal },
                                      onConsoleLine: { printError($0) })
        } catch {
            fail("\(error)")
        }
        FileHandle.standardOutput.write(result.standardOutput)
        if let message = result.outcome.message { printError("regress: --kernel \(kernelSpec): " + message) }
        if let console = result.consoleLog, result.outcome.status != 0, !quiet { printError("the VM's console: \(console)") }
        Foundation.exit(result.outcome.status)
    }
}
