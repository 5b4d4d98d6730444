#if canImport(Glibc)
import Glibc
#endif

/// Runs one test case from start to end: device, filesystem, steps, checks, verdict; and tears everything
/// down in reverse order whatever happens.
public struct TestExecution {
    public struct Options: Sendable {
        public var workDirectory = "/var/tmp/regress"
        /// Force the emulated disk under every test, not only those that need it.
        public var alwaysEmulate = false
        /// Run on this already-checked block device instead of a loop device over an image.
        public var scratchDevice: String?
        /// Keep the image of a test that fails, for a post-mortem (`<workdir>/kept/<test>.<fs>.<pid>.img`).
        public var keepFailedImages = false
        public var checkFilesystem = true
        public var checkKernelLog = true
        /// Called after each step with its index and the mount point, for meta-tests that must change a
        /// file behind the model's back (to prove the oracle sees it). Never set by the CLI.
        public var afterStep: (@Sendable (_ stepIndex: Int, _ mountPoint: String) -> Void)?
        public init() {}
    }

    let testCase: TestCase
    let options: Options

    public init(_ testCase: TestCase, options: Options) {
        self.testCase = testCase
        self.options = options
    }

    public func run() -> TestResult {
        let test = testCase.test
        var result = TestResult(test: test.name, filesystem: testCase.filesystem, verdict: .pass)
        result.summary = test.summary
        result.fix = test.fixSubject.map { subject in test.fixCommit.map { "\($0) (\"\(subject)\")" } ?? subject }
        if let reason = testCase.skipReason {
            result.verdict = .skip
            result.reasons = [reason]
            return result
        }
        let started = monotonicSeconds()
        let kernelLog = options.checkKernelLog ? KernelLog() : nil
        let device = execute(into: &result)
        if let kernelLog {
            let lines = KernelLog.lines(kernelLog.read(), about: device?.deviceNames ?? [])
            if !lines.isEmpty { result.log.append("kernel log during the test:"); result.log += lines.map { "  " + $0 } }
            result.kernelWarnings = KernelLog.alarming(lines)
        }
        decideVerdict(&result)
        if let device {
            if options.keepFailedImages && result.verdict == .fail, let kept = device.keepImage(in: options.workDirectory + "/kept") {
                result.log.append("image kept for a post-mortem: \(kept)")
                result.reasons.append("image kept at \(kept)")
            }
            device.release()
        }
        result.seconds = monotonicSeconds() - started
        return result
    }

    /// Setup, steps, unmount and fsck. Environment failures make the verdict `error`; test failures are
    /// collected by the executor and judged in `decideVerdict`. Returns the device, unmounted, for the caller
    /// to release once the verdict is known (a failed test's image may be kept).
    private func execute(into result: inout TestResult) -> TestDevice? {
        let test = testCase.test
        let fs = testCase.filesystem
        let device: TestDevice
        do {
            let kind: TestDevice.Kind = options.scratchDevice.map { .scratch($0) } ??
                .loopImage(size: max(test.imageSize, fs.minimumSize), emulated: test.needsEmulatedDisk || options.alwaysEmulate)
            device = try TestDevice(workDirectory: options.workDirectory, name: testCase.id, kind: kind)
        } catch {
            result.verdict = .error
            result.reasons.append("device: \(error)")
            return nil
        }
        result.log.append("device " + device.description)

        let filesystem = ScratchFilesystem(kind: fs, device: device.path, mountPoint: device.directory + "/mnt",
                                           mountOptions: test.mountOptions[fs] ?? "")
        defer { filesystem.forceUnmount() }
        do {
            result.log.append(try filesystem.make(options: test.mkfsOptions[fs] ?? []))
            try filesystem.mount()
        } catch let error as ScratchFilesystem.SetupError {
            result.verdict = .error
            result.reasons.append("mkfs: \(error.description)")
            result.log.append(error.output)
            return device
        } catch {
            result.verdict = .error
            result.reasons.append("\(error)")
            return device
        }
        result.log.append("mounted \(device.path) on \(filesystem.mountPoint) -o \(filesystem.mountOptions.isEmpty ? "defaults" : filesystem.mountOptions)")

        let executor = StepExecutor(filesystem: filesystem, device: device)
        defer {
            result.stepFailures = executor.failures
            result.verifications = executor.verifications
        }
        do {
            try executor.openRoot()
            for (index, step) in test.steps.enumerated() {
                try executor.run(step)
                options.afterStep?(index, filesystem.mountPoint)
            }
            executor.finish(at: test.steps.last!.location)
            executor.closeRoot()
            result.log += executor.log
            executor.log = []
            try filesystem.unmount()
        } catch {
            result.log += executor.log
            executor.log = []
            result.verdict = .error
            result.reasons.append("\(error)")
            return device
        }
        if let disk = device.disk {
            let stats = disk.statistics
            result.log.append("emulated disk: \(stats.writes) writes (\(Size.format(stats.writeBytes))), \(stats.flushes) flushes, \(stats.failedWrites) failed, \(stats.droppedWrites) dropped")
        }
        if options.checkFilesystem {
            let (clean, output) = filesystem.check()
            result.log.append(output)
            if !clean { result.fsckOutput = output }
        }
        return device
    }

    /// The verdict from the evidence: an error stays an error; otherwise any unexpected errno, any verify
    /// mismatch, any kernel warning or fsck complaint is a failure.
    private func decideVerdict(_ result: inout TestResult) {
        var reasons: [String] = []
        for failure in result.stepFailures { reasons.append("\(failure) at \(failure.location)") }
        for verification in result.verifications where !verification.passed {
            reasons += TestExecution.describe(verification)
        }
        if !result.kernelWarnings.isEmpty {
            reasons.append("kernel log: \(result.kernelWarnings.count) warning line(s), first: \(result.kernelWarnings[0])")
        }
        if let fsck = result.fsckOutput {
            let lines = fsck.split(separator: "\n").dropFirst()
            reasons.append("fsck found problems: \(lines.first(where: { !$0.isEmpty }) ?? "")")
        }
        if result.verdict == .error {
            result.reasons = result.reasons + reasons
            return
        }
        result.reasons = reasons
        result.verdict = reasons.isEmpty ? .pass : .fail
    }

    /// `verify file1: bytes 16773120..16777215 (…): expected 0xcd, found 0x00` — one line a range.
    static func describe(_ verification: VerifyResult) -> [String] {
        let file = verification.file
        if let error = verification.readError { return ["verify \(file): cannot read it: \(error.name) (\(error.message))"] }
        guard let found = verification.foundSize else { return ["verify \(file): the file is missing"] }
        var lines: [String] = []
        if !verification.sizeAllowed {
            let expected = verification.allowedSizes.map { "\($0.lowerBound)..\($0.upperBound)" } ?? "\(verification.expectedSize)"
            lines.append("verify \(file): size \(found), expected \(expected)")
        }
        lines += verification.mismatches.map { "verify \(file): \($0)" }
        if verification.unlistedMismatches > 0 {
            lines.append("verify \(file): and \(verification.unlistedMismatches) more bad ranges")
        }
        return lines
    }
}
