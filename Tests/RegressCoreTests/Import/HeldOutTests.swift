import Foundation
import XCTest
@testable import RegressCore

/// The held-out set (Tests/ImportHeldOut, see its README): 16 real reproducers collected before the
/// importer was changed for them. Each input's import is pinned: the test file it writes (NAME.expected,
/// absent where none is written), its counts of translated, ignored and untranslated lines, and the
/// lines still untranslated with why, so that a change that moves any of them says so.
final class HeldOutTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ImportHeldOut")

    /// (translated, ignored on purpose, untranslated) input lines.
    static let counts: [String: (Int, Int, Int)] = [
        "commit-btrfs-prealloc-past-isize-log-replay": (8, 37, 0),
        "fstests-btrfs-098": (13, 82, 0),
        "fstests-btrfs-159": (11, 76, 1),
        "fstests-ext4-046": (13, 65, 0),
        "fstests-generic-056": (10, 58, 0),
        "fstests-generic-376": (11, 40, 0),
        "fstests-generic-501": (12, 52, 0),
        "fstests-generic-588": (17, 53, 0),
        "fstests-xfs-072": (11, 45, 0),
        "mail-btrfs-ranged-fsync-hole-msync": (14, 92, 0),
        "mail-btrfs-rename-evicted-dir-lost-inode": (15, 95, 0),
        "mail-btrfs-truncate-isize-fsync": (15, 104, 0),
        "mail-ext4-migrate-csum-seed": (6, 85, 0),
        "mail-ext4-partial-zero-eof-mmap": (2, 90, 0),
        "mail-xfs-swapext-log-recovery": (16, 46, 0),
        "mail-xfs-unshare-cowblocks-dirty-pagecache": (5, 155, 1),
    ]

    /// The lines left untranslated, and a word of why: each a gap of the language or of what a test is.
    static let untranslated: [String: [Int: String]] = [
        "fstests-btrfs-159": [40: "second mkfs"],
        "mail-xfs-unshare-cowblocks-dirty-pagecache": [46: "prints the extent map"],
    ]

    private func inputs() throws -> [(name: String, text: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".txt") }.sorted()
        return try names.map { (String($0.dropLast(4)), try String(contentsOf: Self.directory.appendingPathComponent($0), encoding: .utf8)) }
    }

    private func imported(_ name: String, _ text: String) -> ReproducerImporter.Output {
        ReproducerImporter().importScript(text, name: name, inputPath: "Tests/ImportHeldOut/\(name).txt")
    }

    func testSixteenInputsEachWithItsSource() throws {
        let inputs = try inputs()
        XCTAssertEqual(inputs.count, 16)
        XCTAssertEqual(Set(inputs.map(\.name)), Set(Self.counts.keys))
        for (name, _) in inputs {
            let source = try String(contentsOf: Self.directory.appendingPathComponent(name + ".source"), encoding: .utf8)
            XCTAssertTrue(source.hasPrefix("https://"), "\(name).source cites where it came from")
            XCTAssertTrue(source.contains("Chosen"), "\(name).source says why it was chosen")
        }
    }

    func testEachImportsToItsPinnedTest() throws {
        for (name, text) in try inputs() {
            let expectedURL = Self.directory.appendingPathComponent(name + ".expected")
            let expected = try? String(contentsOf: expectedURL, encoding: .utf8)
            let output = imported(name, text)
            XCTAssertEqual(output.text, expected, name)
            if output.text != nil { XCTAssertGreaterThan(output.dataSteps, 0, name) }
        }
    }

    func testCountsAndTheLinesStillUntranslated() throws {
        for (name, text) in try inputs() {
            let output = imported(name, text)
            let summary = ImportReport.summary(output.lines)
            guard let expected = Self.counts[name] else { return XCTFail("\(name): counts not pinned") }
            XCTAssertEqual([summary.translated, summary.ignored, summary.untranslated], [expected.0, expected.1, expected.2], name)
            var reasons: [Int: String] = [:]
            for line in output.untranslated { if case .untranslated(let why) = line.disposition { reasons[line.number] = why } }
            let pinned = Self.untranslated[name] ?? [:]
            XCTAssertEqual(Set(reasons.keys), Set(pinned.keys), name)
            for (number, word) in pinned { XCTAssertTrue(reasons[number]?.contains(word) == true, "\(name):\(number): \(reasons[number] ?? "-")") }
        }
    }

    /// The front end reads every cut of every held-out input (a mail cut anywhere: inside an `if`, a
    /// base64 or format=flowed line, a placeholder) without crashing, accounting for each line.
    func testEveryPrefixOfEveryHeldOutInput() throws {
        for (name, text) in try inputs() {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for count in stride(from: 0, through: lines.count, by: 7) {
                let prefix = lines.prefix(count).joined(separator: "\n")
                let expected = prefix.split(separator: "\n", omittingEmptySubsequences: false).count - (prefix.hasSuffix("\n") ? 1 : 0)
                XCTAssertEqual(ImportFrontEnd(prefix).lines.count, max(1, expected), "\(name) cut at \(count)")
            }
        }
    }

    /// The issue's own bar: no input imports to a test none of whose steps is one of its file operations.
    func testNoWrittenTestIsWithoutTheReproducersOperations() throws {
        for (name, text) in try inputs() {
            let output = imported(name, text)
            guard let test = output.text else { continue }
            let steps = test.split(separator: "\n").drop { $0 != "steps:" }.dropFirst().filter { !$0.hasPrefix("#") }
            let added = ["verify", "remount"]
            XCTAssertTrue(steps.contains { !added.contains(String($0)) }, "\(name): only the steps the import adds")
        }
    }
}
