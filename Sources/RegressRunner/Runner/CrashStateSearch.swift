#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// `--crash-states` (issue 11): every crash state the emulated disk's write log allows at each flush of the
/// test's steps is rebuilt, mounted (log recovery runs), verified against what the model owed at that point,
/// unmounted and fsck'ed. The enumeration is `CrashStatePlan`'s and what is owed is `CrashExpectation`'s;
/// this file only does the machine side.
///
/// Rebuilding each state from an empty image would cost the whole log a state (a test that fills a 512 MiB
/// filesystem logs 512 MiB). Instead one base image holds the durable prefix of the epoch at hand, grown
/// epoch by epoch; a state is the base served by an emulated disk of its own whose cache lies: the
/// epoch's chosen writes, the mount's log recovery and fsck all stay in its undo log, and a power cut rolls
/// the base back when the state is done. States are checked one after another: every state carries the
/// test filesystem's UUID, and two mounts of one UUID at once are refused.
struct CrashStateSearch {
    /// The model at a point of the test, and the write-log length then.
    struct Snapshot {
        var position: Int
        var model: ContentModel
        /// The step that ran from the previous snapshot to this one (for the first: the mount).
        var step: String
        /// Names not yet made durable (`CrashExpectation.pendingNames`).
        var pendingNames: Set<String>
    }

    let disk: EmulatedDisk
    let kind: FilesystemKind
    let mountOptions: String
    let directory: String
    let options: CaseOptions

    /// At most this many failing states become evidence; the rest are counted in the log.
    static let reportedFailures = 5

    func run(snapshots: [Snapshot], diskSize: UInt64) -> (evidence: [Evidence], log: [String]) {
        let started = monotonicSeconds()
        let records = disk.writeLogRecords
        let plan = CrashStatePlan(records: records.map(CrashStatePlan.Record.init))
        let positions = snapshots.map(\.position)
        // Epochs that end before the steps start (mkfs, the first mount) owe nothing the model knows.
        let chosen = plan.epochs.filter { ($0.end ?? records.count) >= positions[0] }.map(\.number)
        let (states, skipped) = plan.states(epochs: chosen, randomSubsets: options.crashStates ?? 0,
                                            limit: options.crashStatesLimit, seed: options.crashStatesSeed)
        // Epoch by epoch, so that the base only grows.
        let ordered = states.enumerated().sorted { ($0.element.epoch, $0.offset) < ($1.element.epoch, $1.offset) }.map(\.element)
        var log = ["crash states: \(records.count) log records, \(plan.epochs.count) epochs, \(chosen.count) during the steps; \(states.count) states to check, \(skipped) skipped by the limit of \(options.crashStatesLimit)"]
        var evidence: [Evidence] = [], failures = 0
        var cache = WriteCache(disk: disk, records: records)
        let basePath = directory + "/crash-base.img"
        defer { unlink(basePath) }
        let base: FileDescriptor
        do {
            base = try FileDescriptor.open(basePath, [.readWrite, .create, .exclusive], mode: 0o600)
            try base.truncate(to: diskSize)
        } catch {
            return ([.environment("crash states: cannot make the base image \(basePath): \(error)")], log)
        }
        defer { base.close() }
        var baseEpoch = 0
        // A time budget (half the case's timeout): after a few states, if the rest would not fit, every
        // k-th state is checked, so that the states checked still reach the last epochs (the fsync at
        // the end of a test is what matters most), and the case never runs into its own timeout.
        var checked = 0, stride = 1, budgetSkipped = 0, budgetPlanned = false
        for (index, state) in ordered.enumerated() {
            if checked == 10, !budgetPlanned, let budget = options.crashStatesSeconds {
                budgetPlanned = true
                let perState = (monotonicSeconds() - started) / 10
                let affordable = max(1, Int((budget - (monotonicSeconds() - started)) / max(perState, 1e-3)))
                let remaining = ordered.count - index
                if remaining > affordable {
                    stride = (remaining + affordable - 1) / affordable
                    log.append("crash states: the time budget (\(Int(budget))s, half the timeout) allows about \(affordable) more: every \(stride)th state is checked")
                }
            }
            if stride > 1, (ordered.count - 1 - index) % stride != 0 {
                budgetSkipped += 1
                continue
            }
            checked += 1
            let epoch = plan.epochs[state.epoch]
            do {
                while baseEpoch < state.epoch {
                    // Applied to the base for good: their kept data is dropped as they go.
                    try cache.apply(plan.epochs[baseEpoch].writes, to: base, keep: false)
                    baseEpoch += 1
                }
            } catch {
                return (evidence + [.environment("crash states: cannot grow the base image: \(error)")], log)
            }
            let end = epoch.end ?? records.count
            let window = CrashExpectation.window(of: end, in: positions) ?? (0, 0)
            let owed = CrashExpectation.expected(before: snapshots[window.before].model, after: snapshots[window.after].model,
                                                 pendingNames: snapshots[window.before].pendingNames)
            let step = window.after == window.before ? "the final unmount" : snapshots[window.after].step
            let problem: String?
            do {
                problem = try check(state.writes.map { epoch.writes[$0] }, over: basePath, owed: owed, cache: &cache)
            } catch {
                return (evidence + [.environment("crash states: \(error)")], log)
            }
            guard let problem else { continue }
            failures += 1
            var failure = CrashStateFailure(epoch: state.epoch, writesApplied: state.writes, writesInEpoch: epoch.writes.count,
                                            step: step, problem: problem)
            if failures <= CrashStateSearch.reportedFailures {
                // How to make a run leave this state: what a reproducer (CrashStateReproduction) is made of.
                failure.cut = CrashStateCut(plan: plan, records: records.map(CrashStatePlan.Record.init), ranges: records.map(\.range),
                                            state: state, positions: positions)
                evidence.append(.crashState(failure))
            }
            log.append("  " + failure.description)
        }
        let seconds = monotonicSeconds() - started
        log.append("crash states: \(checked) checked, \(failures) failed, \(skipped + budgetSkipped) skipped, in \(formatSeconds(seconds))s (\(checked == 0 ? 0 : Int(Double(checked) / max(seconds, 1e-6))) a second)")
        return (evidence, log)
    }

    /// Checks one state: the base plus the log's writes at `indices`. Nil when it holds, else the first
    /// problem found. Throws when the base could not be rolled back (no later state could be trusted).
    private func check(_ indices: [Int], over basePath: String, owed: [CrashExpectation.Owed],
                       cache: inout WriteCache) throws -> String? {
        let stateDisk = try EmulatedDisk(imagePath: basePath, mountPoint: directory + "/crash-fuse")
        stateDisk.setLyingCache(true)
        defer { stateDisk.powerCut() }
        do {
            let file = try FileDescriptor.open(stateDisk.filePath, .readWrite)
            defer { file.close() }
            try cache.apply(indices, to: file)
        } catch {
            return "cannot rebuild the state: \(error)"
        }
        let problem = checkMounted(stateDisk, owed: owed)
        stateDisk.powerCut()
        try stateDisk.stop()
        return problem
    }

    private func checkMounted(_ stateDisk: EmulatedDisk, owed: [CrashExpectation.Owed]) -> String? {
        let loop: LoopDevice
        do {
            loop = try (try? LoopDevice.attach(to: stateDisk.filePath, directIO: true)) ?? LoopDevice.attach(to: stateDisk.filePath)
        } catch { return "cannot attach it: \(error)" }
        defer { loop.detach() }
        let filesystem = ScratchFilesystem(kind: kind, device: loop.path, mountPoint: directory + "/crash-mnt", mountOptions: mountOptions)
        do { try filesystem.mount() } catch { return "does not mount: \(error)" }
        var problem: String?
        do {
            let root = try FileDescriptor.open(filesystem.mountPoint, [.readOnly, .directory])
            defer { root.close() }
            problem = verify(owed, root: root)
        } catch {
            problem = "cannot open the mount: \(error)"
        }
        do { try filesystem.unmount() } catch {
            filesystem.forceUnmount()
            return problem ?? "unmount: \(error)"
        }
        if problem == nil && options.checkFilesystem {
            let (clean, output) = filesystem.check()
            if !clean {
                let lines = output.split(separator: "\n").dropFirst()
                problem = "fsck: " + (lines.first(where: { !$0.isEmpty }).map(String.init) ?? "failed")
            }
        }
        return problem
    }

    private func verify(_ owed: [CrashExpectation.Owed], root: FileDescriptor) -> String? {
        let oracle = Oracle()
        for owed in owed {
            let file = owed.file
            let fd: FileDescriptor
            do {
                fd = try FileDescriptor.open(beneath: root, file, .readOnly)
            } catch let error as Errno where error == .ENOENT {
                if case .either(nil, _) = owed.expected { continue }
                return "verify \(file): the file is missing"
            } catch {
                return "verify \(file): cannot open it: \(error)"
            }
            defer { fd.close() }
            do {
                let result = try verify(fd, file, owed.expected, oracle)
                // A name in flux may show one of the files it was moving between: the first problem is the one told.
                if !result.passed, try !owed.alternatives.contains(where: { try verify(fd, file, $0, oracle).passed }) {
                    return Decision.describe(result).first ?? "verify \(file): failed"
                }
            } catch {
                return "verify \(file): cannot read it: \(error)"
            }
        }
        return nil
    }

    private func verify(_ fd: FileDescriptor, _ file: String, _ expected: ContentModel.Expected, _ oracle: Oracle) throws -> VerifyResult {
        switch expected {
        case .exact(let map): return try oracle.verify(fd, file: file, against: map)
        case .either(let old, let new): return try oracle.verifyAfterPowerCut(fd, file: file, old: old, new: new).0
        }
    }
}

/// The logged writes' data, read from the write log once and kept (up to a budget) for the many states
/// that replay the same prefix.
private struct WriteCache {
    let disk: EmulatedDisk
    let records: [EmulatedDisk.WriteLogRecord]
    private var data: [Int: [UInt8]] = [:]
    private var bytes = 0
    static let budget = 16 << 20

    init(disk: EmulatedDisk, records: [EmulatedDisk.WriteLogRecord]) {
        self.disk = disk
        self.records = records
    }

    /// Writes the logged writes at `indices` into `fd`, in that order.
    /// `keep`: keep their data for the next time (the writes of the epoch at hand, not the base's).
    mutating func apply(_ indices: [Int], to fd: FileDescriptor, keep: Bool = true) throws {
        for index in indices {
            let record = records[index]
            if record.kind == .zeroing {
                // A hole reads as the zeros the disk was told to write, and costs no writing.
                // (The emulated disk takes it as the loop device's own write-zeroes.)
                try fd.allocate(mode: StepExecutor.fallocateMode([.punchHole, .keepSize]),
                                offset: record.range.offset, length: record.range.length)
                continue
            }
            let bytes = try self.bytes(of: index, keep: keep)
            var done = 0
            while done < bytes.count {
                let wrote = try bytes.withUnsafeBytes { buffer in
                    try fd.write(UnsafeRawBufferPointer(rebasing: buffer[done...]), at: record.range.offset + UInt64(done))
                }
                guard wrote > 0 else { throw Errno.EIO }
                done += wrote
            }
        }
    }

    private mutating func bytes(of index: Int, keep: Bool) throws -> [UInt8] {
        if let cached = data.removeValue(forKey: index) {
            if keep { data[index] = cached } else { bytes -= cached.count }
            return cached
        }
        guard let read = disk.writeLogData(records[index]) else { throw Errno.EIO }
        if keep && bytes + read.count <= WriteCache.budget {
            data[index] = read
            bytes += read.count
        }
        return read
    }
}

/// The case's side of `--crash-states`: the model and the write-log position at each step's end, and one
/// search over the log when the logged disk's life ends (the final unmount, or a power cut, after which
/// the disk carries on without a log).
final class CrashStateRecorder {
    let device: TestDevice
    let filesystem: ScratchFilesystem
    let options: CaseOptions
    private var snapshots: [CrashStateSearch.Snapshot] = []
    private var searched = false
    private var found: (evidence: [Evidence], log: [String]) = ([], [])

    init(device: TestDevice, filesystem: ScratchFilesystem, options: CaseOptions) {
        self.device = device
        self.filesystem = filesystem
        self.options = options
    }

    private var disk: EmulatedDisk? { device.writeLogPath == nil || searched ? nil : device.disk }

    /// `changes`: what the step did, for the names it left pending.
    func snapshot(_ model: ContentModel, after step: String, changes: [ModelChange] = []) {
        guard let disk else { return }
        let pending = CrashExpectation.pendingNames(snapshots.last?.pendingNames ?? [], after: changes)
        snapshots.append(.init(position: disk.writeLogRecords.count, model: model, step: step, pendingNames: pending))
    }

    /// Searches once; `report` hands what it found to the case's result.
    func search() {
        guard let disk, let size = device.image?.size, !snapshots.isEmpty else { return }
        searched = true
        let search = CrashStateSearch(disk: disk, kind: filesystem.kind, mountOptions: filesystem.mountOptions,
                                      directory: device.directory, options: options)
        found = search.run(snapshots: snapshots, diskSize: size)
    }

    func report(into result: inout TestResult) {
        result.log += found.log
        result.evidence += found.evidence
        found = ([], [])
    }
}
