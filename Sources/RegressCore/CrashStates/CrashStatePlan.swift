/// Which crash states a write log allows, and which of them a search checks (issue 11).
///
/// A disk with a volatile write cache may lose, at a power cut, any of the writes that no flush has covered
/// yet, in any combination: writes within an epoch reach the media in any order, but nothing written before
/// a flush may land after it. So a crash state is the durable prefix (every write of the epochs before E)
/// plus a subset of epoch E's writes. CrashMonkey's permuter enumerates them the same way.
///
/// The emulated disk's faults change what the media got, so they change the states: a flush the lying
/// cache ignored is no boundary (what came before it may still be lost), nor is a reordered flush (what
/// came after it may land before what came before it: the two epochs are one), a dropped write never lands.
/// A power cut ends an epoch too: the writes in flight then never land, and the log goes on (after a
/// restart record) with the writes of the disk that came back with the durable image.
public struct CrashStatePlan: Sendable {
    /// One record of the write log, as the plan needs it (the runner maps the disk's records to these).
    public struct Record: Equatable, Sendable {
        /// `restart`: the power came back after a cut.
        public enum Kind: Sendable { case write, flush, restart }
        public var kind: Kind
        public var dropped = false, ignored = false, afterPowerCut = false, reordered = false
        public init(kind: Kind, dropped: Bool = false, ignored: Bool = false, afterPowerCut: Bool = false, reordered: Bool = false) {
            self.kind = kind
            self.dropped = dropped
            self.ignored = ignored
            self.afterPowerCut = afterPowerCut
            self.reordered = reordered
        }
    }

    /// The writes between two honoured flushes.
    public struct Epoch: Equatable, Sendable {
        public var number: Int
        /// Log indices of the writes that reached the disk's cache (dropped ones left out), in log order.
        public var writes: [Int]
        /// Log index of the flush that ends the epoch; nil for the writes after the last flush.
        public var end: Int?
        /// Log indices of every write that lands on the media before this epoch starts, in log order. The
        /// prefix of a later epoch extends an earlier one's (it only ever grows).
        public var durablePrefix: [Int]
    }

    /// One state to check: epoch `epoch`'s prefix plus the writes at these indices within the epoch.
    public struct State: Hashable, Sendable {
        public var epoch: Int
        public var writes: [Int]
        public init(epoch: Int, writes: [Int]) {
            self.epoch = epoch
            self.writes = writes
        }
    }

    public let epochs: [Epoch]

    /// Cuts the log into epochs. Records after a power cut (until the restart) never reach the media and are left out.
    public init(records: [Record]) {
        var epochs: [Epoch] = [], prefix: [Int] = [], current: [Int] = []
        for (index, record) in records.enumerated() where !record.afterPowerCut {
            switch record.kind {
            case .write:
                if !record.dropped { current.append(index) }
            case .flush:
                guard !record.ignored && !record.reordered else { continue }
                epochs.append(Epoch(number: epochs.count, writes: current, end: index, durablePrefix: prefix))
                prefix += current
                current = []
            case .restart:
                // The writes in flight at the cut give crash states of their own, but never reached the media.
                if !current.isEmpty { epochs.append(Epoch(number: epochs.count, writes: current, end: index, durablePrefix: prefix)) }
                current = []
            }
        }
        if !current.isEmpty { epochs.append(Epoch(number: epochs.count, writes: current, end: nil, durablePrefix: prefix)) }
        self.epochs = epochs
    }

    /// The log indices a state's image holds, in log order.
    public func logIndices(of state: State) -> [Int] {
        let epoch = epochs[state.epoch]
        return epoch.durablePrefix + state.writes.map { epoch.writes[$0] }
    }

    /// The states to check for the chosen epochs, at most `limit`: every epoch's prefix alone first, then each
    /// single write on its prefix, then up to `randomSubsets` seeded random subsets an epoch (all subsets
    /// when there are fewer). The cheap, systematic states come first, so a limit cuts the random ones;
    /// a round the limit cuts keeps states spread evenly over it, so that a test with thousands of flushes
    /// (filling a filesystem) still has its last steps checked, not only its first.
    /// Returns the states and how many were left out by the limit.
    public func states(epochs chosen: [Int], randomSubsets: Int, limit: Int, seed: UInt64) -> (states: [State], skipped: Int) {
        var rounds: [[State]] = [[], [], []]
        var generator = SplitMix64(seed: seed)
        for number in chosen {
            let count = epochs[number].writes.count
            var seen: Set<[Int]> = [[]]
            rounds[0].append(State(epoch: number, writes: []))
            for write in 0..<count {
                rounds[1].append(State(epoch: number, writes: [write]))
                seen.insert([write])
            }
            rounds[2] += CrashStatePlan.subsets(of: count, count: randomSubsets, excluding: seen, using: &generator)
                .map { State(epoch: number, writes: $0) }
        }
        var chosenStates: [State] = [], skipped = 0
        for round in rounds {
            let room = max(0, limit - chosenStates.count)
            if round.count <= room {
                chosenStates += round
            } else {
                // Both ends included: the first and the last state of the round.
                chosenStates += (0..<room).map { round[room == 1 ? round.count - 1 : $0 * (round.count - 1) / (room - 1)] }
                skipped += round.count - room
            }
        }
        return (chosenStates, skipped)
    }

    /// Up to `count` distinct subsets of 0..<n (ascending indices) not in `excluding`: all of them when few
    /// enough exist, otherwise random ones, each write kept with probability one half.
    static func subsets(of n: Int, count: Int, excluding: Set<[Int]>, using generator: inout SplitMix64) -> [[Int]] {
        guard count > 0, n > 1 else { return [] }
        if n < 20, (1 << n) - excluding.count <= count {
            return (0..<(1 << n)).map { mask in (0..<n).filter { mask & (1 << $0) != 0 } }.filter { !excluding.contains($0) }
        }
        var seen = excluding, found: [[Int]] = []
        var attempts = 0
        while found.count < count && attempts < count * 20 {
            attempts += 1
            var subset: [Int] = []
            var bits = generator.next(), left = 64
            for index in 0..<n {
                if left == 0 { bits = generator.next(); left = 64 }
                if bits & 1 == 1 { subset.append(index) }
                bits >>= 1
                left -= 1
            }
            if seen.insert(subset).inserted { found.append(subset) }
        }
        return found
    }
}
