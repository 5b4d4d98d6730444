import Foundation
import XCTest
import RegressCore
import RegressRunner

/// regress claims to run xfs_io's commands "call for call". This test holds it to that, with strace as the
/// judge rather than regress's own account: generated step sequences (StepSequenceGenerator) run once
/// through the real xfs_io, one `xfs_io -f -c A -c B … FILE` a run of steps on one file with sync,
/// drop-caches and power cuts between, and once through regress, each on a fresh filesystem and each side
/// under `strace -f`. Every step's errno, every file's final bytes and the file operations of the two
/// traces (opens, closes, reads, writes, fallocate, ioctl, syncs, mappings) must be the same, call for call.
///
/// Fixed seed, a few sequences per filesystem, so that the suite stays quick; bench/xfs-io-differential runs
/// 40 fresh ones per filesystem. Environment (for the bench and for replaying a failure):
///   REGRESS_DIFF_SEED=0x…       the generator's seed
///   REGRESS_DIFF_SEQUENCES=N    sequences per filesystem
///   REGRESS_DIFF_ONLY=I         run sequence I alone (the failure message names it)
///   REGRESS_DIFF_FS=btrfs,xfs   the filesystems
///   REGRESS_DIFF_TRACES=DIR     write both sides' normalized traces there
final class XfsIODifferentialTests: IntegrationTestCase {
    static let seed: UInt64 = 0xd1ff_0613_2026_0074
    static let sequencesPerFilesystem = 3

    func testRegressAndXfsIOAgreeOnGeneratedSequences() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["REGRESS_DIFF_SEED"].flatMap(Size.leadingNumber) ?? Self.seed
        let count = environment["REGRESS_DIFF_SEQUENCES"].flatMap(Int.init) ?? Self.sequencesPerFilesystem
        let indices = environment["REGRESS_DIFF_ONLY"].flatMap(Int.init).map { [$0] } ?? Array(0..<count)
        let filesystems = try environment["REGRESS_DIFF_FS"].map { list in
            try list.split(separator: ",").map { try XCTUnwrap(FilesystemKind(rawValue: String($0)), "REGRESS_DIFF_FS: unknown filesystem \($0)") }
        } ?? FilesystemKind.allCases

        let executable = try XCTUnwrap(Subprocess.locate("xfs_io"), "xfs_io is not installed (xfsprogs; scripts/install installs it)")
        let strace = try XCTUnwrap(Subprocess.locate("strace"), "strace is not installed (scripts/install installs it)")
        let sync = try XCTUnwrap(Subprocess.locate("sync"), "sync (coreutils) is not installed")
        let stdbuf = try XCTUnwrap(Subprocess.locate("stdbuf"), "stdbuf (coreutils) is not installed")
        let xfsIO = XfsIOSide(executable: executable, strace: strace, sync: sync, stdbuf: stdbuf, workDirectory: workDirectory)
        let regress = RegressSide(options: options {
            // Only the steps' outcomes, the bytes and the calls are compared; fsck and the kernel log are
            // other tests' business.
            $0.checkFilesystem = false
            $0.checkKernelLog = false
        }, strace: strace, workDirectory: workDirectory)
        let powerCuts = PowerCutBackends.whyUnavailable(.emulated) == nil
        if !powerCuts { print("xfs_io differential: no emulated disk here, so no power cuts: \(PowerCutBackends.whyUnavailable(.emulated)!)") }
        let generator = StepSequenceGenerator(seed: seed, powerCuts: powerCuts)

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
                    if let directory = environment["REGRESS_DIFF_TRACES"] {
                        // Both normalized traces, whole, for a person comparing them.
                        try (sequence.listing + "\n").write(toFile: "\(directory)/\(sequence.name).steps", atomically: true, encoding: .utf8)
                        for (side, operations) in [("xfs_io", theirs.operations), ("regress", ours.operations)] {
                            try (operations.calls.joined(separator: "\n") + "\n")
                                .write(toFile: "\(directory)/\(sequence.name).\(filesystem.rawValue).\(side)", atomically: true, encoding: .utf8)
                        }
                    }
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
