/// Joins the JSON reports of the shards of one selection (`regress run --shard I/N` on N machines) into the
/// run an unsharded `regress run` of that selection would have reported: the same results, in its order
/// (tests by name, each test's filesystems in the planner's order), with the same counts.
///
/// Refused, since the result would be a report of no real run: results of different kernels (unless
/// `allowMixedKernels`), a case that two reports both ran (overlapping shards, or one file given twice),
/// and shards that split the selection differently (`1/3` and `1/2`).
public struct ShardMerge {
    public var allowMixedKernels = false
    public init(allowMixedKernels: Bool = false) { self.allowMixedKernels = allowMixedKernels }

    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case noReports
        case mixedKernels(path: String, kernel: String, otherPath: String, otherKernel: String)
        case duplicateCase(id: String, path: String, otherPath: String)
        case mixedShardCounts(path: String, shard: String, otherPath: String, otherShard: String)
        public var description: String {
            switch self {
            case .noReports: return "merge: no reports given"
            case let .mixedKernels(path, kernel, otherPath, otherKernel):
                return "\(otherPath): ran on \(otherKernel), but \(path) ran on \(kernel): results of different kernels are not merged (--allow-mixed-kernels merges them)"
            case let .duplicateCase(id, path, otherPath):
                return "\(otherPath): \(id) is also in \(path): the shards overlap (or one report was given twice)"
            case let .mixedShardCounts(path, shard, otherPath, otherShard):
                return "\(otherPath): shard \(otherShard), but \(path) is shard \(shard): these split the selection differently"
            }
        }
    }

    /// What the merge found besides the results: shards the reports name and which of 1…N are missing.
    public struct Merged: Sendable {
        public var run: RunSummary
        public var missingShards: [String]
    }

    public func merge(_ reports: [JSONReportDecoder.Report]) throws -> Merged {
        guard let first = reports.first else { throw Refusal.noReports }
        var kernelSeen: [(kernel: String, path: String)] = []
        var caseSeen: [String: String] = [:]
        var shardSeen: (shard: String, path: String)?
        var shardIndices = Set<Int>()
        var all: [TestResult] = []

        for report in reports {
            var idsInThisReport = Set<String>()
            for result in report.results {
                let kernel = result.origin?.kernel ?? report.kernel
                if !kernelSeen.contains(where: { $0.kernel == kernel }) {
                    if let other = kernelSeen.first, !allowMixedKernels {
                        throw Refusal.mixedKernels(path: other.path, kernel: other.kernel, otherPath: report.path, otherKernel: kernel)
                    }
                    kernelSeen.append((kernel, report.path))
                }
                // One report may hold a case more than once (-I N); two reports may not both hold it.
                if let other = caseSeen[result.id], other != report.path || !idsInThisReport.contains(result.id) {
                    throw Refusal.duplicateCase(id: result.id, path: other, otherPath: report.path)
                }
                caseSeen[result.id] = report.path
                idsInThisReport.insert(result.id)
                if let shard = result.origin?.shard, let (index, count) = Self.parseShard(shard) {
                    if let seen = shardSeen, Self.parseShard(seen.shard)?.count != count {
                        throw Refusal.mixedShardCounts(path: seen.path, shard: seen.shard, otherPath: report.path, otherShard: shard)
                    }
                    shardSeen = shardSeen ?? (shard, report.path)
                    shardIndices.insert(index)
                }
                all.append(result)
            }
        }

        let kernel = kernelSeen.isEmpty ? first.kernel : kernelSeen.map(\.kernel).joined(separator: ", ")
        // The shards ran side by side: the merged run took as long as its slowest shard.
        let seconds = reports.map(\.seconds).filter(\.isFinite).max() ?? 0
        var missing: [String] = []
        if let seen = shardSeen, let count = Self.parseShard(seen.shard)?.count {
            missing = (1...count).filter { !shardIndices.contains($0) }.map { "\($0)/\(count)" }
        }
        var run = RunSummary(results: Self.unshardedOrder(all), seconds: seconds, kernel: kernel)
        run.regress = Self.regress(of: all) ?? first.regress ?? run.regress
        return Merged(run: run, missingShards: missing)
    }

    /// The regress the shards ran: their results' own, all of them named when shards ran different builds.
    static func regress(of results: [TestResult]) -> RegressVersion? {
        var seen: [RegressVersion] = []
        for case let version? in results.map({ $0.origin?.regress }) where !seen.contains(version) { seen.append(version) }
        guard let one = seen.first else { return nil }
        if seen.count == 1 { return one }
        return RegressVersion(version: seen.map(\.version).joined(separator: ", "), commit: seen.map(\.commit).joined(separator: ", "))
    }

    /// The order of an unsharded run with one job: tests by name (as TestLibrary lists tests.d), then each
    /// test's filesystems in FilesystemKind's order (the planner's, for a test that does not list its own),
    /// repetitions in the order they ran. A test whose `filesystems:` line lists them in another order is
    /// planned in that order; a merge cannot see the test file and uses FilesystemKind's.
    static func unshardedOrder(_ results: [TestResult]) -> [TestResult] {
        let rank = Dictionary(uniqueKeysWithValues: FilesystemKind.allCases.enumerated().map { ($1, $0) })
        return results.enumerated().sorted { a, b in
            if a.element.test != b.element.test { return a.element.test < b.element.test }
            let fa = a.element.filesystem.map { rank[$0]! } ?? -1, fb = b.element.filesystem.map { rank[$0]! } ?? -1
            return fa != fb ? fa < fb : a.offset < b.offset
        }.map(\.element)
    }

    static func parseShard(_ text: String) -> (index: Int, count: Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, index >= 1, index <= count else { return nil }
        return (index, count)
    }
}
