/// A crash state the filesystem did not survive: it would not mount, fsck rejected it, or a file did not
/// hold what it was owed. Names the state so that it can be rebuilt: the epoch, the writes of it applied.
public struct CrashStateFailure: Equatable, Codable, Sendable, CustomStringConvertible {
    public var epoch: Int
    /// Indices, within the epoch, of the writes that reached the media on top of the durable prefix.
    public var writesApplied: [Int]
    public var writesInEpoch: Int
    /// The step during which the epoch ended (its text and location), as the owed content is that step's.
    public var step: String
    public var problem: CrashStateProblem
    /// How a run of the test's steps can be made to leave this state (set by the search).
    public var cut: CrashStateCut?
    /// The tests.d file made of it, when one was made (issue 11.3).
    public var reproducer: CrashStateReproducer.Outcome?

    public init(epoch: Int, writesApplied: [Int], writesInEpoch: Int, step: String, problem: CrashStateProblem) {
        self.epoch = epoch
        self.writesApplied = writesApplied
        self.writesInEpoch = writesInEpoch
        self.step = step
        self.problem = problem
    }

    /// `crash state epoch 3 + writes [2, 5] of 7 (during 'fsync f' at t:9:1): verify f: bytes …`
    public var description: String {
        let writes = writesApplied.isEmpty ? "no writes" : "writes \(writesApplied)"
        return "crash state epoch \(epoch) + \(writes) of \(writesInEpoch) (during \(step)): \(problem)"
            + (reproducer.map { "; " + $0.description } ?? "")
    }
}
