#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressRunner
import RegressCore

/// What `regress explore` shows while it runs, on standard error: on a terminal one line rewritten in place
/// (workloads run, crash states checked, failures, time); elsewhere (CI logs) one plain line a workload.
/// Then, in either case, a summary and what was found.
final class ExploreProgress {
    private let enabled: Bool
    private let terminal = isatty(2) == 1
    private let started = Date()
    private let title: String
    private var workloads = 0, states = 0, failures = 0

    init(enabled: Bool, filesystem: FilesystemKind, seed: UInt64, bounded: Int?) {
        self.enabled = enabled
        title = "explore \(filesystem.rawValue) " + (bounded.map { "bounded \($0)" } ?? "seed \(seed)")
    }

    func show(_ event: Explorer.Event) {
        guard enabled else { return }
        switch event {
        case .workloadFinished(let index, let result, let crashStates):
            workloads += 1
            states += crashStates
            if result.verdict == .fail { failures += 1 }
            if terminal {
                update("\(title): \(workloads) workloads, \(states) crash states, \(failures) failed, \(elapsed())")
            } else {
                line("workload \(index): \(result.verdict.rawValue), \(crashStates) crash states, \(fixedPoint(result.seconds, decimals: 1))s")
            }
            if result.verdict != .pass, let reason = result.reasons.first { line("  workload \(index): \(reason)") }
        case .flaky(let index, let again):
            line("workload \(index): did not fail the same way again (\(again.verdict.rawValue)): flaky, not shrunk")
        case .shrinking(let workload, let signature, let crashStatesNeeded):
            line("shrinking workload \(workload.index) (\(workload.steps.count) steps), \(signature)\(crashStatesNeeded ? ", seen only in crash states" : "")")
        case .shrinkRun(let steps, let failed, let runs):
            let text = "  run \(runs): \(steps) steps, \(failed ? "fails the same way" : "does not")"
            if terminal { update(text) } else { line(text) }
        }
    }

    func finish(_ outcome: Explorer.Outcome) {
        guard enabled else { return }
        if let space = outcome.space {
            line("bounded space: \(space.workloads) workloads (\(space.refused) sequences refused by the rules), \(outcome.workloads) run"
                 + (outcome.workloads < space.workloads ? " (--time or --workloads ended it first)" : ""))
        }
        line("\(title): \(outcome.workloads) workloads, \(outcome.crashStates) crash states checked, \(outcome.failures) failed, "
             + "\(outcome.flaky) flaky, \(outcome.errors.count) errors in \(fixedPoint(outcome.seconds, decimals: 1))s")
        if let finding = outcome.finding {
            line("found: \(finding.signature); workload \(finding.original.index) of \(finding.original.steps.count) steps shrunk to \(finding.shrunk.steps.count) (delta debugging \(finding.deltaDebuggingTries) tries, renames and ranges \(finding.rangeTries) tries, \(finding.runs) runs)")
        }
    }

    private func elapsed() -> String { fixedPoint(Date().timeIntervalSince(started), decimals: 0) + "s" }
    private func update(_ text: String) { write("\r\u{1b}[K" + text) }
    private func line(_ text: String) { write(terminal ? "\r\u{1b}[K" + text + "\n" : text + "\n") }
    private func write(_ text: String) { StandardStream.error.write(text.data(using: .utf8)!) }
}
