#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// Runs one test case from start to end, in the case's own process: device, filesystem, steps, checks;
/// and tears everything down in reverse order whatever happens. It collects evidence; the verdict is the
/// `Decision` of that evidence, taken by whoever reads the result.
public struct CaseRunner {
    let testCase: TestCase
    let options: CaseOptions
    /// Called after each step with its index and the mount point, for meta-tests that must change a file
    /// behind the model's back (to prove the oracle sees it). In-process only: never crosses to a child.
    let afterStep: ((_ stepIndex: Int, _ mountPoint: String) -> Void)?

    public init(_ testCase: TestCase, options: CaseOptions, afterStep: ((Int, String) -> Void)? = nil) {
        self.testCase = testCase
        self.options = options
        self.afterStep = afterStep
    }

    public func run() -> TestResult {
        let test = testCase.test
        var result = TestResult(test: test.name, filesystem: testCase.filesystem)
        result.summary = test.summary
        result.fix = test.fixSubject.map { subject in test.fixCommit.map { "\($0) (\"\(subject)\")" } ?? subject }
        if let reason = testCase.skipReason {
            result.evidence.append(.notApplicable(reason))
            return result
        }
        let started = monotonicSeconds()
        let kernelLog = options.checkKernelLog ? KernelLog() : nil
        let device = execute(into: &result)
        if let kernelLog {
            let lines = KernelLog.lines(kernelLog.read(), about: device?.deviceNames ?? [])
            if !lines.isEmpty { result.log.append("kernel log during the test:"); result.log += lines.map { "  " + $0 } }
            let alarming = KernelLog.alarming(lines)
            if !alarming.isEmpty { result.evidence.append(.kernelLog(alarming)) }
        }
        if let device {
            if options.keepFailedImages && result.verdict == .fail, let kept = device.keepImage(in: options.workDirectory + "/kept") {
                result.log.append("image kept for a post-mortem: \(kept)")
                result.evidence.append(.imageKept(kept))
            }
            device.release()
        }
        if options.crashStates != nil, result.verdict == .fail {
            // With the case's own device gone: each candidate runs on a fresh one. Within 90% of the timeout.
            let deadline = options.crashStatesSeconds.map { started + 1.8 * $0 }
            CrashStateReproduction(testCase: testCase, options: options, deadline: deadline).reproduce(into: &result)
        }
        result.seconds = monotonicSeconds() - started
        return result
    }

    /// The power-cut backend this case gets, or why it gets none (then it runs until a step needs one).
    private func backend() -> (PowerCutBackend?, String) {
        let test = testCase.test
        if let scratch = options.scratchDevice { return (nil, "--scratch-dev \(scratch) runs on the device itself") }
        let emulate = options.alwaysEmulate || options.crashStates != nil
        guard test.needsPowerCut || emulate else { return (nil, "not needed") }
        if let chosen = options.powerCutBackend {
            return PowerCutBackends.whyUnavailable(chosen).map { (nil, "--power-cut-backend \(chosen.rawValue): \($0)") } ?? (chosen, "")
        }
        // Faults need the emulated disk; a power cut alone takes the most faithful backend there is.
        let candidates: [PowerCutBackend] = test.needsEmulatedDisk || emulate ? [.emulated] : PowerCutBackend.allCases
        if let usable = candidates.first(where: { PowerCutBackends.whyUnavailable($0) == nil }) { return (usable, "") }
        return (nil, candidates.map { "\($0.rawValue): \(PowerCutBackends.whyUnavailable($0)!)" }.joined(separator: "; "))
    }

    /// Any backend cuts the power; only the emulated disk injects faults.
    static func backend(_ backend: PowerCutBackend?, serves requirement: CommandSpec.Requirement) -> Bool {
        switch requirement {
        case .powerCut: return backend != nil
        case .emulatedDisk: return backend == .emulated
        }
    }

    /// Setup, steps, unmount and fsck, collecting evidence. Returns the device, unmounted, for the caller to
    /// release once the verdict is known (a failed test's image may be kept).
    private func execute(into result: inout TestResult) -> TestDevice? {
        let (backend, noBackendReason) = backend()
        guard let device = makeDevice(backend, into: &result) else { return nil }
        let filesystem = ScratchFilesystem(kind: testCase.filesystem, device: device.path, mountPoint: device.directory + "/mnt",
                                           mountOptions: testCase.test.mountOptions[testCase.filesystem] ?? "")
        let session = TestSession(device: device, filesystem: filesystem)
        defer { session.tearDown() }
        guard setUp(session, into: &result) else { return device }
        if options.crashStates != nil && device.writeLogPath == nil {
            result.log.append("crash states: not searched: they need the emulated disk (\(noBackendReason))")
        }
        let crashStates = CrashStateRecorder(device: device, filesystem: filesystem, options: options)
        guard runSteps(session, backend: backend, noBackendReason: noBackendReason, crashStates: crashStates, into: &result) else {
            return device
        }
        finish(session, crashStates: crashStates, into: &result)
        return device
    }

    /// The device the case runs on: a loop device over an image (on the emulated disk when the test needs
    /// one), or the scratch device the user named.
    private func makeDevice(_ backend: PowerCutBackend?, into result: inout TestResult) -> TestDevice? {
        let kind: TestDevice.Kind = options.scratchDevice.map { .scratch($0) } ??
            .loopImage(size: max(testCase.test.imageSize, testCase.filesystem.minimumSize), backend: backend)
        do {
            let device = try TestDevice(workDirectory: options.workDirectory, name: testCase.id, kind: kind,
                                        writeLog: options.crashStates != nil && backend == .emulated)
            result.log.append("device " + device.description)
            return device
        } catch {
            result.evidence.append(.environment("device: \(error)"))
            return nil
        }
    }

    /// Probes what the test requires, makes the filesystem and mounts it. False when the case ends here
    /// (a skip for a missing feature, or a broken environment), with its evidence.
    private func setUp(_ session: TestSession, into result: inout TestResult) -> Bool {
        let test = testCase.test
        let fs = testCase.filesystem
        let filesystem = session.filesystem
        // `requires:` the tools or kernel may lack: asked on this device before the real mkfs (fstests' way).
        if let why = FeatureProbe.trialLacks(test.requires, on: fs, device: session.device.path, mountPoint: filesystem.mountPoint,
                                             mkfsOptions: test.mkfsOptions[fs] ?? [], mountOptions: filesystem.mountOptions) {
            result.evidence.append(.notApplicable(why))
            return false
        }
        do {
            result.log.append(try filesystem.make(options: test.mkfsOptions[fs] ?? []))
            try session.mount()
            // Now the filesystem's module is loaded and the filesystem made: ask what only they can tell.
            let root = try session.requireRoot()
            if let why = FeatureProbe.kernelLacks(test.requires, on: fs, mountOptions: filesystem.mountOptions)
                ?? FeatureProbe.filesystemLacks(test.requires, on: fs, root: root) {
                result.evidence.append(.notApplicable(why))
                return false
            }
        } catch let error as ScratchFilesystem.SetupError {
            result.evidence.append(.environment("mkfs: \(error.description)"))
            result.log.append(error.output)
            return false
        } catch {
            // A mount that fails for want of a required feature (`-o usrquota` on an xfs without quota) skips.
            if let why = FeatureProbe.kernelLacks(test.requires, on: fs, mountOptions: filesystem.mountOptions) {
                result.log.append("mount: \(error)")
                result.evidence.append(.notApplicable(why))
                return false
            }
            result.evidence.append(.environment("\(error)"))
            return false
        }
        result.log.append("mounted \(session.device.path) on \(filesystem.mountPoint) -o \(filesystem.mountOptions.isEmpty ? "defaults" : filesystem.mountOptions)")
        return true
    }

    /// The test's steps, in order, each against the model: its errno against the expectation, its changes
    /// into the model, its crash-state snapshot. False when the environment broke under a step.
    private func runSteps(_ session: TestSession, backend: PowerCutBackend?, noBackendReason: String,
                          crashStates: CrashStateRecorder, into result: inout TestResult) -> Bool {
        let test = testCase.test
        var model = ContentModel()
        let executor = StepExecutor(session: session, verifier: Verifier(session: session))
        var dataOperations = 0
        crashStates.snapshot(model, after: "the mount")
        var currentStep = ""
        session.beforePowerCutRecovery = {
            crashStates.snapshot(model, after: currentStep)
        }
        func record(_ outcome: StepOutcome) {
            for change in outcome.changes { model.apply(change) }
            result.log += outcome.log
            result.evidence += outcome.verifications.map(Evidence.verified)
        }
        /// Reads what a power cut left of `files`, the model being unable to go on without knowing it.
        func resolve(_ files: [String], at location: SourceLocation, why: String) {
            guard !files.isEmpty else { return }
            result.log.append("\(location) reading \(files.joined(separator: ", ")) first: \(why)")
            let (results, changes, log) = executor.verifier.verify(files, model: model, at: location, implicit: true)
            record(StepOutcome(changes: changes, verifications: results, log: log))
        }

        for (index, step) in test.steps.enumerated() {
            if let requirement = step.spec.requirement, !CaseRunner.backend(backend, serves: requirement) {
                result.log.append("\(step.location) \(step.text) -> not run: needs \(requirement); \(noBackendReason)")
                result.evidence.append(.missingBackend(requirement, step: step.shortName, at: step.location, why: noBackendReason))
                break
            }
            let started = monotonicSeconds()
            currentStep = "'\(step.text)' at \(step.location)"
            let outcome: StepOutcome
            do {
                // `2b` and pwrite's default buffer are the filesystem's blocks: the step as this mount reads
                // it is what runs and what the power-cut resolution weighs.
                let step = try executor.resolved(step)
                let promise = StepPromise(step, StepPromise.Context(mappedRange: session.mappings[step.file ?? ""]?.range))
                resolve(model.unresolved(before: step, promising: promise), at: step.location,
                        why: "what the power cut left of them decides what '\(step.text)' does")
                outcome = try executor.run(step, model: model)
            } catch {
                result.log.append("\(step.location) \(step.text) -> \(error)")
                result.evidence.append(.environment("\(error)"))
                return false
            }
            let accepted = step.expectation.accepts(outcome.error)
            result.log.append("\(step.location) \(step.text) -> \(outcome.error?.name ?? "ok")\(accepted ? "" : " UNEXPECTED") (\(formatSeconds(monotonicSeconds() - started))s)")
            if step.spec.category == .data { dataOperations += 1 }
            record(outcome)
            if !accepted {
                result.evidence.append(.stepFailed(StepFailure(location: step.location, step: step.shortName, got: outcome.error,
                                                               expected: step.expectation.description, detail: outcome.detail)))
            }
            if let check = outcome.checkFailure {
                result.evidence.append(.stepFailed(StepFailure(location: step.location, step: step.shortName, got: nil,
                                                               expected: check.expected, found: check.found)))
            }
            afterStep?(index, session.filesystem.mountPoint)
            crashStates.snapshot(model, after: currentStep, changes: outcome.changes)
            crashStates.report(into: &result)
        }
        // What a power cut left and no step looked at is checked once the steps are done: a test that cut
        // the power never passes without its outcome being seen.
        if let last = test.steps.last {
            resolve(model.unresolvedAfterPowerCut, at: last.location, why: "the test ended without verifying what the power cut left")
        }
        if dataOperations == 0 { result.evidence.append(.noDataOperation) }
        return true
    }

    /// Unmount, the emulated disk's account, the crash-state search, and the read-only fsck.
    private func finish(_ session: TestSession, crashStates: CrashStateRecorder, into result: inout TestResult) {
        do {
            try session.unmount()
        } catch {
            result.evidence.append(.environment("unmount: \(error)"))
            return
        }
        if let disk = session.device.disk {
            let stats = disk.statistics
            result.log.append("emulated disk: \(stats.writes) writes (\(Size.format(stats.writeBytes))), \(stats.flushes) flushes, \(stats.failedWrites) failed, \(stats.droppedWrites) dropped")
        }
        crashStates.search()
        crashStates.report(into: &result)
        if options.checkFilesystem {
            let (clean, output) = session.filesystem.check()
            result.log.append(output)
            if !clean { result.evidence.append(.fsckFailed(output)) }
        }
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
