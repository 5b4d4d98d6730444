/// A failing crash state turned into a tests.d file (issue 11.3), the pure part: which pieces a reproducer
/// is made of (the test's steps up to the cut, the dropped disk ranges), the text of the test that a
/// choice of those pieces makes, and whether a run of it failed the way the state did. The runner runs the
/// candidates and shrinks them with `DeltaDebugging` over the pieces.
public struct CrashStateReproducer: Sendable {
    /// One piece a shrink may remove: a step of the original test, or one dropped disk range.
    public enum Piece: Hashable, Sendable {
        case step(Int)
        case drop(ByteRange)
    }

    /// What came of turning a failing state into a test, for the report.
    public struct Outcome: Equatable, Codable, Sendable {
        /// The file name in the case's results directory (`crash-state-1.test`).
        public var fileName: String
        /// The test's text; written only when `reproduced`.
        public var text: String
        public var steps: Int
        /// A run of the test failed the way the state did.
        public var reproduced: Bool
        /// How many runs the shrink made, and whether it reached a 1-minimal test.
        public var runs: Int
        public var minimal: Bool
        /// Why it may not be exact, or why it did not reproduce.
        public var notes: [String]

        public init(fileName: String, text: String, steps: Int, reproduced: Bool, runs: Int, minimal: Bool, notes: [String]) {
            self.fileName = fileName
            self.text = text
            self.steps = steps
            self.reproduced = reproduced
            self.runs = runs
            self.minimal = minimal
            self.notes = notes
        }

        /// `reproducer crash-state-1.test (5 steps, fails when run)`, or why there is none.
        public var description: String {
            reproduced ? "reproducer \(fileName) (\(steps) steps, fails when run)"
                : "no reproducer: a test of \(steps) steps that loses the writes the state left out did not fail when run"
                    + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
        }
    }

    /// How a failure shows, to tell whether a run failed the same way.
    public enum Signature: Equatable, Sendable {
        /// A file did not hold what it was owed (missing, wrong size or bytes).
        case verify(file: String)
        /// The state did not mount (log recovery failed).
        case mount
        /// The read-only fsck rejected it.
        case fsck

        /// What a run can show of a crash-state problem; nil for one it cannot tell apart (a state that
        /// could not be rebuilt, a root that would not open, an unmount that failed).
        public init?(problem: CrashStateProblem) {
            switch problem {
            case .verify(let result): self = .verify(file: result.file)
            case .unmountable: self = .mount
            case .fsck: self = .fsck
            case .rebuildFailed, .rootUnopenable, .unmountFailed: return nil
            }
        }

        /// Whether a run's evidence shows this failure. A power cut whose recovery mount fails is the
        /// runner's `power-cut: recovery failed`.
        public func shows(in evidence: [Evidence]) -> Bool {
            evidence.contains { item in
                switch (self, item) {
                case (.verify(let file), .verified(let result)): return !result.passed && result.file == file
                case (.mount, .environment(let message)): return message.contains("recovery failed")
                case (.fsck, .fsckFailed): return true
                default: return false
                }
            }
        }
    }

    public let test: TestDefinition
    public let filesystem: FilesystemKind
    public let failure: CrashStateFailure
    public let cut: CrashStateCut

    public init(test: TestDefinition, filesystem: FilesystemKind, failure: CrashStateFailure, cut: CrashStateCut) {
        self.test = test
        self.filesystem = filesystem
        self.failure = failure
        self.cut = cut
    }

    /// Every piece, in the order a shrink tries them: the steps up to the cut (a power cut among them is
    /// the end: the reproducer has its own), then the dropped ranges.
    public var pieces: [Piece] {
        let steps = (0...cut.lastStep).filter { test.steps[$0].command != .powerCut || $0 < cut.lastStep }
        return steps.map(Piece.step) + cut.dropRanges.map(Piece.drop)
    }

    /// The files the reproducer verifies after its power cut: the one the state's problem named.
    public var verifiedFiles: [String] {
        failure.problem.file.map { [$0] } ?? []
    }

    /// The steps a choice of pieces makes: the chosen steps in order, the chosen ranges dropped from before
    /// the step where the first lost write was made (and again after each of the test's own steps that
    /// end or replace the drop), then a power cut and a `verify` of what was owed.
    public func steps(_ chosen: [Piece]) -> [String] {
        let drops = chosen.compactMap { if case .drop(let range) = $0 { return range } else { return nil } }
        let indices = chosen.compactMap { if case .step(let index) = $0 { return index } else { return nil } }.sorted()
        var lines: [String] = []
        var ownDrops: [ByteRange] = []   // the test's own `drop-writes` in force
        var dropSet = false
        func setDrop() {
            guard !drops.isEmpty else { return }
            lines.append("drop-writes " + (ownDrops + drops).map { "\($0.offset) \($0.length)" }.joined(separator: " "))
            dropSet = true
        }
        for index in indices {
            if index >= cut.dropBefore && !dropSet { setDrop() }
            let step = test.steps[index]
            lines.append(step.text)
            // The test's own drop-writes replace the drop; a clear-faults or a power cut ends them.
            if case .dropWrites(let ranges) = step.command {
                ownDrops = ranges
                if dropSet { lines.removeLast(); setDrop() }
            } else if step.command == .clearFaults || step.command == .powerCut {
                ownDrops = []
                if dropSet { setDrop() }
            }
        }
        if !dropSet { setDrop() }
        lines.append("power-cut")
        let files = verifiedFiles
        lines.append(files.isEmpty ? "verify" : "verify " + files.joined(separator: " "))
        return lines
    }

    /// Whether the original test breaks the disk's promises itself (a fault step): its crash states are a
    /// faulty disk's, and so may its reproducer's be.
    public var testHasFaults: Bool { test.steps.contains { $0.spec.category == .fault } }

    /// Whether a choice of pieces still reproduces a crash a power cut alone could cause. The drop stands for
    /// a power cut during the last step, so (1) what `verify` checks must have been made durable by an
    /// earlier step, not by the last one (its promise is void when the power fails during it), and (2) no
    /// step after the one that made the first lost write, before the last step, may make anything durable
    /// (that would make the disk lose writes a finished step's flush covered). A shrink that breaks either
    /// rule turns a filesystem's bug into a disk that loses acknowledged writes, which fails on any
    /// filesystem. A choice without drops is a plain test, and a test with faults of its own is a faulty
    /// disk's already: both are always faithful.
    public func isFaithful(_ chosen: [Piece]) -> Bool {
        guard !testHasFaults, chosen.contains(where: { if case .drop = $0 { return true } else { return false } }) else { return true }
        let indices = chosen.compactMap { if case .step(let index) = $0 { return index } else { return nil } }.sorted()
        guard !indices.isEmpty else { return true }
        let before = indices.dropLast()
        let promises = StepPromise.promises(of: test.steps)
        for file in verifiedFiles where !before.contains(where: { promises[$0].makesDurable(file) }) {
            return false
        }
        return !before.contains { $0 > cut.dropBefore && promises[$0].makesDurable(nil) }
    }

    /// The test file of a choice of pieces.
    public func text(_ chosen: [Piece]) -> String {
        let fs = filesystem.rawValue
        var header = [
            "# A crash state `regress run --crash-states` found in \(test.name) on \(fs):",
            "#   \(failure.description)",
            "# The steps up to the one during which the state's epoch ended, with the writes the state left out",
            "# dropped (drop-writes of their disk ranges), then a power cut: the disk keeps what the state kept,",
            "# if the filesystem writes the same blocks as in that run.",
        ]
        header += cut.inexact.map { "# Not exact: \($0)." }
        if testHasFaults && chosen.contains(where: { if case .drop = $0 { return true } else { return false } }) {
            header.append("# The test's own disk breaks its promises: the drop may lose writes a finished step's flush acknowledged.")
        }
        header += [
            "summary: crash state epoch \(failure.epoch) + \(failure.writesApplied.count) of \(failure.writesInEpoch) writes of \(test.name) on \(fs) loses what was owed",
            "groups: power-cut",
            "filesystems: \(fs)",
            "size: \(Size.format(test.imageSize))",
        ]
        if let mkfs = test.mkfsOptions[filesystem], !mkfs.isEmpty { header.append("mkfs.\(fs): " + mkfs.joined(separator: " ")) }
        if let mount = test.mountOptions[filesystem], !mount.isEmpty { header.append("mount.\(fs): " + mount) }
        if !test.requires.isEmpty { header.append("requires: " + test.requires.map(\.rawValue).sorted().joined(separator: " ")) }
        if let timeout = test.timeoutSeconds { header.append("timeout: \(timeout)") }
        return (header + ["", "steps:"] + steps(chosen)).joined(separator: "\n") + "\n"
    }
}
