import Foundation
import XCTest
import RegressRunner
#if canImport(Glibc)
import Glibc
#endif

/// `regress run --kernel` for real: Debian's kernel (scripts/install-vm installs it, with QEMU and
/// busybox-static) boots in QEMU under TCG, and the same regress runs the seed's test inside. Also the
/// endings that must not boot anything, or that must be skipped by `git bisect run` (125).
final class VirtualMachineIntegrationTests: IntegrationTestCase {
    struct Outcome { let status: Int32; let standardOutput: String; let standardError: String; let seconds: Double }

    /// Runs the regress binary with its standard output and error in files (the console is long).
    func regressCapturing(_ arguments: [String]) throws -> Outcome {
        let binary = try XCTUnwrap(Self.regressExecutable, "the regress executable is not next to the test bundle")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/stdout", contents: nil))
        XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/stderr", contents: nil))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
        let started = Date()
        try process.run()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus,
                       standardOutput: (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "",
                       standardError: (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "",
                       seconds: Date().timeIntervalSince(started))
    }

    /// The release of the Debian kernel scripts/install-vm installed (a /boot/vmlinuz with its modules).
    func installedKernel() throws -> String {
        let releases = ((try? FileManager.default.contentsOfDirectory(atPath: "/lib/modules")) ?? []).sorted()
        guard let release = releases.last(where: { FileManager.default.fileExists(atPath: "/boot/vmlinuz-\($0)") }) else {
            throw EnvironmentError(description: "no kernel in /boot with modules in /lib/modules: run scripts/install-vm (linux-image-amd64)")
        }
        return release
    }

    /// The VMs' work directories, to check that none is left behind (or made at all).
    static func vmWorkDirectories() -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/var/tmp/regress-vm")) ?? []).filter { $0.hasPrefix("vm.guest.") })
    }

    /// One boot, the way CI and a bisect use it: the seed's test and another power-cut test, both cutting
    /// the power through device-mapper (dm-flakey, as on a kernel without FUSE), in Debian's kernel.
    func testTheSeedsTestPassesInDebiansKernelInAVM() throws {
        let release = try installedKernel()
        let before = Self.vmWorkDirectories()
        let outcome = try regressCapturing(["run", "--kernel", release, "--results", directory + "/results",
                                            "--power-cut-backend", "flakey", "--fs", "btrfs",
                                            "--report", "json=" + directory + "/report.json", "nocow-reflink", "punch-partial-block-fsync"])
        let console = outcome.standardError
        XCTAssertEqual(outcome.status, 0, "stderr (the console):\n" + console.suffix(4000))
        XCTAssertTrue(outcome.standardOutput.contains("ok     nocow-reflink.btrfs"), outcome.standardOutput)
        XCTAssertTrue(outcome.standardOutput.contains("ok     punch-partial-block-fsync.btrfs"), outcome.standardOutput)
        XCTAssertTrue(outcome.standardOutput.contains("on Linux \(release)"), "the tests must have run on the booted kernel: \(outcome.standardOutput)")
        XCTAssertTrue(console.contains("regress-vm: booted"), "the console is streamed to standard error")

        // The report file the guest wrote came back to the path the host asked for.
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/report.json"))) as? [String: Any]
        let result = try XCTUnwrap((report?["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(result["verdict"] as? String, "pass")
        // So did the results directory, through the writable share, with the whole console beside it.
        let run = try XCTUnwrap(try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/results/latest"))
        let verdict = try String(contentsOfFile: directory + "/results/\(run)/nocow-reflink.btrfs/verdict", encoding: .utf8)
        XCTAssertEqual(verdict.split(separator: "\n").first, "pass")
        let log = try String(contentsOfFile: directory + "/results/\(run)/nocow-reflink.btrfs/log", encoding: .utf8)
        XCTAssertTrue(log.contains("power cut (dm-flakey)"), "the power cut went through device-mapper")
        XCTAssertTrue(log.contains("verify (after power cut)") || log.contains("-> ok"), log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/results/\(run)/console.log"))
        XCTAssertEqual(Self.vmWorkDirectories().subtracting(before), [], "the VM's work directory must be removed")
        print("regress run --kernel \(release) nocow-reflink: \(String(format: "%.1f", outcome.seconds)) s in all")
    }

    /// `regress explore --kernel`: the blind search runs in the kernel under test, its progress comes back
    /// on the console, and the shrunk test of what it found comes back to `--output` on the host, where
    /// `regress run --kernel` fails it in the same kernel. The fault is injected (Debian's kernel has no
    /// known bug to find); few shrinking runs, since every run costs a minute under TCG.
    func testExploreInAVMFindsAnInjectedFaultAndItsTestFailsThere() throws {
        let release = try installedKernel()
        let found = directory + "/found"
        let explore = try regressCapturing(["explore", "--kernel", release, "--fs", "ext4", "--inject-fault", "lying-fsync",
                                            "--ops", "8", "--workloads", "6", "--time", "900", "--crash-states-limit", "30",
                                            "--shrink-runs", "4", "--output", found])
        XCTAssertEqual(explore.status, 1, "a finding is exit status 1; the console:\n" + explore.standardError.suffix(4000))
        XCTAssertTrue(explore.standardError.contains("regress-vm: booted"), "the console is streamed to standard error")
        XCTAssertTrue(explore.standardError.contains("crash states"), "explore's progress comes back live: " + explore.standardError.suffix(2000))
        let written = explore.standardOutput.split(separator: "\n").map(String.init)
        XCTAssertEqual(written.count, 1, "one test written, named by its host path: \(explore.standardOutput)")
        let test = try XCTUnwrap(written.first)
        XCTAssertTrue(test.hasPrefix(found + "/"), test)
        let text = try String(contentsOfFile: test, encoding: .utf8)
        XCTAssertTrue(text.contains("lying-cache on"), "the shrunk test keeps its fault:\n" + text)

        let run = try regressCapturing(["run", "--kernel", release, "--results", directory + "/results", test])
        XCTAssertEqual(run.status, 1, "the found test fails in the kernel it was found in:\n" + run.standardOutput + run.standardError.suffix(3000))
        XCTAssertTrue(run.standardOutput.contains("on Linux \(release)"), run.standardOutput)
        print("regress explore --kernel \(release): \(String(format: "%.1f", explore.seconds)) s; run --kernel of its test: \(String(format: "%.1f", run.seconds)) s")
    }

    func testWhatIsNotAKernelIsAUsageErrorAndNothingBoots() throws {
        let before = Self.vmWorkDirectories()
        let notAKernel = directory + "/bzImage"
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: notAKernel))
        let outcome = try regressCapturing(["run", "--kernel", notAKernel, "nocow-reflink"])
        XCTAssertEqual(outcome.status, 2, outcome.standardError)
        XCTAssertEqual(outcome.standardError, "regress: --kernel \(notAKernel): not a kernel image: no x86 boot header (\"HdrS\" at 0x202), so not a bzImage\n")
        XCTAssertEqual(outcome.standardOutput, "")
        XCTAssertLessThan(outcome.seconds, 10, "nothing may boot")
        XCTAssertEqual(Self.vmWorkDirectories().subtracting(before), [], "nothing may be made")
    }

    /// A kernel that cannot mount the host's root is one `git bisect run` must skip (125), with the reason.
    /// Debian's kernel has 9p as a module; its bzImage, its header's release changed so that no modules
    /// match, boots without an initramfs and panics at the root mount — cheaply, a few seconds in.
    func testAKernelThatCannotReachRegressIsSkipped() throws {
        let release = try installedKernel()
        var image = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/boot/vmlinuz-\(release)")))
        let versionAt = 0x200 + (Int(image[0x20E]) | Int(image[0x20F]) << 8)
        XCTAssertEqual(String(decoding: image[versionAt..<(versionAt + release.utf8.count)], as: UTF8.self), release)
        image[versionAt] = UInt8(ascii: "0")   // "6.1.0-57-amd64" -> "0.1.0-57-amd64": no such modules
        let kernel = directory + "/bzImage"
        try Data(image).write(to: URL(fileURLWithPath: kernel))

        let outcome = try regressCapturing(["run", "-q", "--kernel", kernel, "--vm-timeout", "300", "--results", directory + "/results", "nocow-reflink"])
        XCTAssertEqual(outcome.status, 125, outcome.standardError)
        let message = outcome.standardError.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(message.hasPrefix("regress: --kernel \(kernel): the kernel never started regress (it cannot mount the host's root over 9p"), message)
        XCTAssertTrue(outcome.standardError.contains("Unable to mount root fs"), "the console's tail: \(outcome.standardError)")
    }

    /// A kernel that stops answering once regress runs fails (1), not skipped: the VM's limit ends it.
    func testAVMThatDoesNotFinishInItsTimeFailsWithTheConsolesTail() throws {
        let release = try installedKernel()
        let outcome = try regressCapturing(["run", "-q", "--kernel", release, "--vm-timeout", "45", "--results", directory + "/results", "nocow-reflink"])
        XCTAssertEqual(outcome.status, 1, outcome.standardError)
        XCTAssertTrue(outcome.standardError.hasPrefix("regress: --kernel \(release): the VM did not finish within 45s (--vm-timeout) while regress ran: a hung kernel; console's last lines:"),
                      outcome.standardError)
        XCTAssertTrue(outcome.standardError.contains("regress-vm: running regress"), outcome.standardError)
        XCTAssertLessThan(outcome.seconds, 60)
    }

    /// QEMU cannot die with its parent: a regress killed by SIGKILL while its VM boots leaves QEMU running.
    /// The VM's directory records QEMU's pid, and `regress cleanup` ends that QEMU (by pid and start time)
    /// and removes the directory.
    func testAVMLeftByAKilledRegressIsEndedByCleanup() throws {
        let release = try installedKernel()
        let binary = try XCTUnwrap(Self.regressExecutable)
        let workDirectory = directory + "/work"
        // posix_spawn, not Foundation's Process: Process waits for every holder of the pipe it watches the
        // child with, and the orphaned QEMU would keep this test waiting for its guest to finish.
        let regress = try ChildProcess.start(binary, ["run", "-q", "--kernel", release, "--workdir", workDirectory,
                                                      "--results", directory + "/results", "nocow-reflink"],
                                             outputPath: directory + "/output")
        var vmDirectory: String?, qemu: OwnerRecord?
        for _ in 0..<600 where qemu == nil {
            usleep(50_000)
            vmDirectory = ((try? FileManager.default.contentsOfDirectory(atPath: workDirectory + "-vm")) ?? []).first { $0.hasPrefix("vm.guest.") }
            qemu = vmDirectory.flatMap { OwnerRecord.read(from: workDirectory + "-vm/" + $0, as: OwnerRecord.childFileName) }
        }
        kill(regress.pid, SIGKILL)
        while regress.poll() == .running { usleep(10_000) }
        let vm = try XCTUnwrap(qemu, "the VM's directory must record QEMU's pid once QEMU runs")
        XCTAssertTrue(vm.isAlive, "QEMU outlives the killed regress (which is why it is recorded)")

        let cleanup = try regressCapturing(["cleanup", "--workdir", workDirectory])
        XCTAssertEqual(cleanup.status, 0, cleanup.standardError)
        XCTAssertTrue(cleanup.standardOutput.hasPrefix("1 directories"), cleanup.standardOutput)
        XCTAssertTrue(!vm.isAlive || OwnerRecord.state(of: vm.pid) == "Z", "cleanup must end the recorded QEMU")
        XCTAssertFalse(FileManager.default.fileExists(atPath: workDirectory + "-vm/" + vmDirectory!), "and remove the VM's directory")
    }
}
