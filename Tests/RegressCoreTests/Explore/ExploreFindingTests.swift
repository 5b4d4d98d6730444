import XCTest
@testable import RegressCore

/// The file explore hands the user: a test the parser takes, whose header says where it came from.
final class ExploreFindingTests: XCTestCase {
    func testTheShrunkTestParsesAndItsHeaderNamesFilesystemSeedAndOriginalSize() throws {
        let original = InjectedFault.lyingFsync.inject(into: WorkloadGenerator(filesystem: .xfs, seed: 77, operations: 10).workload(4))
        var shrunk = original
        shrunk.steps = [WorkloadStep(.write(file: "a", offset: 0, length: 4096, pattern: 0x5a, direct: false)), WorkloadStep(.lyingCache(true)),
                        WorkloadStep(.fsync("a")), WorkloadStep(.powerCut), WorkloadStep(.verify(nil))]
        XCTAssertNil(shrunk.problem)
        let finding = ExploreFinding(original: original, shrunk: shrunk, fault: .lyingFsync,
                                     signature: FailureSignature(verdict: .fail, problems: [.lostData]),
                                     reasons: ["verify a: the file is missing\nsecond line"], needsCrashStates: false,
                                     deltaDebuggingTries: 12, rangeTries: 3, runs: 14, operations: 10)
        XCTAssertEqual(finding.fileName, "explore-xfs-77-4")
        let test = try TestParser(path: "found/" + finding.fileName, name: finding.fileName).parse(finding.text)
        XCTAssertEqual(test.steps.map(\.text), shrunk.steps.map(\.line))
        XCTAssertEqual(test.filesystems, [.xfs])
        let header = finding.text.split(separator: "\n").prefix { $0.hasPrefix("#") }.joined(separator: "\n")
        XCTAssertTrue(header.contains("regress explore --fs xfs --seed 77 --ops 10 --inject-fault lying-fsync"), header)
        XCTAssertTrue(header.contains("workload 4 of seed 77 on xfs, \(original.steps.count) steps, shrunk to 5"), header)
        XCTAssertTrue(header.contains("#   verify a: the file is missing second line"), "a reason stays on its comment line: \(header)")
        XCTAssertTrue(header.contains("Reproduce: regress run FILE"), header)
    }
}
