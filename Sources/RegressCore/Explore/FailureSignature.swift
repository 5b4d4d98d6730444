/// How a case failed, coarsely enough that a shrunk workload can be said to fail *the same way* as the one
/// explore found, and finely enough that shrinking cannot slip from one bug to another (a candidate that
/// lost the step which made an offset valid now fails with EINVAL: a different failure, not a smaller one).
public struct FailureSignature: Equatable, Sendable, CustomStringConvertible {
    /// One kind of problem a failing case shows.
    public enum Problem: Hashable, Sendable, Comparable, CustomStringConvertible {
        /// A step's outcome was not its expectation: the command (`fsync`, not the file) and what it got
        /// (an errno name, or `success` where an errno was required).
        case unexpectedOutcome(command: String, got: String)
        /// A file did not hold what it was owed: missing, the wrong size or the wrong bytes, whether
        /// `verify` found it or a crash state did (the same broken promise, seen at another moment).
        case lostData
        /// A file could not be read back (EIO and the like).
        case unreadable
        /// A crash state the filesystem could not mount.
        case unmountable
        /// fsck rejected the filesystem, after the test or in a crash state.
        case fsck
        /// The kernel logged a warning, BUG, oops…
        case kernelWarning
        case timeout
        /// Anything else a crash state reported (it could not be rebuilt…).
        case otherCrashState
        /// fsck did not get to check the filesystem: btrfs check stats every mounted btrfs's device, and on
        /// a machine running other tests one may vanish under it ("could not check mount status: No such
        /// device or address"). The machine's doing, never the filesystem's: explore does not shrink it.
        case fsckCouldNotRun

        public var description: String {
            switch self {
            case .unexpectedOutcome(let command, let got): return "\(command) got \(got)"
            case .lostData: return "lost data"
            case .unreadable: return "unreadable file"
            case .unmountable: return "unmountable crash state"
            case .fsck: return "fsck"
            case .kernelWarning: return "kernel warning"
            case .timeout: return "timeout"
            case .otherCrashState: return "crash state"
            case .fsckCouldNotRun: return "fsck could not run"
            }
        }
    }

    public let verdict: Verdict
    public let problems: Set<Problem>

    public init(verdict: Verdict, problems: Set<Problem>) {
        self.verdict = verdict
        self.problems = problems
    }

    public init(_ result: TestResult) {
        var problems: Set<Problem> = []
        for evidence in result.evidence {
            switch evidence {
            case .stepFailed(let failure):
                let command = failure.step.split(separator: " ").first.map(String.init) ?? failure.step
                problems.insert(.unexpectedOutcome(command: command, got: failure.got?.name ?? "success"))
            case .verified(let verification) where !verification.passed:
                problems.insert(verification.readError == nil ? .lostData : .unreadable)
            case .crashState(let failure):
                problems.insert(FailureSignature.classify(crashStateProblem: failure.problem))
            case .fsckFailed(let output): problems.insert(FailureSignature.fsckCouldNotRun(output) ? .fsckCouldNotRun : .fsck)
            case .kernelLog: problems.insert(.kernelWarning)
            case .timedOut: problems.insert(.timeout)
            default: break
            }
        }
        self.init(verdict: result.verdict, problems: problems)
    }

    /// The kind of a crash state's problem: a broken promise is the same one whether `verify` or a crash
    /// state found it.
    static func classify(crashStateProblem problem: CrashStateProblem) -> Problem {
        switch problem {
        case .verify(let result): return result.readError == nil ? .lostData : .unreadable
        case .unmountable: return .unmountable
        case .fsck(let output): return fsckCouldNotRun(output) ? .fsckCouldNotRun : .fsck
        case .rebuildFailed, .rootUnopenable, .unmountFailed: return .otherCrashState
        }
    }

    static func fsckCouldNotRun(_ output: String) -> Bool { output.contains("could not check mount status") }

    /// Every problem is the machine's (fsck could not run): nothing to shrink.
    public var isEnvironmental: Bool { !problems.isEmpty && problems.allSatisfy { $0 == .fsckCouldNotRun } }

    /// Whether `candidate` fails the same way as this (the original): the same verdict, at least one of
    /// the original's kinds of problem, and no kind the original did not show. Fewer kinds are fine (a
    /// smaller workload may lose the data without also confusing fsck); a new kind is another failure.
    public func isReproduced(by candidate: FailureSignature) -> Bool {
        candidate.verdict == verdict && !candidate.problems.isEmpty && candidate.problems.isSubset(of: problems)
    }

    public var description: String {
        "\(verdict.rawValue): " + (problems.isEmpty ? "no problem" : problems.sorted().map(\.description).joined(separator: ", "))
    }
}
