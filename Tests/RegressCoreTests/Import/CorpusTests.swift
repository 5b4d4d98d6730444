import Foundation
import XCTest
@testable import RegressCore

/// The corpus pins the importer's front half on real reproducers (Tests/ImportCorpus, see its README):
/// the finder hands the shell exactly the script lines, no line of prose, headers or diff is ever
/// counted as untranslated, every input line is accounted for, and each input's counts of translated,
/// ignored and untranslated lines stay what they are until a change means to move them.
final class CorpusTests: XCTestCase {
    /// Tests/ImportCorpus, from this file's place in Tests/RegressCoreTests/Import.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ImportCorpus")

    /// The raw line numbers the finder classifies as script (commands, their continuations, markers).
    static let scriptLines: [String: [ClosedRange<Int>]] = [
        "commit-btrfs-sync-fs-wait.txt": [11...13, 19...19],
        "commit-ext4-migrate-hole-at-beginning.txt": [11...11, 16...16, 20...22],
        "commit-ext4-move-extent-no-read.txt": [20...20, 23...23, 26...26, 28...28],
        "commit-xfs-log-inode-unwritten-conversion.txt": [17...23, 32...33],
        "fstests-btrfs-051.txt": [15...16, 19...23, 25...25, 27...29, 31...31, 33...34, 36...37, 39...39, 41...42, 44...46, 48...49, 51...52, 54...55, 57...58],
        "fstests-btrfs-231.txt": [13...14, 17...22, 24...25, 27...30, 32...35, 39...44, 48...48, 54...54, 58...61, 63...64, 68...68, 73...74, 76...78],
        "fstests-generic-034.txt": [16...17, 20...23, 26...27, 29...30, 32...35, 37...38, 44...44, 46...48, 54...54, 56...57, 59...60, 66...67, 69...69, 71...71, 73...74],
        "fstests-generic-059.txt": [24...25, 28...32, 35...36, 38...40, 42...45, 48...49, 55...55, 61...61, 65...65, 67...68, 74...74, 77...77, 83...83, 85...86, 88...88, 93...94, 96...97, 99...102, 104...105],
        "fstests-generic-336.txt": [17...18, 21...26, 29...30, 32...34, 36...39, 43...48, 51...51, 54...55, 58...58, 60...61, 65...65, 69...69, 71...71, 73...73, 75...76],
        "fstests-generic-483.txt": [10...11, 14...19, 22...24, 26...29, 31...34, 38...38, 41...41, 45...49, 54...57, 60...60, 63...65, 69...72, 75...77, 81...81, 83...86, 88...91, 93...96, 98...99, 101...102],
        "fstests-generic-506.txt": [19...20, 23...24, 27...29, 31...37, 39...39, 41...43, 45...45, 47...49, 51...51, 53...53, 55...55, 57...58, 60...60, 63...68, 70...72, 74...74, 76...77, 79...80],   // a shell program's blank lines are blanks
        "fstests-xfs-053.txt": [13...14, 17...18, 21...22, 24...25, 34...34, 38...44, 52...53],
        "mail-lore-btrfs-qgroup-ioctl-reserve.txt": [38...39, 41...41, 43...44, 46...47, 49...50],
        "seed-btrfs-nocow-reflink-flush.txt": [6...7, 9...10, 13...13, 15...16, 19...19, 22...23],
    ]

    /// (translated, ignored on purpose, untranslated) input lines, through the interim rendering.
    static let counts: [String: (Int, Int, Int)] = [
        "commit-btrfs-sync-fs-wait.txt": (2, 29, 3),   // "power off the machine and reboot it": untranslated
        "commit-ext4-migrate-hole-at-beginning.txt": (4, 25, 0),
        "commit-ext4-move-extent-no-read.txt": (1, 28, 3),
        "commit-xfs-log-inode-unwritten-conversion.txt": (7, 38, 0),
        "fstests-btrfs-051.txt": (6, 44, 8),
        "fstests-btrfs-231.txt": (18, 60, 0),
        "fstests-generic-034.txt": (14, 58, 2),
        "fstests-generic-059.txt": (12, 89, 4),   // sleep: a pause, ignored on purpose
        "fstests-generic-336.txt": (16, 60, 0),
        "fstests-generic-483.txt": (25, 74, 3),
        "fstests-generic-506.txt": (11, 61, 8),   // _require_quota, _require_prjquota: requires: quota; the lsproj before/after check is the test's own, untranslated
        "fstests-xfs-053.txt": (3, 49, 1),   // rm -f $SCRATCH_MNT/$seq.* before any file: nothing to remove
        "mail-lore-btrfs-qgroup-ioctl-reserve.txt": (3, 44, 3),
        "seed-btrfs-nocow-reflink-flush.txt": (8, 102, 0),
    ]

    private func corpus() throws -> [(name: String, text: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".txt") }.sorted()
        return try names.map { ($0, try String(contentsOf: Self.directory.appendingPathComponent($0), encoding: .utf8)) }
    }

    func testCorpusHasTwelveOrMoreInputsEachWithSourceAndOperations() throws {
        let inputs = try corpus()
        XCTAssertGreaterThanOrEqual(inputs.count, 12)
        for (name, _) in inputs {
            let base = Self.directory.appendingPathComponent(String(name.dropLast(4)))
            XCTAssertTrue(FileManager.default.fileExists(atPath: base.path + ".source"), "\(name) has no .source")
            XCTAssertTrue(FileManager.default.fileExists(atPath: base.path + ".ops"), "\(name) has no .ops")
        }
        XCTAssertEqual(Set(inputs.map(\.name)), Set(Self.scriptLines.keys), "every input's script lines are pinned")
    }

    func testFinderFindsExactlyTheScriptLines() throws {
        for (name, text) in try corpus() {
            let found = ScriptFinder.find(in: text)
            let script = found.lines.filter { $0.kind == .script || $0.kind == .powerFailure }.flatMap { Array($0.source) }
            XCTAssertEqual(script, (Self.scriptLines[name] ?? []).flatMap { Array($0) }, name)
        }
    }

    func testNoLineOutsideTheScriptIsUntranslatedAndEveryLineIsAccounted() throws {
        for (name, text) in try corpus() {
            let result = ImportFrontEnd(text)
            let rawCount = text.split(separator: "\n", omittingEmptySubsequences: false).count - (text.hasSuffix("\n") ? 1 : 0)
            XCTAssertEqual(result.lines.map(\.number), Array(1...rawCount), name)
            let scriptNumbers = Set(result.found.lines.filter { $0.kind == .script || $0.kind == .powerFailure }.flatMap { Array($0.source) })
            for line in result.lines {
                // Prose that asks for a power failure the script does not make is untranslated on purpose.
                if case .untranslated(let why) = line.disposition, !why.hasPrefix("the prose asks for a power failure") {
                    XCTAssertTrue(scriptNumbers.contains(line.number), "\(name):\(line.number) is not script but untranslated: \(why)")
                }
            }
        }
    }

    func testCountsOfTranslatedIgnoredUntranslatedLines() throws {
        for (name, text) in try corpus() {
            let summary = ImportReport.summary(ImportFrontEnd(text).lines)
            guard let expected = Self.counts[name] else { return XCTFail("\(name): counts not pinned") }
            XCTAssertEqual([summary.translated, summary.ignored, summary.untranslated], [expected.0, expected.1, expected.2], name)
        }
    }

    func testTheSeedReachesItsOperations() throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent("seed-btrfs-nocow-reflink-flush.txt"), encoding: .utf8)
        let result = ImportFrontEnd(text)
        XCTAssertEqual(result.renderedLines, [
            "filesystems: btrfs", "mkfs.btrfs: -b 512M", "size: 512m", "mount.btrfs: nospace_cache",
            "file1: falloc 8k 64m", "file1: close", "padding: pwrite 0 -b 4k 512M   allow ENOSPC", "padding: close", "sync",
            "file1: pwrite 1m 16m", "file1: close", "file1: reflink file1 8k 0 4k", "file1: fsync", "file1: close",
        ])
    }
}

/// The front end reads anything without crashing or hanging: every prefix of every corpus input (a
/// mail cut off anywhere), and noise.
final class ImportRobustnessTests: XCTestCase {
    func testEveryPrefixOfEveryCorpusInput() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: CorpusTests.directory.path).filter { $0.hasSuffix(".txt") }
        for name in names {
            let text = try String(contentsOf: CorpusTests.directory.appendingPathComponent(name), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for count in stride(from: 0, through: lines.count, by: lines.count > 60 ? 3 : 1) {
                let prefix = lines.prefix(count).joined(separator: "\n")
                let result = ImportFrontEnd(prefix)
                // A final newline ends the last line; it does not start another.
                let expected = prefix.split(separator: "\n", omittingEmptySubsequences: false).count - (prefix.hasSuffix("\n") ? 1 : 0)
                XCTAssertEqual(result.lines.count, max(1, expected), "\(name) cut at \(count)")
            }
        }
    }

    func testShellMetacharacterNoise() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab $(){}[]'\"\\`;&|<>#=*?-\n\t0123456789fordoneifthenfi")
        for _ in 0..<300 {
            let text = String((0..<Int.random(in: 0...80, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            _ = ImportFrontEnd(text)
            _ = ShellScript.parse(text)
        }
        XCTAssertNil(ShellArithmetic.evaluate("-(-9223372036854775807 - 1)", variables: [:]))
        XCTAssertNil(ShellArithmetic.evaluate("(-9223372036854775807 - 1) / -1", variables: [:]))
    }
}
