import Foundation
#if canImport(Glibc)
import Glibc
#endif
import RegressCore
import RegressRunner

/// What one side made of a sequence: each step's errno (nil: success) and each file's bytes at the end
/// (nil: the file does not exist).
struct SideOutcome {
    var errnos: [Errno?] = []
    var files: [String: [UInt8]?] = [:]
    /// The file operations strace saw, normalized (Strace.swift).
    var operations = FileOperations()
    /// Per step, what could not be read as an outcome (xfs_io output not understood, a refused line).
    var problems: [Int: String] = [:]

    /// The named files beneath `directory`, read whole (a generated file is a few MiB at most).
    static func readFiles(_ names: [String], in directory: String) throws -> [String: [UInt8]?] {
        var files: [String: [UInt8]?] = [:]
        for name in names {
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { files[name] = .some(nil); continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            files[name] = .some([UInt8](data))
        }
        return files
    }
}

/// The reference side: each run of steps on one file as one `xfs_io -f [-d] -c A -c B … FILE` under
/// `strace -f`, the filesystem's steps done by the harness between them (`sync` as sync(1) under strace,
/// `drop-caches` as `echo 3 > /proc/sys/vm/drop_caches`, `power-cut` as regress's emulated disk cuts it), on
/// a fresh loop device with a fresh filesystem made as regress makes it (its own TestDevice and
/// ScratchFilesystem, so mkfs options and image size are the same on both sides).
struct XfsIOSide {
    let executable: String
    let strace: String
    let sync: String
    let stdbuf: String
    let workDirectory: String

    func run(_ sequence: StepSequence, on filesystem: FilesystemKind) throws -> SideOutcome {
        let device = try TestDevice(workDirectory: workDirectory, name: sequence.name + ".xfs_io." + filesystem.rawValue,
                                    kind: .loopImage(size: max(512 << 20, filesystem.minimumSize),
                                                     backend: sequence.hasPowerCut ? .emulated : nil))
        defer { device.release() }
        let scratch = ScratchFilesystem(kind: filesystem, device: device.path, mountPoint: device.directory + "/mnt", mountOptions: "")
        _ = try scratch.make(options: sequence.mkfsOptions)
        try scratch.mount()
        defer { scratch.forceUnmount() }
        let mountPoint = realPath(scratch.mountPoint)
        let traces = device.directory + "/traces"
        try FileManager.default.createDirectory(atPath: traces, withIntermediateDirectories: true)

        var outcome = SideOutcome()
        outcome.errnos = Array(repeating: nil, count: sequence.steps.count)
        for part in sequence.parts {
            switch part {
            case .xfsIO(let run):
                // Unbuffered, so that each command's output (stdout) and errors (stderr) come in their order.
                let (output, lines) = try Strace.run(strace, [stdbuf, "-o0", executable] + run.arguments(sequence, filesIn: mountPoint), in: traces)
                outcome.operations.append(lines, mountPoint: mountPoint, closingAtExit: true)
                // One chunk of output a command: the separator's line ends each.
                var chunks: [[String]] = [[]]
                for line in output.split(separator: "\n").map(String.init) {
                    if line == XfsIOInvocation.separatorLine { chunks.append([]) } else { chunks[chunks.count - 1].append(line) }
                }
                for (position, index) in run.steps.enumerated() {
                    let reading = XfsIOOutput.read(position < chunks.count ? chunks[position].joined(separator: "\n") : "")
                    outcome.errnos[index] = reading.errno
                    if !reading.unrecognized.isEmpty {
                        outcome.problems[index] = "xfs_io printed what is neither an errno nor a success: " + reading.unrecognized.joined(separator: " | ")
                    }
                }
            case .filesystem(let index):
                switch sequence.steps[index].command {
                case "sync":
                    outcome.operations.append(try Strace.run(strace, [sync], in: traces).lines, mountPoint: mountPoint)
                case "drop-caches":
                    try "3".write(toFile: "/proc/sys/vm/drop_caches", atomically: false, encoding: .utf8)
                case "power-cut":
                    _ = try device.cutPower()
                    scratch.forceUnmount()
                    try device.reattachAfterPowerCut()
                    scratch.moved(to: device.path)
                    try scratch.mount()
                default:
                    outcome.problems[index] = "the harness has no way to do '\(sequence.steps[index].command)'"
                }
            }
        }
        outcome.files = try SideOutcome.readFiles(sequence.files, in: scratch.mountPoint)
        try scratch.unmount()
        return outcome
    }
}

/// The side under test: the sequence as a test of the test language, run by regress's CaseRunner in this
/// process while strace traces the process. Each step expects success, so a step that fails leaves typed
/// evidence with its errno at its location; the files are read by the `afterStep` hook once the last step
/// ran, before the teardown, after the trace's end marker.
struct RegressSide {
    let options: CaseOptions
    let strace: String
    let workDirectory: String

    struct Refused: Error, CustomStringConvertible { let description: String }

    func run(_ sequence: StepSequence, on filesystem: FilesystemKind) throws -> SideOutcome {
        let test: TestDefinition
        do {
            test = try TestParser(path: "generated/" + sequence.name, name: sequence.name).parse(sequence.testText(on: filesystem.rawValue))
        } catch {
            throw Refused(description: "regress refuses the sequence: \(error)")
        }
        guard let testCase = Planner(filesystems: [filesystem]).plan([test]).first else {
            throw Refused(description: "regress plans no case on \(filesystem.rawValue)")
        }
        if let reason = testCase.skipReason { throw Refused(description: "regress skips the case: \(reason)") }

        let lastStep = test.steps.count - 1
        var files: [String: [UInt8]?] = [:]
        var readError: Error?
        var mountPoint: String?
        let traces = workDirectory + "/traces-" + sequence.name + "." + filesystem.rawValue
        try FileManager.default.createDirectory(atPath: traces, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: traces) }
        let (result, lines) = try Strace.tracingThisProcess(strace, in: traces) {
            CaseRunner(testCase, options: options, afterStep: { index, mount in
                mountPoint = mountPoint ?? realPath(mount)
                guard index == lastStep else { return }
                _ = access(Strace.endMarker, F_OK)
                do { files = try SideOutcome.readFiles(sequence.files, in: mount) } catch { readError = error }
            }).run()
        }
        if let readError { throw readError }
        let environment = result.evidence.compactMap { evidence -> String? in
            if case .environment(let what) = evidence { return what }
            return nil
        }
        guard environment.isEmpty else { throw Refused(description: "regress's environment failed: \(environment)") }

        var outcome = SideOutcome(files: files)
        if let mountPoint { outcome.operations.append(lines, mountPoint: mountPoint, upToMarker: true) }
        let failures = result.stepFailures
        // The generated steps, without the closes added to the test.
        let generated = test.steps.filter { $0.name != "close" }
        outcome.errnos = generated.map { step in failures.first { $0.location == step.location }?.got }
        return outcome
    }
}

/// The path with every symlink resolved, as strace -y prints a descriptor's file.
func realPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}
