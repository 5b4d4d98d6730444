import ArgumentParser
import Foundation
import RegressRunner

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the tests of tests.d with their summaries.")

    @OptionGroup var location: TestsLocation

    func run() throws {
        let tests = loadTests(location.library(), names: [])
        let width = tests.map(\.name.count).max() ?? 0
        var out = ""
        for test in tests {
            let fs = test.applicableFilesystems.map(\.rawValue).joined(separator: ",")
            out += test.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + test.summary + "  [" + fs + "]\n"
        }
        FileHandle.standardOutput.write(out.data(using: .utf8)!)
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
        FileHandle.standardOutput.write(text)
    }
}
