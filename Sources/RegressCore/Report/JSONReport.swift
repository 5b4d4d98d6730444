#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON for scripts: the run (kernel, seconds, counts) and every TestResult as it is encoded anywhere else,
/// plus its `id`. Keys are sorted so that two runs diff cleanly; `schemaVersion` changes whenever a key is
/// renamed or removed or its meaning changes (adding a key does not change it), so a script can refuse a
/// report it does not understand. Version 2: a crash-state failure's `problem` is an object naming what
/// failed (`verify`, `unmountable`, `fsck`…) with its data, no longer a sentence; a result that searched crash
/// states has their counts under `crashStates`.
///
///     {"counts": {"error": 0, "fail": 1, "pass": 2, "skip": 0, "total": 3, "xfail": 0}, "kernel": "6.18.0",
///      "results": [{"id": "nocow-reflink.btrfs", "test": "nocow-reflink", "filesystem": "btrfs",
///                   "verdict": "pass", "reasons": [], …}], "schemaVersion": 2, "seconds": 1.25,
///      "regress": {"commit": "080a94f…", "version": "0.1.0"}, "success": false, "tool": "regress"}
public struct JSONReport {
    public static let schemaVersion = 2

    public init() {}

    public func render(_ run: RunSummary) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // A NaN or infinite time must not lose the whole report.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            let data = try encoder.encode(Document(run))
            return String(decoding: data, as: UTF8.self) + "\n"
        } catch {
            // Unreachable with the types above; still a valid document that says what went wrong.
            let message = String(describing: error).replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            return "{\"error\": \"\(oneLine(message))\", \"schemaVersion\": \(Self.schemaVersion), \"tool\": \"regress\"}\n"
        }
    }

    private struct Document: Encodable {
        struct Counts: Encodable {
            var pass, fail, skip, error, xfail, total: Int
        }
        var schemaVersion = JSONReport.schemaVersion
        var tool = "regress"
        var regress: RegressVersion
        var kernel: String
        var seconds: Double
        /// True when nothing failed or erred: what a script most often wants, and what the exit code says.
        var success: Bool
        var counts: Counts
        var results: [Entry]

        init(_ run: RunSummary) {
            regress = run.regress
            kernel = run.kernel
            seconds = run.seconds
            success = run.count(.fail) == 0 && run.count(.error) == 0
            counts = Counts(pass: run.count(.pass), fail: run.count(.fail), skip: run.count(.skip),
                            error: run.count(.error), xfail: run.count(.xfail), total: run.results.count)
            results = run.results.map(Entry.init)
        }
    }

    /// A TestResult's own encoding with its `id` added, so that a script can match results across reports
    /// without rebuilding the slug; decoding an entry as a TestResult ignores the extra key.
    private struct Entry: Encodable {
        let result: TestResult
        enum Key: String, CodingKey { case id }

        func encode(to encoder: Encoder) throws {
            try result.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(result.id, forKey: .id)
        }
    }
}
