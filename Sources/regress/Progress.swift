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

/// The live view: on a terminal, one line rewritten in place (test i of N, name, filesystem, elapsed);
/// elsewhere (CI logs), one plain line a finished test, with the crash states it checked. Always on standard
/// error, never in the report.
final class Progress {
    private let enabled: Bool
    private let terminal = isatty(2) == 1
    private let started = Date()
    private var finished = 0

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ event: Suite.Event) {
        guard enabled else { return }
        switch event {
        case .started(let testCase, _, let total):
            if terminal { write("\r\u{1b}[K[\(finished + 1)/\(total)] \(testCase.test.name) on \(testCase.filesystem.rawValue) … \(elapsed())") }
        case .finished(let result, _, let total):
            finished += 1
            let line = "[\(finished)/\(total)] \(result.verdict.rawValue.padded(to: 5)) \(result.id) \(fixedPoint(result.seconds, decimals: 1))s"
                + (result.crashStates.map { " (\($0))" } ?? "")
            write(terminal ? "\r\u{1b}[K" + line + "\n" : line + "\n")
        }
    }

    func finish() {
        guard enabled, terminal else { return }
        write("\r\u{1b}[K")
    }

    private func elapsed() -> String { fixedPoint(Date().timeIntervalSince(started), decimals: 0) + "s elapsed" }
    private func write(_ text: String) { StandardStream.error.write(text.data(using: .utf8)!) }
}
