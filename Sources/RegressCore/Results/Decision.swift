/// A case's verdict.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    case pass, fail, skip, error
    /// A failure the known-issues file expects: reported, not hidden, and not a failure of the run.
    case xfail
}

/// The one place where evidence becomes a verdict and its reasons. Pure: the child uses it to decide
/// whether to keep a failed image, the parent for the result it stores and reports; both get the same answer
/// from the same evidence.
public struct Decision: Equatable, Sendable {
    public let verdict: Verdict
    /// One line each, most important first.
    public let reasons: [String]

    public init(_ evidence: [Evidence]) {
        var interruption: [String] = [], errors: [String] = [], failures: [String] = [], skips: [String] = []
        var notes: [String] = [], known: [String] = []
        var timedOut = false, interrupted = false, notRun = false, cleanup: [String] = [], noData = false
        // A killed process's own end says nothing the timeout or the interrupt does not say better.
        let killed = evidence.contains { item in
            switch item {
            case .timedOut, .interrupted: return true
            default: return false
            }
        }
        for item in evidence {
            switch item {
            case .stepFailed(let failure): failures.append("\(failure) at \(failure.location)")
            case .verified(let result): if !result.passed { failures += Decision.describe(result) }
            case .kernelLog(let lines):
                failures.append("kernel log: \(lines.count) warning line(s), first: \(lines.first ?? "")")
            case .fsckFailed(let output):
                let lines = output.split(separator: "\n").dropFirst()
                failures.append("fsck found problems: \(lines.first(where: { !$0.isEmpty }) ?? "")")
            case .crashState(let failure):
                switch failure.problem {
                // The write log or the disk under the state failed: the machine's doing, not the filesystem's.
                case .rebuildFailed: errors.append(failure.description)
                case .unmountable, .rootUnopenable, .verify, .unmountFailed, .fsck: failures.append(failure.description)
                }
            case .notApplicable(let reason): skips.append(reason)
            case .missingBackend(let requirement, let step, let location, let why):
                skips.append("'\(step)' at \(location) needs \(requirement): \(why); the steps before it ran and passed")
            case .environment(let message): errors.append(message)
            case .noDataOperation: noData = true
            case .processEnded(let end):
                guard !killed else { continue }
                switch end {
                case .exited(let code): errors.append("the test's process exited \(code) without a result")
                case .signaled(let signal): errors.append("the test's process was killed by signal \(signal)")
                case .stillRunning: errors.append("the test's process did not end")
                }
            case .timedOut(let seconds, let stuck):
                timedOut = true
                interruption.append(stuck.map { "timeout after \(seconds)s; the test's process is stuck in the kernel (state \($0)) and could not be ended; its device is left for `regress cleanup`" }
                                    ?? "timeout after \(seconds)s: killed")
            case .interrupted(let signal):
                interrupted = true
                interruption.append("interrupted by signal \(signal)")
            case .notRun(let signal):
                notRun = true
                interruption.append("not run: interrupted by signal \(signal)")
            case .cleanupFailed(let problems): cleanup.append("clean-up failed: " + problems.joined(separator: "; "))
            case .knownIssue(let reason): known.append("known issue: \(reason)")
            case .imageKept(let path): notes.append("image kept at \(path)")
            }
        }
        let verdict: Verdict
        var reasons: [String]
        if interrupted {
            verdict = .error
            reasons = interruption + errors + failures
        } else if notRun {
            verdict = .skip
            reasons = interruption
        } else if timedOut {
            verdict = known.isEmpty ? .fail : .xfail
            reasons = known + interruption + errors + failures
        } else if !errors.isEmpty {
            verdict = .error
            reasons = errors + failures
        } else if !failures.isEmpty {
            verdict = known.isEmpty ? .fail : .xfail
            reasons = known + failures
        } else if !cleanup.isEmpty {
            verdict = .error
            reasons = cleanup
        } else if !skips.isEmpty {
            verdict = .skip
            reasons = skips
        } else if noData {
            verdict = .error
            reasons = ["the test executed no data operation: it exercised nothing, so it cannot pass"]
        } else {
            verdict = .pass
            reasons = []
        }
        self.verdict = verdict
        self.reasons = reasons + (verdict == .fail || verdict == .xfail ? notes : [])
    }

    /// `verify file1: bytes 16773120..16777215 (…): expected 0xcd, found 0x00` — one line a range.
    public static func describe(_ verification: VerifyResult) -> [String] {
        let file = verification.file
        if let error = verification.readError { return ["verify \(file): cannot read it: \(error.name) (\(error.message))"] }
        guard let found = verification.foundSize else { return ["verify \(file): the file is missing"] }
        var lines: [String] = []
        if !verification.sizeAllowed {
            let expected = verification.allowedSizes.map { "\($0.lowerBound)..\($0.upperBound)" } ?? "\(verification.expectedSize)"
            lines.append("verify \(file): size \(found), expected \(expected)")
        }
        lines += verification.mismatches.map { "verify \(file): \($0)" }
        if verification.unlistedMismatches > 0 {
            lines.append("verify \(file): and \(verification.unlistedMismatches) more bad ranges")
        }
        return lines
    }
}
