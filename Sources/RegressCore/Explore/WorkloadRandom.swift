/// The random choices behind a generated workload, drawn from SplitMix64 with our own arithmetic: the
/// standard library's `random(in:using:)` may change its algorithm between Swift releases, and a seed must
/// give the same workload, byte for byte, on every machine and toolchain.
struct WorkloadRandom {
    private var generator: SplitMix64

    /// Workload `index` of `seed`: the pair is mixed first, so that seed 1's workload 2 is not seed 2's
    /// workload 1, and each workload can be made alone, without the ones before it.
    init(seed: UInt64, index: Int) {
        var mix = SplitMix64(seed: seed ^ 0x6578_706c_6f72_6521)   // "explore!"
        let first = mix.next()
        var second = SplitMix64(seed: first ^ UInt64(truncatingIfNeeded: index))
        generator = SplitMix64(seed: second.next())
    }

    /// 0 ..< bound (bound > 0), by the multiply-high method (Lemire): no division, a bias below 2^-32 for
    /// the small bounds drawn here.
    mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        return bound.multipliedFullWidth(by: generator.next()).high
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(below(UInt64(range.upperBound - range.lowerBound + 1)))
    }

    mutating func value(_ range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `percent` / 100.
    mutating func percent(_ percent: UInt64) -> Bool { below(100) < percent }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(below(UInt64(items.count)))] }

    /// One of `choices`, each as likely as its weight.
    mutating func weighted<T>(_ choices: [(T, Int)]) -> T {
        var roll = Int(below(UInt64(choices.map(\.1).reduce(0, +))))
        for (choice, weight) in choices {
            if roll < weight { return choice }
            roll -= weight
        }
        return choices[choices.count - 1].0
    }
}
