/// What a `--crash-states` search did, as counts: what the reports show next to the verdict (`159 crash
/// states, 0 failed`) and explore adds up. Every state planned is checked, found identical to one checked,
/// or skipped; a search stopped by the machine checks fewer.
public struct CrashStateSummary: Equatable, Codable, Sendable, CustomStringConvertible {
    /// The states the write log allows during the test's steps, before any limit.
    public var planned: Int
    /// Rebuilt, mounted, verified (and fsck'ed).
    public var checked: Int
    /// Not checked: their image is the same as one checked, so they fare as it does.
    public var identical: Int
    /// Not checked: over the limit of states, or left out to keep within the time budget.
    public var skipped: Int
    /// Checked states that failed (the first few are evidence; all are in the log).
    public var failed: Int

    public init(planned: Int, checked: Int, identical: Int, skipped: Int, failed: Int) {
        self.planned = planned
        self.checked = checked
        self.identical = identical
        self.skipped = skipped
        self.failed = failed
    }

    /// `159 crash states, 0 failed`: the human report's and the progress line's words.
    public var description: String { "\(checked) crash state\(checked == 1 ? "" : "s"), \(failed) failed" }

    /// `159 checked, 0 failed, 3 identical to one checked, 0 skipped, of 162 planned`: every count, for a
    /// diagnostic line.
    public var details: String {
        "\(checked) checked, \(failed) failed, \(identical) identical to one checked, \(skipped) skipped, of \(planned) planned"
    }
}
