#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which test cases a run (or `regress list`) takes, as fstests' check selects them: names, groups to
/// include (-g) and exclude (-x), an exclude list (-E), filesystems (--fs), and a stable shard (--shard I/N)
/// so that a farm can fan one selection out over N machines and merge the results.
public struct Selection: Sendable {
    public var names: [String] = []
    public var groups: [String] = []
    public var excludedGroups: [String] = []
    public var excludedTests: Set<String> = []
    public var shard: (index: Int, count: Int)?
    public init() {}

    /// An exclude list's text: one test name (or test.fs) a line, `#` comments.
    public static func parseExcludeList(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").compactMap { line in
            let word = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingInlineWhitespace
            return word.isEmpty ? nil : word
        })
    }

    public func includes(_ test: TestDefinition) -> Bool {
        if excludedTests.contains(test.name) { return false }
        if !groups.isEmpty && !test.groups.contains(where: groups.contains) { return false }
        if test.groups.contains(where: excludedGroups.contains) { return false }
        return true
    }

    /// Filters cases: exclusions by `test.fs`, then the shard.
    public func filter(_ cases: [TestCase]) -> [TestCase] {
        cases.filter { !excludedTests.contains($0.id) && inShard($0.id) }
    }

    /// A case's shard depends only on its own name (FNV-1a), so adding a test never moves the others.
    func inShard(_ id: String) -> Bool {
        guard let shard else { return true }
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return Int(hash % UInt64(shard.count)) == shard.index - 1
    }
}

/// Orders cases: in name order, or shuffled by a seed a user can repeat (--random=SEED).
public struct SeededOrder {
    public static func shuffle(_ cases: [TestCase], seed: UInt64) -> [TestCase] {
        var generator = SplitMix64(seed: seed)
        return cases.shuffled(using: &generator)
    }
}

/// A small, well-known generator: the same seed gives the same order on every machine and Swift version.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}

/// Failures a farm expects (test, filesystem, reason): reported as `xfail`, never hidden, never failing the run.
/// File format: `TEST[.FS]  reason…` a line, `#` comments.
public struct KnownIssues: Sendable {
    var reasons: [String: String] = [:]
    public init() {}

    /// Parses the file's `text`; `path` names it in diagnostics.
    public init(text: String, path: String) throws {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.trimmingInlineWhitespace
            if content.isEmpty || content.hasPrefix("#") { continue }
            let parts = content.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 2 else {
                throw Diagnostic(SourceLocation(file: path, line: number + 1), "expected 'TEST[.FS] reason'")
            }
            reasons[String(parts[0])] = parts[1].trimmingInlineWhitespace
        }
    }

    /// The known issue a case's failure would be, as evidence (the decision makes a failure with it xfail).
    public func evidence(for result: TestResult) -> Evidence? {
        (reasons[result.id] ?? reasons[result.test]).map { .knownIssue($0) }
    }
}
