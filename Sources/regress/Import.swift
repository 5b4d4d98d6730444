import ArgumentParser
import Foundation
import RegressRunner
import RegressCore

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a shell reproducer (mkfs, mount -o, xfs_io -c lines) into a test file.",
        discussion: "Accepts a plain script or a whole mail or patch with the script in it. Lines it cannot translate are listed on standard error."
    )

    @Argument(help: "The reproducer script (or the mail that contains it).")
    var script: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the test here (e.g. tests.d/NAME) instead of standard output.", valueName: "file"))
    var output: String?

    func run() throws {
        guard let data = FileManager.default.contents(atPath: script), let text = String(data: data, encoding: .utf8) else {
            fail("\(script): cannot read")
        }
        let name = ((output ?? script) as NSString).lastPathComponent
        let imported = ReproducerImporter().importScript(text, name: name)
        for line in imported.untranslated { printError("\(script):\(line)") }
        if let output {
            if FileManager.default.fileExists(atPath: output) { fail("\(output): exists; not overwriting it") }
            guard FileManager.default.createFile(atPath: output, contents: imported.text.data(using: .utf8)) else {
                fail("\(output): cannot write")
            }
            printError("wrote \(output) (\(imported.untranslated.count) line(s) not translated)")
        } else {
            FileHandle.standardOutput.write(imported.text.data(using: .utf8)!)
        }
    }
}
