import Foundation
import XCTest
import RegressCore
import RegressRunner

/// regress claims to run xfs_io's commands "call for call". This test holds it to that: generated step
/// sequences (StepSequenceGenerator) run once through the real xfs_io, one `xfs_io -f -c CMD FILE` a step,
/// and once through regress, each on a fresh filesystem; every step's errno and every file's final bytes
/// must be the same on both sides.
///
/// Fixed seed, 20 sequences per filesystem (about a minute), so that the suite stays quick; bench/xfs-io-differential
/// runs hundreds. Environment (for the bench and for replaying a failure):
///   REGRESS_DIFF_SEED=0x…       the generator's seed
///   REGRESS_DIFF_SEQUENCES=N    sequences per filesystem
///   REGRESS_DIFF_ONLY=I         run sequence I alone (the failure message names it)
///   REGRESS_DIFF_FS=btrfs,xfs   the filesystems
final class XfsIODifferentialTests: IntegrationTestCase {
    static let seed: UInt64 = 0xd1ff_0613_2026_0001
    static let sequencesPerFilesystem = 20

    func testRegressAndXfsIOAgreeOnGeneratedSequences() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["REGRESS_DIFF_SEED"].flatMap(Size.leadingNumber) ?? Self.seed
        let count = environment["REGRESS_DIFF_SEQUENCES"].flatMap(Int.init) ?? Self.sequencesPerFilesystem
        let indices = environment["REGRESS_DIFF_ONLY"].flatMap(Int.init).map { [$0] } ?? Array(0..<count)
        let filesystems = try environment["REGRESS_DIFF_FS"].map { list in
            try list.split(separator: ",").map { try XCTUnwrap(FilesystemKind(rawValue: String($0)), "REGRESS_DIFF_FS: unknown filesystem \($0)") }
        } ?? FilesystemKind.allCases

        let executable = try XCTUnwrap(Subprocess.locate("xfs_io"), "xfs_io is not installed (xfsprogs; scripts/install installs it)")
        let xfsIO = XfsIOSide(executable: executable, workDirectory: workDirectory)
        let regress = RegressSide(options: options {
            // Only the steps' outcomes and the bytes are compared; fsck and the kernel log are other tests' business.
            $0.checkFilesystem = false
            $0.checkKernelLog = false
        })
        let generator = StepSequenceGenerator(seed: seed)

        var disagreements: [String] = []
        var summary: [String] = []
        let started = Date()
        for filesystem in filesystems {
            var agreed = 0, disagreed = 0
            let fsStarted = Date()
            for index in indices {
                let sequence = generator.sequence(index)
                let comparison: DifferentialComparison
                do {
                    let theirs = try xfsIO.run(sequence, on: filesystem)
                    let ours = try regress.run(sequence, on: filesystem)
                    comparison = DifferentialComparison(sequence, on: filesystem, xfsIO: theirs, regress: ours)
                } catch let refused as RegressSide.Refused {
                    var comparison = DifferentialComparison(sequence, on: filesystem, xfsIO: SideOutcome(), regress: SideOutcome())
                    comparison.findings = [refused.description]
                    disagreements.append(comparison.report)
                    disagreed += 1
                    continue
                }
                if comparison.agreed {
                    agreed += 1
                } else {
                    disagreed += 1
                    disagreements.append(comparison.report)
                }
            }
            summary.append("\(filesystem.rawValue): \(agreed) agreed, \(disagreed) disagreed in \(String(format: "%.1f", Date().timeIntervalSince(fsStarted)))s")
        }
        let line = "xfs_io differential, seed 0x\(String(seed, radix: 16)): " + summary.joined(separator: "; ")
            + String(format: " (%.1fs)", Date().timeIntervalSince(started))
        print(line)
        for disagreement in disagreements { print(disagreement) }
        XCTAssertEqual(disagreements.count, 0, "\(line)\n" + disagreements.joined(separator: "\n"))
    }
}
