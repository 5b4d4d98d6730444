/// After delta debugging has removed every step it can, the numbers of the steps left are made smaller
/// and rounder: lengths and sizes halved or cut to one block, offsets moved to 0 or rounded down to a
/// block. A change is kept when the workload still fails the same way (`stillFails`), tried again until
/// no change helps. Every change makes a number smaller, so it ends; `budget` bounds the calls.
public enum RangeShrinking {
    public struct Outcome {
        public var steps: [WorkloadStep]
        /// How many times `stillFails` ran.
        public var tries: Int
        /// False when the budget ran out first.
        public var complete: Bool
    }

    public static func minimize(_ steps: [WorkloadStep], budget: Int = 100,
                                stillFails: ([WorkloadStep]) throws -> Bool) rethrows -> Outcome {
        var current = steps
        var tries = 0
        var changed = true
        while changed {
            changed = false
            for index in current.indices {
                for simpler in simplifications(of: current[index]) {
                    guard tries < budget else { return Outcome(steps: current, tries: tries, complete: false) }
                    var candidate = current
                    candidate[index] = simpler
                    tries += 1
                    if try stillFails(candidate) {
                        current = candidate
                        changed = true
                        break
                    }
                }
            }
        }
        return Outcome(steps: current, tries: tries, complete: true)
    }

    /// Simpler forms of `step`, the boldest first; each has one number smaller than `step`'s and none larger.
    public static func simplifications(of step: WorkloadStep) -> [WorkloadStep] {
        func with(_ operation: WorkloadOperation) -> WorkloadStep { WorkloadStep(operation, mayRunOutOfSpace: step.mayRunOutOfSpace) }
        switch step.operation {
        case .write(let file, let offset, let length, let pattern, let direct):
            return variants(offset, length, aligned: direct) { .write(file: file, offset: $0, length: $1, pattern: pattern, direct: direct) }.map(with)
        case .truncate(let file, let size):
            return smaller(size, aligned: false, least: 0).map { with(.truncate(file: file, size: $0)) }
        case .allocate(let file, let offset, let length, let keep):
            return variants(offset, length, aligned: false) { .allocate(file: file, offset: $0, length: $1, keepSize: keep) }.map(with)
        case .punch(let file, let offset, let length):
            return variants(offset, length, aligned: false) { .punch(file: file, offset: $0, length: $1) }.map(with)
        case .zero(let file, let offset, let length, let keep):
            return variants(offset, length, aligned: false) { .zero(file: file, offset: $0, length: $1, keepSize: keep) }.map(with)
        case .collapse(let file, let offset, let length):
            return variants(offset, length, aligned: true) { .collapse(file: file, offset: $0, length: $1) }.map(with)
        case .insert(let file, let offset, let length):
            return variants(offset, length, aligned: true) { .insert(file: file, offset: $0, length: $1) }.map(with)
        case .reflink(let file, let source, let sourceOffset, let offset, let length):
            return (variants(offset, length, aligned: true) { .reflink(file: file, source: source, sourceOffset: sourceOffset, offset: $0, length: $1) }
                + smaller(sourceOffset, aligned: true, least: 0).map { .reflink(file: file, source: source, sourceOffset: $0, offset: offset, length: length) })
                .map(with)
        case .dedupe(let file, let source, let sourceOffset, let offset, let length, let differs):
            return (variants(offset, length, aligned: true) { .dedupe(file: file, source: source, sourceOffset: sourceOffset, offset: $0, length: $1, differs: differs) }
                + smaller(sourceOffset, aligned: true, least: 0).map { .dedupe(file: file, source: source, sourceOffset: $0, offset: offset, length: length, differs: differs) })
                .map(with)
        default:
            return []
        }
    }

    /// Smaller lengths first (they shrink what the kernel does most), then smaller offsets.
    static func variants(_ offset: UInt64, _ length: UInt64, aligned: Bool,
                         _ make: (UInt64, UInt64) -> WorkloadOperation) -> [WorkloadOperation] {
        smaller(length, aligned: aligned, least: aligned ? BlockUnits.standard.block : 1).map { make(offset, $0) }
            + smaller(offset, aligned: aligned, least: 0).map { make($0, length) }
    }

    /// Values below `value`, simplest first: `least`, one block, half (rounded down to a block where
    /// `aligned`), `value` rounded down to a block. Never below `least`, each distinct.
    static func smaller(_ value: UInt64, aligned: Bool, least: UInt64) -> [UInt64] {
        let block = BlockUnits.standard.block
        let half = aligned ? value / 2 / block * block : value / 2
        var result: [UInt64] = []
        for candidate in [least, block, half, value / block * block]
            where candidate >= least && candidate < value && !result.contains(candidate) && (!aligned || candidate % block == 0) {
            result.append(candidate)
        }
        return result
    }
}
