import Foundation
import RegressCore
import RegressRunner

/// What one side made of a sequence: each step's errno (nil: success) and each file's bytes at the end
/// (nil: the file does not exist).
struct SideOutcome {
    var errnos: [Errno?] = []
    var files: [String: [UInt8]?] = [:]
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

/// The reference side: each step as one `xfs_io -f [-d] -c "CMD" FILE` run, on a fresh loop device with a
/// fresh filesystem made as regress makes it (its own TestDevice and ScratchFilesystem, so mkfs options
/// and image size are the same on both sides).
struct XfsIOSide {
    let executable: String
    let workDirectory: String

    func run(_ sequence: StepSequence, on filesystem: FilesystemKind) throws -> SideOutcome {
        let device = try TestDevice(workDirectory: workDirectory, name: sequence.name + ".xfs_io." + filesystem.rawValue,
                                    kind: .loopImage(size: max(512 << 20, filesystem.minimumSize), backend: nil))
        defer { device.release() }
        let scratch = ScratchFilesystem(kind: filesystem, device: device.path, mountPoint: device.directory + "/mnt", mountOptions: "")
        _ = try scratch.make(options: [])
        try scratch.mount()
        defer { scratch.forceUnmount() }

        var outcome = SideOutcome()
        for (index, step) in sequence.steps.enumerated() {
            let result = try Subprocess.run([executable] + step.xfsIOArguments(filesIn: scratch.mountPoint))
            let reading = XfsIOOutput.read(result.output)
            outcome.errnos.append(reading.errno)
            if !reading.unrecognized.isEmpty {
                outcome.problems[index] = "xfs_io printed what is neither an errno nor a success (exit \(result.status)): "
                    + reading.unrecognized.joined(separator: " | ")
            }
        }
        outcome.files = try SideOutcome.readFiles(sequence.files, in: scratch.mountPoint)
        try scratch.unmount()
        return outcome
    }
}

/// The side under test: the sequence as a test of the test language, run by regress's CaseRunner in this
/// process. Each step expects success, so a step that fails leaves typed evidence with its errno at its
/// location; the files are read by the `afterStep` hook once the last step ran, before the teardown.
struct RegressSide {
    let options: CaseOptions

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
        let result = CaseRunner(testCase, options: options, afterStep: { index, mountPoint in
            guard index == lastStep else { return }
            do { files = try SideOutcome.readFiles(sequence.files, in: mountPoint) } catch { readError = error }
        }).run()
        if let readError { throw readError }
        let environment = result.evidence.compactMap { evidence -> String? in
            if case .environment(let what) = evidence { return what }
            return nil
        }
        guard environment.isEmpty else { throw Refused(description: "regress's environment failed: \(environment)") }

        var outcome = SideOutcome(files: files)
        let failures = result.stepFailures
        outcome.errnos = test.steps.map { step in failures.first { $0.location == step.location }?.got }
        return outcome
    }
}
