import XCTest
@testable import RegressCore

final class DeltaDebuggingTests: XCTestCase {
    func testOneCulpritIsFoundInFewTries() {
        let items = Array(0..<64)
        let outcome = DeltaDebugging.minimize(items) { $0.contains(37) }
        XCTAssertEqual(outcome.items, [37])
        XCTAssertTrue(outcome.complete)
        XCTAssertLessThan(outcome.tries, 40, "one culprit among 64 should take O(log n) complements, not n²")
    }

    func testAPairThatFailsOnlyTogetherIsKeptInOrder() {
        let outcome = DeltaDebugging.minimize(Array(0..<20)) { $0.contains(3) && $0.contains(17) }
        XCTAssertEqual(outcome.items, [3, 17])
    }

    func testTheResultIsOneMinimal() {
        // Fails when at least three even numbers remain: any three evens are a minimal answer.
        let outcome = DeltaDebugging.minimize(Array(0..<30)) { $0.filter { $0 % 2 == 0 }.count >= 3 }
        XCTAssertEqual(outcome.items.count, 3)
        for index in outcome.items.indices {
            var without = outcome.items
            without.remove(at: index)
            XCTAssertLessThan(without.filter { $0 % 2 == 0 }.count, 3)
        }
    }

    func testPinnedElementsStay() {
        // "mkfs" must stay even though the failure does not need it.
        let items = ["mkfs", "a", "b", "fault", "c"]
        let outcome = DeltaDebugging.minimize(items, pinned: { $0 == "mkfs" }) { $0.contains("fault") }
        XCTAssertEqual(outcome.items, ["mkfs", "fault"])
    }

    func testTheBudgetStopsTheSearchWithTheSmallestFailureSoFar() {
        var calls = 0
        let outcome = DeltaDebugging.minimize(Array(0..<100), budget: 3) { candidate in
            calls += 1
            return candidate.contains(99)
        }
        XCTAssertEqual(calls, 3)
        XCTAssertFalse(outcome.complete)
        XCTAssertTrue(outcome.items.contains(99))
        XCTAssertLessThan(outcome.items.count, 100)
    }

    func testSplitIsEvenAndOrdered() {
        XCTAssertEqual(DeltaDebugging.split([1, 2, 3, 4, 5], into: 2), [[1, 2, 3], [4, 5]])
        XCTAssertEqual(DeltaDebugging.split([1, 2, 3], into: 3), [[1], [2], [3]])
    }
}
