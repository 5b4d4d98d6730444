import XCTest
@testable import RegressCore

/// The bounded space of `regress explore --bounded N`: every sequence of N core operations, each followed by
/// a persistence point, from each initial state; the rules keep only what can run as written.
final class BoundedWorkloadsTests: XCTestCase {
    func testTheSpaceIsEveryOperationWithEveryPersistencePointFromEveryShape() {
        for fs in FilesystemKind.allCases {
            let space = BoundedWorkloads(filesystem: fs, length: 1)
            let pairs = BoundedWorkloads.operations(fs).map { BoundedWorkloads.persistence(after: $0).count }.reduce(0, +)
            XCTAssertEqual(space.workloads.count + space.refused, pairs * BoundedWorkloads.Shape.allCases.count, "\(fs)")
            XCTAssertGreaterThan(space.workloads.count, pairs, "\(fs): most sequences run from both shapes")
            XCTAssertEqual(Set(space.workloads.map(\.index)).count, space.workloads.count, "\(fs): one name a workload")
        }
    }

    func testEveryWorkloadParsesAndEndsWithItsPowerCut() throws {
        for fs in FilesystemKind.allCases {
            for workload in BoundedWorkloads(filesystem: fs, length: 1).workloads {
                let test = try workload.parse()
                XCTAssertEqual(test.steps.suffix(2).map(\.name), ["power-cut", "verify"])
                XCTAssertEqual(test.steps.map(\.text), workload.steps.map(\.line))
            }
        }
    }

    func testTwoOperationsSquareTheSpace() {
        let one = BoundedWorkloads(filesystem: .ext4, length: 1), two = BoundedWorkloads(filesystem: .ext4, length: 2)
        let sequences = one.workloads.count + one.refused
        let shapes = BoundedWorkloads.Shape.allCases.count
        XCTAssertEqual(two.workloads.count + two.refused, sequences * sequences / shapes)
    }

    /// The seed's shape: a preallocated file on a full filesystem, a write into the preallocation, a reflink
    /// of it, an fsync (btrfs's ENOSPC bug); every step on the full filesystem may run out of space.
    func testTheFullShapeHoldsTheSeedsSequence() throws {
        let two = BoundedWorkloads(filesystem: .btrfs, length: 2)
        let seedLike = two.workloads.first { workload in
            let lines = workload.steps.map(\.line)
            return lines.contains("padding: pwrite -S 0xee -b 1m 0 256m allow ENOSPC")
                && lines.contains("foo: pwrite -S 0x55 64k 8k allow ENOSPC")
                && lines.contains("foo: reflink foo 0 32k 16k allow ENOSPC")
                && lines.contains("foo: fsync allow ENOSPC")
        }
        XCTAssertNotNil(seedLike, "a write into foo's preallocation, then a reflink within foo, each fsynced, on the full filesystem")
    }
}
