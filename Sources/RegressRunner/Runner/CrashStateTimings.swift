/// Where a crash-state search spends its time, phase by phase, summed over the states it checked: the
/// search's log says it, so that a slow search shows what to make faster (bench/crash-states prints it).
struct CrashStateTimings: Sendable {
    enum Phase: String, CaseIterable, Sendable {
        case image = "image", attach = "attach", mount = "mount", verify = "verify", unmount = "unmount"
        case fsck = "fsck", rollback = "rollback"
    }

    private(set) var seconds: [Phase: Double] = [:]
    private(set) var states = 0

    /// Runs `body`, adding its wall time to `phase`.
    mutating func measure<T>(_ phase: Phase, _ body: () throws -> T) rethrows -> T {
        let started = monotonicSeconds()
        defer { seconds[phase, default: 0] += monotonicSeconds() - started }
        return try body()
    }

    mutating func countState() { states += 1 }

    mutating func add(_ other: CrashStateTimings) {
        for (phase, time) in other.seconds { seconds[phase, default: 0] += time }
        states += other.states
    }

    /// `image 1.2 ms, attach 0.8 ms, …` a state, in the phases' order.
    var perState: String {
        guard states > 0 else { return "no state checked" }
        return Phase.allCases.compactMap { phase in
            seconds[phase].map { "\(phase.rawValue) \(formatMilliseconds($0 / Double(states))) ms" }
        }.joined(separator: ", ")
    }

    private func formatMilliseconds(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10_000).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
