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
/// filesystem logs 512 MiB). Instead each worker (`CrashStateWorker`) keeps a base image holding the
/// durable prefix of the epoch at hand, grown epoch by epoch, under an emulated disk whose cache lies: a
/// state's writes, the mount's log recovery and fsck all stay in its undo log, and a roll-back returns the
/// base when the state is done. States whose images are identical are checked once (`CrashStateIdentity`).
/// Workers check states side by side (`crashStatesJobs`): every state carries the test filesystem's UUID,
/// which ext4 does not mind, xfs mounts with `nouuid` and btrfs (from Linux 6.7, `temp_fsid`) mounts
/// under a temporary fsid; on an older kernel btrfs states are checked one at a time.
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
    /// The write data the workers keep between states, in all.
    static let cacheBudget = 16 << 20

    /// How many states are checked side by side, and why not more.
    func workerCount(states: Int) -> (count: Int, note: String?) {
        let wanted = max(1, min(options.crashStatesJobs ?? Processors.online, states))
        if wanted > 1 && kind == .btrfs && access("/sys/fs/btrfs/features/temp_fsid", F_OK) != 0 {
            return (1, "this kernel's btrfs has no temp_fsid (Linux 6.7): two copies of one filesystem cannot be mounted at once")
        }
        return (wanted, nil)
    }


    /// What a search gives the case: failing states as evidence, its log lines, and its counts.
    struct Found {
        var evidence: [Evidence] = []
        var log: [String] = []
        var summary: CrashStateSummary?
    }

    func run(snapshots: [Snapshot], diskSize: UInt64) -> Found {
        let started = monotonicSeconds()
        let records = disk.writeLogRecords
        let plan = CrashStatePlan(records: records.map(CrashStatePlan.Record.init))
        let positions = snapshots.map(\.position)
        // Epochs that end before the steps start (mkfs, the first mount) owe nothing the model knows.
        let chosen = plan.epochs.filter { ($0.end ?? records.count) >= positions[0] }.map(\.number)
        let (states, skipped) = plan.states(epochs: chosen, randomSubsets: options.crashStates ?? 0,
                                            limit: options.crashStatesLimit, seed: options.crashStatesSeed)
        // Epoch by epoch, so that the bases only grow.
        let ordered = states.enumerated().sorted { ($0.element.epoch, $0.offset) < ($1.element.epoch, $1.offset) }.map(\.element)
        var log = ["crash states: \(records.count) log records, \(plan.epochs.count) epochs, \(chosen.count) during the steps; \(states.count) states to check, \(skipped) skipped by the limit of \(options.crashStatesLimit)"]
        let (jobs, note) = workerCount(states: ordered.count)
        log.append("crash states: \(jobs) at once" + (note.map { " (\($0))" } ?? ""))

        let referencePath = directory + "/crash-reference.img"
        defer { unlink(referencePath) }
        let reference: FileDescriptor
        do {
            reference = try FileDescriptor.open(referencePath, [.readWrite, .create, .exclusive], mode: 0o600)
            try reference.truncate(to: diskSize)
        } catch {
            return Found(evidence: [.environment("crash states: cannot make the reference image \(referencePath): \(error)")], log: log)
        }
        defer { reference.close() }
        let owedFor = { (epochNumber: Int) -> [CrashExpectation.Owed] in
            let window = CrashExpectation.window(of: plan.epochs[epochNumber].end ?? records.count, in: positions) ?? (0, 0)
            return CrashExpectation.expected(before: snapshots[window.before].model, after: snapshots[window.after].model,
                                             pendingNames: snapshots[window.before].pendingNames)
        }
        let schedule = CrashStateSchedule(ordered: ordered, plan: plan, records: records, reference: reference,
                                          cache: CrashStateWriteCache(disk: disk, records: records, budget: 0),
                                          budget: options.crashStatesSeconds, started: started, owedFor: owedFor)
        // xfs refuses a second mount of one UUID unless told; the states are copies of one filesystem.
        let stateMountOptions = jobs > 1 && kind == .xfs ? [mountOptions, "nouuid"].filter { !$0.isEmpty }.joined(separator: ",") : mountOptions
        let timings = Locked(CrashStateTimings())
        let workerNumbers = Locked(0)  // a replaced worker's successor gets a new number: its directories are fresh
        runOnThreads(jobs) { _ in
            var worker: CrashStateWorker?
            defer {
                if let worker { timings.withLock { $0.add(worker.timings) }; worker.close() }
            }
            while let job = schedule.nextJob() {
                do {
                    if worker == nil {
                        worker = try CrashStateWorker(number: workerNumbers.withLock { number in defer { number += 1 }; return number },
                                                      directory: directory, diskSize: diskSize, kind: kind,
                                                      mountOptions: stateMountOptions, checkFilesystem: options.checkFilesystem,
                                                      cache: CrashStateWriteCache(disk: disk, records: records, budget: CrashStateSearch.cacheBudget / jobs))
                    }
                    try worker!.grow(to: job.state.epoch, plan: plan)
                    let (problem, usable) = try worker!.check(job.logIndices, owed: job.owed)
                    schedule.finish(job, problem: problem)
                    if !usable {
                        timings.withLock { $0.add(worker!.timings) }
                        worker!.close()
                        worker = nil
                    }
                } catch {
                    schedule.stop(because: "crash states: \(error)")
                    return
                }
            }
        }
        log += schedule.log

        // The failures in plan order, whichever worker found them.
        var evidence: [Evidence] = [], failures = 0
        var identicalOf: [Int: [[Int]]] = [:]
        for (index, first) in schedule.identicalTo.sorted(by: { $0.key < $1.key }) { identicalOf[first, default: []].append(ordered[index].writes) }
        for index in schedule.results.keys.sorted() {
            guard let problem = schedule.results[index]! else { continue }
            failures += 1
            let state = ordered[index]
            let epoch = plan.epochs[state.epoch]
            let window = CrashExpectation.window(of: epoch.end ?? records.count, in: positions) ?? (0, 0)
            let step = window.after == window.before ? "the final unmount" : snapshots[window.after].step
            var failure = CrashStateFailure(epoch: state.epoch, writesApplied: state.writes, writesInEpoch: epoch.writes.count,
                                            step: step, problem: problem)
            if failures <= CrashStateSearch.reportedFailures {
                // How to make a run leave this state: what a reproducer (CrashStateReproduction) is made of.
                failure.cut = CrashStateCut(plan: plan, records: records.map(CrashStatePlan.Record.init), ranges: records.map(\.range),
                                            state: state, positions: positions)
                evidence.append(.crashState(failure))
            }
            log.append("  " + failure.description)
            if let same = identicalOf[index] {
                log.append("    the same image, not checked again: " + same.map { $0.isEmpty ? "no writes" : "writes \($0)" }.joined(separator: "; "))
            }
        }
        if let abort = schedule.abort { evidence.append(.environment(abort)) }
        let seconds = monotonicSeconds() - started
        let checked = schedule.results.count, identical = schedule.identicalTo.count
        log.append("crash states: time a state: " + timings.withLock { $0.perState })
        let summary = CrashStateSummary(planned: states.count + skipped, checked: checked, identical: identical,
                                        skipped: skipped + schedule.budgetSkipped, failed: failures)
        log.append("crash states: \(checked) checked, \(failures) failed, \(identical) identical to one checked, \(summary.skipped) skipped, in \(formatSeconds(seconds))s (\(checked == 0 ? 0 : Int(Double(checked) / max(seconds, 1e-6))) a second)")
        return Found(evidence: evidence, log: log, summary: summary)
    }
}

/// The case's side of `--crash-states`: the model and the write-log position at each step's end (and at a
/// power cut, whose log goes on on the disk that comes back), and one search over the whole log at the
/// final unmount.
final class CrashStateRecorder {
    let device: TestDevice
    let filesystem: ScratchFilesystem
    let options: CaseOptions
    private var snapshots: [CrashStateSearch.Snapshot] = []
    private var searched = false
    private var found = CrashStateSearch.Found()

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
        if let summary = found.summary { result.crashStates = summary }
        found = CrashStateSearch.Found()
    }
}
