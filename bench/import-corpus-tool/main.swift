// Measures the importer's front half on Tests/ImportCorpus: for each input, what became of each line
// (translated / ignored on purpose / untranslated) and how many of the hand-written .ops lines the
// ReproducerOperation layer (through the interim rendering) reaches. Built by bench/import-corpus.
import Foundation

let directory = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Tests/ImportCorpus"
let verbose = CommandLine.arguments.contains("-v")
let names = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasSuffix(".txt") }.sorted() ?? []
var totals = (lines: 0, translated: 0, ignored: 0, untranslated: 0, ops: 0, exact: 0, kind: 0)

/// `file: pwrite -S 0xaa 0 64K  allow ENOSPC` -> `file: pwrite -s 0xaa 0 64k`: expectations and case aside.
func normalise(_ line: String) -> String {
    var words = line.lowercased().split(separator: " ").map(String.init)
    if let expectation = words.firstIndex(where: { $0 == "allow" || $0 == "expect" }) { words = Array(words[..<expectation]) }
    return words.joined(separator: " ")
}
/// The operation's kind: `file: pwrite` / `power-cut` / `mkfs.btrfs:`.
func kind(_ line: String) -> String {
    let words = normalise(line).split(separator: " ").map(String.init)
    guard let first = words.first else { return "" }
    if first.hasSuffix(":"), words.count > 1, !["filesystems:", "mount:", "requires:"].contains(first) && !first.hasPrefix("mkfs") && !first.hasPrefix("mount.") {
        return first + " " + words[1]
    }
    return first
}
func subsequenceMatches(_ wanted: [String], _ have: [String], by key: (String) -> String) -> Int {
    var index = 0
    var matched = 0
    for line in wanted {
        if let found = have[index...].firstIndex(where: { key($0) == key(line) }) {
            matched += 1
            index = found + 1
        }
    }
    return matched
}

print("input                                      lines  transl  ignored  untransl   ops  exact  kind")
for name in names {
    let path = directory + "/" + name
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
    let result = ImportFrontEnd(text)
    let counts = ImportReport.summary(result.lines)
    let opsPath = path.replacingOccurrences(of: ".txt", with: ".ops")
    let ops = ((try? String(contentsOfFile: opsPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty && $0 != "steps:" }
    let rendered = result.renderedLines
    let exact = subsequenceMatches(ops, rendered, by: normalise)
    let kinds = subsequenceMatches(ops, rendered, by: kind)
    totals.lines += result.lines.count
    totals.translated += counts.translated
    totals.ignored += counts.ignored
    totals.untranslated += counts.untranslated
    totals.ops += ops.count
    totals.exact += exact
    totals.kind += kinds
    print(name.padding(toLength: 42, withPad: " ", startingAt: 0), String(format: "%5d  %6d  %7d  %8d  %4d  %5d  %4d", result.lines.count, counts.translated, counts.ignored, counts.untranslated, ops.count, exact, kinds))
    if verbose {
        print(ImportReport.render(result.lines))
        print("rendered:\n  " + rendered.joined(separator: "\n  "))
        let missing = ops.filter { op in !rendered.contains { normalise($0) == normalise(op) } }
        if !missing.isEmpty { print("ops not reached:\n  " + missing.joined(separator: "\n  ")) }
        print("")
    }
}
print("total".padding(toLength: 42, withPad: " ", startingAt: 0), String(format: "%5d  %6d  %7d  %8d  %4d  %5d  %4d", totals.lines, totals.translated, totals.ignored, totals.untranslated, totals.ops, totals.exact, totals.kind))

/// `-lines`: each input's script lines (what the finder gave the shell), as ranges, for pinning in tests.
if CommandLine.arguments.contains("-lines") {
    for name in names {
        guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else { continue }
        let found = ScriptFinder.find(in: text)
        let numbers = found.lines.filter { $0.kind == .script || $0.kind == .powerFailure }.flatMap { Array($0.source) }
        var ranges: [String] = []
        var start: Int?
        var previous = -1
        for number in numbers + [Int.max] {
            if number != previous + 1 {
                if let first = start { ranges.append(first == previous ? "\(first)" : "\(first)...\(previous)") }
                start = number
            }
            previous = number
        }
        print("\"\(name)\": [\(ranges.joined(separator: ", "))],")
    }
}

/// `-reasons`: over the whole corpus, how many lines each disposition and each reason holds.
if CommandLine.arguments.contains("-reasons") {
    var tally: [String: Int] = [:]
    for name in names {
        guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else { continue }
        for line in ImportFrontEnd(text).lines {
            let key: String
            switch line.disposition {
            case .translated(let steps): key = steps.isEmpty ? "translated: sets up the test (no step)" : "translated: into steps"
            case .continues: key = "translated: continues a command"
            case .ignored(let reason):
                switch reason {
                case .assignment: key = "ignored: assignment"
                case .structure: key = "ignored: loop/group structure"
                case .uncalledFunction: key = "ignored: function never called"
                case .setup: key = "ignored: setup, harness or metadata (_require_…, . ./common/…, fsck, exit)"
                default: key = "ignored: " + reason.description
                }
            case .untranslated: key = "UNTRANSLATED"
            }
            tally[key, default: 0] += 1
        }
    }
    for (key, count) in tally.sorted(by: { $0.value > $1.value }) { print(String(format: "%5d  ", count) + key) }
}
