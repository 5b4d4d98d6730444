import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressRunner
import RegressCore

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the tests of tests.d with their summaries.")

    @OptionGroup var location: TestsLocation
    @OptionGroup var filter: SelectionOptions

    func run() throws {
        let selectedCases = filter.cases(from: loadTests(location.library(), names: []))
        var seen = Set<String>()
        let tests = selectedCases.map(\.test).filter { seen.insert($0.name).inserted }
        let width = tests.map(\.name.count).max() ?? 0
        var out = ""
        for test in tests {
            // Where it runs, and where it would be skipped and why: `[btrfs,xfs; ext4: ext4 has no reflink]`.
            let cases = selectedCases.filter { $0.test.name == test.name }
            var places = [cases.filter { $0.skipReason == nil }.map(\.filesystem.rawValue).joined(separator: ",")]
            places += cases.compactMap { testCase in testCase.skipReason.map { "skip on \(testCase.filesystem.rawValue): \($0)" } }
            // What its steps need under the filesystem, from the first step that needs it: `needs power-cut at line 14`.
            let needs = test.requirements.map { "needs \($0.0.rawValue) from line \($0.1.location.line)" }
            out += test.name.padded(to: width) + "  " + test.summary
                + "  [" + (places + needs).filter { !$0.isEmpty }.joined(separator: "; ") + "]\n"
        }
        StandardStream.output.write(out.data(using: .utf8)!)
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a test file.")

    @OptionGroup var location: TestsLocation

    @Argument(help: "The test to show.")
    var test: String

    func run() throws {
        let definition = loadTests(location.library(), names: [test])[0]
        guard let text = FileManager.default.contents(atPath: definition.path) else { fail("\(definition.path): cannot read") }
        StandardStream.output.write(text)
    }
}
