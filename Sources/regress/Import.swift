import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressCore

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a reproducer (a script, a mail or patch with the script in it, an fstests test) into a test file.",
        discussion: """
        Prints on standard error what became of every input line: translated (into which steps), ignored on \
        purpose (prose, headers, the diff, comments, setup) or UNTRANSLATED (with its line number and why). \
        A reproducer none of whose file operations became a step is not written: exit 1.
        """
    )

    @Argument(help: "The reproducer script (or the mail that contains it).")
    var script: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the test here (e.g. tests.d/NAME) instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(name: .shortAndLong, help: "Print only the untranslated lines, not every line.")
    var quiet = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: script), let text = String(data: data, encoding: .utf8) else {
            fail("\(script): cannot read it (no such file, or not UTF-8 text)")
        }
        if let output, FileManager.default.fileExists(atPath: output) { fail("\(output): exists; not overwriting it") }
        let name = URL(fileURLWithPath: output ?? script).lastPathComponent
        // fstests keeps a test's golden output beside it (tests/btrfs/113.out): the oracle of its check.
        let goldenPath = script + ".out"
        let golden = FileManager.default.contents(atPath: goldenPath).flatMap { String(data: $0, encoding: .utf8) }
        let imported = ReproducerImporter().importScript(text, name: name, inputPath: script, goldenOutput: golden)
        var report = quiet ? ImportReport.untranslated(imported.lines, file: script).joined(separator: "\n")
                           : ImportReport.render(imported.lines).trimmingNewlines
        if !imported.goldenLines.isEmpty {
            let goldenReport = quiet ? ImportReport.untranslated(imported.goldenLines, file: goldenPath).joined(separator: "\n")
                                     : "\(goldenPath):\n" + ImportReport.render(imported.goldenLines).trimmingNewlines
            if !goldenReport.isEmpty { report += (report.isEmpty ? "" : "\n") + goldenReport }
        }
        if !report.isEmpty { printError(report) }
        guard let test = imported.text else {
            fail("\(script): none of the reproducer's file operations became a step, so no test was written (it would exercise nothing)",
                 status: ExitStatus.failed)
        }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: test.data(using: .utf8)) else { fail("\(output): cannot write") }
            printError("wrote \(output): \(imported.dataSteps) data step(s), \(imported.untranslated.count + imported.untranslatedGoldenLines.count) line(s) untranslated")
        } else {
            StandardStream.output.write(test.data(using: .utf8)!)
        }
    }
}
