import XCTest
@testable import RegressCore

/// The identity that lets a crash-state search check identical images once: it must never merge two
/// states whose images differ, and it should merge the common ways subsets of an epoch coincide.
final class CrashStateIdentityTests: XCTestCase {
    /// A write of the log: where, and its bytes (nil: zeros).
    private struct Write {
        var offset: UInt64
        var data: [UInt8]?
        var length: Int
        var range: Range<UInt64> { offset..<offset + UInt64(length) }
    }

    private func identity(_ chosen: [Int], of log: [Write], over base: [UInt8], epoch: Int = 0) -> CrashStateIdentity {
        CrashStateIdentity(epoch: epoch, writes: chosen.map { (index: $0, range: log[$0].range) }) { index in
            let write = log[index]
            return CrashStateIdentity.changedRanges(of: write.data, over: Array(base[Int(write.offset)..<Int(write.offset) + write.length]),
                                                    at: write.offset)
        }
    }

    private func image(_ chosen: [Int], of log: [Write], over base: [UInt8]) -> [UInt8] {
        var bytes = base
        for index in chosen {
            let write = log[index]
            bytes.replaceSubrange(Int(write.offset)..<Int(write.offset) + write.length,
                                  with: write.data ?? [UInt8](repeating: 0, count: write.length))
        }
        return bytes
    }

    func testAWriteCoveredByALaterOneLeavesTheSameImage() {
        let base = [UInt8](repeating: 0, count: 8192)
        let log = [Write(offset: 512, data: [UInt8](repeating: 1, count: 1024), length: 1024),
                   Write(offset: 0, data: [UInt8](repeating: 2, count: 4096), length: 4096)]
        XCTAssertEqual(identity([0, 1], of: log, over: base), identity([1], of: log, over: base))
        XCTAssertNotEqual(identity([0], of: log, over: base), identity([1], of: log, over: base))
        XCTAssertNotEqual(identity([0], of: log, over: base), identity([], of: log, over: base))
    }

    func testADiscardOfZerosAndARewriteOfTheSameBytesChangeNothing() {
        var base = [UInt8](repeating: 0, count: 8192)
        base.replaceSubrange(4096..<8192, with: [UInt8](repeating: 7, count: 4096))
        let log = [Write(offset: 0, data: nil, length: 4096),                                  // zeros over zeros
                   Write(offset: 4096, data: [UInt8](repeating: 7, count: 4096), length: 4096), // the bytes it held
                   Write(offset: 4096, data: nil, length: 512)]                                 // zeros over sevens
        XCTAssertEqual(identity([0], of: log, over: base), identity([], of: log, over: base))
        XCTAssertEqual(identity([0, 1], of: log, over: base), identity([], of: log, over: base))
        XCTAssertNotEqual(identity([2], of: log, over: base), identity([], of: log, over: base))
        // The discard, then a write that restores the bytes: the image is the base again.
        XCTAssertEqual(identity([2, 1], of: log, over: base), identity([], of: log, over: base))
    }

    func testTheEpochIsPartOfTheIdentity() {
        let base = [UInt8](repeating: 0, count: 4096)
        XCTAssertNotEqual(identity([], of: [], over: base, epoch: 1), identity([], of: [], over: base, epoch: 2))
    }

    func testChangedRangesAreWholeSectorsClippedToTheWrite() {
        let base = [UInt8](repeating: 0, count: 2048)
        var data = base
        data[10] = 1     // the write's first (partial) sector
        data[1500] = 1   // a later one
        XCTAssertEqual(CrashStateIdentity.changedRanges(of: data, over: base, at: 100), [100..<512, 1536..<2048])
        XCTAssertEqual(CrashStateIdentity.changedRanges(of: nil, over: base, at: 0), [])
    }

    /// The property the search relies on: equal identities mean equal images, over random logs with
    /// overlapping, unaligned, repeated and zeroing writes on a base that is partly zero and partly not.
    func testEqualIdentitiesAlwaysMeanEqualImages() {
        var generator = SplitMix64(seed: 0x1d)
        var merged = 0
        for round in 0..<300 {
            let size = 8 * 512
            var base = [UInt8](repeating: 0, count: size)
            for sector in 0..<8 where generator.next() % 2 == 0 {
                base.replaceSubrange(sector * 512..<(sector + 1) * 512, with: [UInt8](repeating: UInt8(generator.next() % 3), count: 512))
            }
            var log: [Write] = []
            for _ in 0..<Int(3 + generator.next() % 5) {
                let aligned = generator.next() % 4 != 0
                let offset: UInt64 = aligned ? 512 * (generator.next() % 8) : generator.next() % UInt64(size - 1)
                let length: Int = aligned ? Int(512 * (1 + generator.next() % 3)) : Int(1 + generator.next() % 700)
                let clipped = min(length, size - Int(offset))
                let start = Int(offset)
                var data: [UInt8]?
                switch generator.next() % 4 {
                case 0: data = nil                                               // a discard
                case 1: data = Array(base[start..<start + clipped])              // what the base holds
                default:                                                         // few values: frequent coincidences
                    data = []
                    for _ in 0..<clipped { data!.append(UInt8(generator.next() % 3)) }
                }
                log.append(Write(offset: offset, data: data, length: clipped))
            }
            let subsets = (0..<(1 << log.count)).map { mask in (0..<log.count).filter { mask & (1 << $0) != 0 } }
            var seen: [CrashStateIdentity: [UInt8]] = [:]
            for subset in subsets {
                let key = identity(subset, of: log, over: base)
                let bytes = image(subset, of: log, over: base)
                if let earlier = seen[key] {
                    XCTAssertEqual(earlier, bytes, "round \(round): \(subset) merged with a different image")
                    merged += 1
                } else {
                    seen[key] = bytes
                }
            }
        }
        XCTAssertGreaterThan(merged, 1000, "the identity should merge the many identical subsets of such logs")
    }
}
