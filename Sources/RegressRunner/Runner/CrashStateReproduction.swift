import RegressCore

/// `--crash-states`' last part (issue 11.3): a failing crash state becomes a tests.d file that reproduces it
/// without a search: the test's steps up to the cut, `drop-writes` of what the state left out, `power-cut`,
/// `verify`. Each candidate is run as a case of its own (a fresh device and filesystem, in this process,
/// after the case's own device is gone), and kept only if it fails the way the state did; then it is shrunk
/// with `DeltaDebugging`, steps first (the dropped ranges kept), then the ranges, and the smallest one run
/// once more to tell a deterministic reproducer from a lucky one. A shrunk candidate must stay faithful to a
/// power cut (`CrashStateReproducer.isFaithful`): no shrink may turn a filesystem's bug into a disk that
/// loses acknowledged writes. A candidate that does not fail is said so
/// (the filesystem may allocate differently from run to run): no file that passes is handed out.
struct CrashStateReproduction {
    let testCase: TestCase
    let options: CaseOptions
    /// No candidate is started after this (monotonic seconds): the case's timeout must not strike first.
    let deadline: Double?

    /// Turns the first `options.crashStateReproducers` failing states with a cut into reproducers, recorded
    /// on their evidence (the results store writes the files) and in the log.
    func reproduce(into result: inout TestResult) {
        var made = 0
        for index in result.evidence.indices {
            guard made < options.crashStateReproducers, case .crashState(var failure) = result.evidence[index],
                  let cut = failure.cut else { continue }
            made += 1
            let started = monotonicSeconds()
            let outcome = reproduce(failure, cut: cut, fileName: "crash-state-\(made).test")
            failure.reproducer = outcome
            result.evidence[index] = .crashState(failure)
            result.log.append("crash state reproducer \(outcome.fileName): \(outcome.reproduced ? "fails when run" : "did not reproduce"), \(outcome.steps) steps, \(outcome.runs) runs\(outcome.reproduced && !outcome.minimal ? " (shrink stopped by its budget)" : "") in \(formatSeconds(monotonicSeconds() - started))s")
            result.log += outcome.notes.map { "  " + $0 }
            if outcome.reproduced { result.log += outcome.text.split(separator: "\n", omittingEmptySubsequences: false).map { "  | " + $0 } }
        }
    }

    private func reproduce(_ failure: CrashStateFailure, cut: CrashStateCut, fileName: String) -> CrashStateReproducer.Outcome {
        let reproducer = CrashStateReproducer(test: testCase.test, filesystem: testCase.filesystem, failure: failure, cut: cut)
        let all = reproducer.pieces
        func outcome(_ pieces: [CrashStateReproducer.Piece], reproduced: Bool, runs: Int, minimal: Bool, notes: [String]) -> CrashStateReproducer.Outcome {
            .init(fileName: fileName, text: reproducer.text(pieces), steps: reproducer.steps(pieces).count, reproduced: reproduced,
                  runs: runs, minimal: minimal, notes: cut.inexact + notes)
        }
        guard let signature = CrashStateReproducer.Signature(problem: failure.problem) else {
            return outcome(all, reproduced: false, runs: 0, minimal: false, notes: ["a run cannot tell this problem apart: \(failure.problem)"])
        }
        var runs = 0, outOfTime = false, unparsable: String?, allowedRuns = options.crashStateShrinkRuns, longestRun = 0.0
        var known: [String: Bool] = [:]
        func fails(_ pieces: [CrashStateReproducer.Piece]) -> Bool {
            let text = reproducer.text(pieces)
            if let answer = known[text] { return answer }
            guard pieces == all || reproducer.isFaithful(pieces) else {
                known[text] = false
                return false
            }
            // A candidate that does not parse (a `verify` of a file no chosen step makes) fails nothing, at no cost.
            let test: TestDefinition
            do {
                test = try TestParser(path: fileName, name: testCase.test.name + "-" + fileName).parse(text)
            } catch {
                if pieces == all { unparsable = "\(error)" }
                known[text] = false
                return false
            }
            // A run that would end past the deadline is not started: the case's timeout would lose everything.
            guard runs < allowedRuns, deadline.map({ monotonicSeconds() + longestRun < $0 }) ?? true else {
                outOfTime = true
                return false
            }
            runs += 1
            let started = monotonicSeconds()
            let answer = signature.shows(in: run(test).evidence)
            longestRun = max(longestRun, monotonicSeconds() - started)
            known[text] = answer
            return answer
        }
        guard fails(all) else {
            return outcome(all, reproduced: false, runs: runs, minimal: false,
                           notes: [unparsable.map { "it does not parse: \($0)" } ?? (outOfTime ? "no time left to run it" : "the run did not fail with '\(failure.problem)': the filesystem may not write the same blocks from run to run, or writes after the epoch in the same step changed what the disk kept")])
        }
        // Steps (the ranges kept), then ranges, again until neither shrinks: a range dropped may let a step
        // go (a drop no longer needed), and the other way round. A choice of steps that fails without any
        // drop is preferred from then on: a plain power cut after the steps is the simplest reproducer, and
        // a fault of the test's own (a lie, a reordered flush) says more than the ranges it lost.
        var steps = all.filter { if case .step = $0 { return true } else { return false } }
        var drops = all.filter { if case .drop = $0 { return true } else { return false } }
        var complete = true, plain = drops.isEmpty
        while true {
            let fewerSteps = DeltaDebugging.minimize(steps) { candidate in
                if plain { return fails(candidate) }
                if fails(candidate) {
                    plain = true
                    return true
                }
                return fails(candidate + drops)
            }
            if plain { drops = [] }
            let fewerDrops = DeltaDebugging.minimize(drops) { fails(fewerSteps.items + $0) }
            complete = fewerSteps.complete && fewerDrops.complete
            let shrunk = fewerSteps.items.count < steps.count || fewerDrops.items.count < drops.count
            (steps, drops) = (fewerSteps.items, fewerDrops.items)
            if !shrunk || outOfTime { break }
        }
        let smallest = steps + drops
        // Once more from scratch: a reproducer that failed only once is no reproducer.
        known[reproducer.text(smallest)] = nil
        allowedRuns = runs + 1
        let shrinkStopped = outOfTime, runsBefore = runs
        let again = fails(smallest)
        let ranAgain = runs > runsBefore
        let minimal = complete && !shrinkStopped
        if !again && ranAgain {
            return outcome(smallest, reproduced: false, runs: runs, minimal: minimal,
                           notes: ["the shrunk test failed once and then passed: the filesystem does not write the same blocks from run to run"])
        }
        var notes: [String] = []
        if shrinkStopped { notes.append("the shrink ran out of its runs or time: the test may not be the smallest") }
        if !ranAgain { notes.append("not run a second time: no time was left") }
        if reproducer.testHasFaults && !drops.isEmpty {
            notes.append("the test's own disk breaks its promises, so the reproducer's drop may lose writes a finished step's flush acknowledged")
        }
        return outcome(smallest, reproduced: true, runs: runs, minimal: minimal, notes: notes)
    }

    /// One candidate as a case of its own: no crash-state search, no image kept.
    private func run(_ test: TestDefinition) -> TestResult {
        var options = self.options
        options.crashStates = nil
        options.keepFailedImages = false
        return CaseRunner(TestCase(test: test, filesystem: testCase.filesystem, skipReason: nil), options: options).run()
    }
}
