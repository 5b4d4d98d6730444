/// How a plain run of a test's steps can be made to leave the disk holding one crash state (issue 11.3):
/// run the steps up to the one during which the state's epoch ended, with the writes the state left out
/// dropped (`drop-writes` of their disk ranges, set before the first of them), then cut the power.
///
/// The state is the durable prefix plus some writes of its epoch. After the last step every write not
/// dropped that an honoured flush covered is durable; so the writes to lose are the epoch's writes the
/// state left out and every write after the epoch's end up to the step's end (a btrfs fsync flushes its log
/// tree, then writes its superblock in an epoch of its own). Disk ranges are coarser than writes, and a
/// step is coarser than a flush: `inexact` says where the faults cannot say exactly what the state kept.
/// Whether the filesystem writes the same blocks in the same order again is for a run to tell.
public struct CrashStateCut: Equatable, Codable, Sendable {
    /// Index, into the test's steps, of the last step to run: the one during which the epoch ended.
    public var lastStep: Int
    /// Index of the step before which the drop is set (the first write to lose comes during it).
    public var dropBefore: Int
    /// The disk ranges of the writes to lose, merged where they touch, in disk order.
    public var dropRanges: [ByteRange]
    /// Why the faults may not make the disk hold exactly the state; empty when they do, if the filesystem
    /// writes as it did.
    public var inexact: [String]

    public init(lastStep: Int, dropBefore: Int, dropRanges: [ByteRange], inexact: [String]) {
        self.lastStep = lastStep
        self.dropBefore = dropBefore
        self.dropRanges = dropRanges
        self.inexact = inexact
    }

    /// `records`: the write log as the plan read it; `ranges`: each record's disk range (a flush's is
    /// ignored); `positions`: the log length at each snapshot of the run, where snapshot 0 is taken after
    /// the mount and snapshot k after step k-1. Nil when the state lies before the steps.
    public init?(plan: CrashStatePlan, records: [CrashStatePlan.Record], ranges: [ByteRange], state: CrashStatePlan.State,
                 positions: [Int]) {
        guard positions.count >= 2, records.count == ranges.count else { return nil }
        let epoch = plan.epochs[state.epoch]
        // The step the epoch ended in, and the log length when it was over: the power cut comes there.
        let end = epoch.end ?? records.count
        guard let window = CrashExpectation.window(of: end, in: positions) else { return nil }
        let snapshotAfter = window.after == window.before ? positions.count - 1 : window.after
        let cutAt = positions[snapshotAfter]
        lastStep = snapshotAfter - 1
        var inexact: [String] = []

        let kept = Set(plan.logIndices(of: state))
        let chosen = Set(state.writes.map { epoch.writes[$0] })
        // Writes in flight at one of the test's own power cuts (an epoch that a restart ended) are lost by
        // that cut when the run comes by it: nothing to drop for them.
        let lostAtACut = Set(plan.epochs.filter { other in
            other.number != state.epoch && other.end.map { records[$0].kind == .restart } == true
        }.flatMap(\.writes))
        // Every write the run makes before the cut that the state does not hold must be lost.
        let lost = (0..<min(cutAt, records.count)).filter { index in
            let record = records[index]
            return record.kind == .write && !record.dropped && !record.afterPowerCut && !kept.contains(index) && !lostAtACut.contains(index)
        }
        if epoch.end.map({ $0 >= cutAt }) ?? true, !chosen.isEmpty {
            inexact.append("the epoch's last flush comes after the last step (during the unmount or the power cut): its writes the state kept are lost with the power cut")
        }
        let keptTooLate = chosen.filter { $0 >= cutAt }.count
        if keptTooLate > 0 { inexact.append("\(keptTooLate) write(s) the state kept come after the last step ends") }

        // The drop is set before the step during which the first write to lose is made.
        let firstLost = lost.first ?? cutAt
        let dropSnapshot = positions.lastIndex { $0 <= firstLost } ?? 0
        dropBefore = min(dropSnapshot, lastStep)
        if firstLost < positions[0] {
            inexact.append("the epoch begins during the mount, before any step: its first writes cannot be dropped")
        }
        let drops = CrashStateCut.merged(lost.map { ranges[$0] }.filter { $0.length > 0 })
        dropRanges = drops
        // A kept write made while the drop is set that touches a dropped range is dropped too (whole).
        let dropFrom = positions[min(dropSnapshot, lastStep)]
        let caught = kept.filter { index in
            index >= dropFrom && index < cutAt && CrashStateCut.overlaps(ranges[index], drops)
        }.count
        if caught > 0 {
            inexact.append("\(caught) write(s) the state kept touch the dropped ranges and are dropped too")
        }
        self.inexact = inexact
    }

    /// Ranges sorted by offset, those that overlap or touch merged into one.
    public static func merged(_ ranges: [ByteRange]) -> [ByteRange] {
        var result: [ByteRange] = []
        for range in ranges.sorted(by: { ($0.offset, $0.length) < ($1.offset, $1.length) }) {
            if let last = result.last, range.offset <= last.end {
                result[result.count - 1].length = max(last.end, range.end) - last.offset
            } else {
                result.append(range)
            }
        }
        return result
    }

    static func overlaps(_ range: ByteRange, _ sorted: [ByteRange]) -> Bool {
        range.length > 0 && sorted.contains { $0.offset < range.end && range.offset < $0.end }
    }
}
