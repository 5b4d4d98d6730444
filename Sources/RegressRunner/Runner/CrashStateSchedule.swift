#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// Which crash state a search's workers check next, shared by them under a lock: the states in epoch
/// order (so that each worker's base only grows), the time budget, the states identical to one already
/// given out (`CrashStateIdentity`, worked out here, in plan order, so that which state of a class is
/// checked does not depend on the workers' timing), and what each checked state gave.
final class CrashStateSchedule: @unchecked Sendable {
    struct Job {
        var index: Int
        var state: CrashStatePlan.State
        /// The state's writes as log indices, in log order.
        var logIndices: [Int]
        var owed: [CrashExpectation.Owed]
    }

    let ordered: [CrashStatePlan.State]
    private let plan: CrashStatePlan
    private let records: [EmulatedDisk.WriteLogRecord]
    private let budget: Double?
    private let started: Double
    private let owedFor: (Int) -> [CrashExpectation.Owed]
    private var mutex = pthread_mutex_t()

    // The reference base: the epoch's durable prefix, as a plain file, to tell a write's changed bytes.
    private let reference: FileDescriptor
    private var referenceEpoch = -1, referencePrefix = 0
    private var cache: CrashStateWriteCache
    private var changed: [Int: [Range<UInt64>]] = [:]
    private var identities: [CrashStateIdentity: Int] = [:]
    private var owedEpoch = -1
    private var owed: [CrashExpectation.Owed] = []

    private var next = 0
    private(set) var completed = 0
    private(set) var stride = 1
    private(set) var budgetSkipped = 0
    private var budgetPlanned = false
    /// State index -> the index of the state given out whose image it has.
    private(set) var identicalTo: [Int: Int] = [:]
    /// State index -> what its check found (nil: it held), for every state checked.
    private(set) var results: [Int: CrashStateProblem?] = [:]
    /// Set once the search cannot go on (an environment problem): no more jobs.
    private(set) var abort: String?
    private(set) var log: [String] = []

    init(ordered: [CrashStatePlan.State], plan: CrashStatePlan, records: [EmulatedDisk.WriteLogRecord], reference: FileDescriptor,
         cache: CrashStateWriteCache, budget: Double?, started: Double, owedFor: @escaping (Int) -> [CrashExpectation.Owed]) {
        self.ordered = ordered
        self.plan = plan
        self.records = records
        self.reference = reference
        self.cache = cache
        self.budget = budget
        self.started = started
        self.owedFor = owedFor
        pthread_mutex_init(&mutex, nil)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// The next state to check, nil when none is left (or the search was aborted).
    func nextJob() -> Job? {
        locked {
            while abort == nil && next < ordered.count {
                let index = next
                next += 1
                planBudget(at: index)
                // Both ends kept: counting from the last state, so that the last epochs are always checked.
                if stride > 1, (ordered.count - 1 - index) % stride != 0 {
                    budgetSkipped += 1
                    continue
                }
                let state = ordered[index]
                let epoch = plan.epochs[state.epoch]
                let logIndices = state.writes.map { epoch.writes[$0] }
                do {
                    let identity = try self.identity(of: state, logIndices: logIndices)
                    if let first = identities[identity] {
                        identicalTo[index] = first
                        continue
                    }
                    identities[identity] = index
                } catch {
                    abort = "crash states: cannot read the reference base: \(error)"
                    return nil
                }
                if owedEpoch != state.epoch {
                    owedEpoch = state.epoch
                    owed = owedFor(state.epoch)
                }
                return Job(index: index, state: state, logIndices: logIndices, owed: owed)
            }
            return nil
        }
    }

    func finish(_ job: Job, problem: CrashStateProblem?) {
        locked {
            results[job.index] = .some(problem)
            completed += 1
        }
    }

    func stop(because problem: String) {
        locked { if abort == nil { abort = problem } }
    }

    /// A time budget (half the case's timeout): after ten states checked, if the rest would not fit, every
    /// k-th state is checked, so that the states checked still reach the last epochs (the fsync at the end
    /// of a test is what matters most), and the case never runs into its own timeout.
    private func planBudget(at index: Int) {
        guard !budgetPlanned, completed >= 10, let budget else { return }
        budgetPlanned = true
        let elapsed = monotonicSeconds() - started
        let perState = elapsed / Double(completed)
        let affordable = max(1, Int((budget - elapsed) / max(perState, 1e-3)))
        let remaining = ordered.count - index
        if remaining > affordable {
            stride = (remaining + affordable - 1) / affordable
            log.append("crash states: the time budget (\(Int(budget))s, half the timeout) allows about \(affordable) more: every \(stride)th state is checked")
        }
    }

    /// The state's identity on the reference base, grown to its epoch first.
    private func identity(of state: CrashStatePlan.State, logIndices: [Int]) throws -> CrashStateIdentity {
        if referenceEpoch != state.epoch {
            let prefix = plan.epochs[state.epoch].durablePrefix
            try cache.apply(Array(prefix[referencePrefix...]), to: reference, keep: false)
            referencePrefix = prefix.count
            referenceEpoch = state.epoch
            // Identities of other epochs never match again (the epoch is part of them).
            changed = [:]
            identities = [:]
        }
        for index in logIndices where changed[index] == nil {
            let record = records[index]
            var base = [UInt8](repeating: 0, count: Int(record.range.length))
            var done = 0
            while done < base.count {
                let got = try base.withUnsafeMutableBytes { buffer in
                    try reference.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: record.range.offset + UInt64(done))
                }
                if got <= 0 { break } // past the end of the file: zeros
                done += got
            }
            let data = record.kind == .zeroing ? nil : try cache.bytes(of: index, keep: false)
            changed[index] = CrashStateIdentity.changedRanges(of: data, over: base, at: record.range.offset)
        }
        return CrashStateIdentity(epoch: state.epoch, writes: logIndices.map { (index: $0, range: records[$0].range.offset..<records[$0].range.offset + records[$0].range.length) }) {
            changed[$0] ?? []
        }
    }
}
