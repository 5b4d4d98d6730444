/// Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing Input", TSE 2002): the
/// smallest sub-sequence of a failing input that still fails, as far as removing chunks can tell.
///
/// Used wherever regress hands the user a smaller test than the one that failed: a generated workload
/// (`regress explore`) and a failing crash state turned into a tests.d file. The predicate runs the
/// candidate (on a real filesystem, so each call costs seconds): ddmin needs O(n²) calls at worst and
/// O(log n) when one element is to blame, and the result is 1-minimal: removing any single element of it
/// makes the failure go away (or `budget` calls ran out first, and the smallest failing input so far is
/// returned).
public enum DeltaDebugging {
    /// What a minimization did.
    public struct Outcome<Element> {
        /// The smallest failing sub-sequence found (order kept).
        public var items: [Element]
        /// How many times the predicate ran.
        public var tries: Int
        /// False when the budget ran out before 1-minimality was reached.
        public var complete: Bool
    }

    /// `stillFails` must be true for `items` itself (not checked: the caller has just seen it fail).
    /// `pinned`: elements that must stay (a setup step without which nothing runs); never removed.
    public static func minimize<Element>(_ items: [Element], budget: Int = 500,
                                         pinned: (Element) -> Bool = { _ in false },
                                         stillFails: ([Element]) throws -> Bool) rethrows -> Outcome<Element> {
        var current = Array(items.indices)
        var tries = 0
        var granularity = 2
        func fails(_ indices: [Int]) throws -> Bool? {
            guard tries < budget else { return nil }
            tries += 1
            return try stillFails(indices.sorted().map { items[$0] })
        }
        while true {
            let candidates = current.filter { !pinned(items[$0]) }
            guard candidates.count >= 1 else { break }
            granularity = min(granularity, candidates.count)
            let chunks = split(candidates, into: granularity)
            var reduced = false
            // Try each complement first (remove one chunk): it shrinks fastest when blame is spread.
            // (Testing each chunk alone, ddmin's other half, only pays off when the pinned part is empty
            // and one chunk holds all the blame; the complements find that too, one chunk at a time.)
            for chunk in chunks {
                let removed = Set(chunk)
                let complement = current.filter { !removed.contains($0) }
                guard let result = try fails(complement) else {
                    return Outcome(items: current.map { items[$0] }, tries: tries, complete: false)
                }
                if result {
                    current = complement
                    granularity = max(granularity - 1, 2)
                    reduced = true
                    break
                }
            }
            if reduced { continue }
            if granularity >= candidates.count { break }
            granularity = min(granularity * 2, candidates.count)
        }
        return Outcome(items: current.map { items[$0] }, tries: tries, complete: true)
    }

    /// `items` in `count` chunks as even as can be, in order.
    static func split(_ items: [Int], into count: Int) -> [[Int]] {
        let size = items.count / count, extra = items.count % count
        var chunks: [[Int]] = [], start = 0
        for index in 0..<count {
            let length = size + (index < extra ? 1 : 0)
            chunks.append(Array(items[start..<start + length]))
            start += length
        }
        return chunks
    }
}
