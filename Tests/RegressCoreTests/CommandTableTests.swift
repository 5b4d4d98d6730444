import Foundation
import XCTest
@testable import RegressCore

/// The command table is the one declaration of the language: the spec and the fuzz dictionary must say
/// what it says, and no more.
final class CommandTableTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testEveryCommandIsSpecifiedWithItsSyntax() throws {
        let spec = try String(contentsOf: Self.root.appendingPathComponent("tests.d/README.md"), encoding: .utf8)
        for command in CommandTable.all {
            // The spec writes `|` inside a table cell as `\|`.
            let usage = (command.target == .file ? "F: " : "") + command.usage.replacingOccurrences(of: "|", with: "\\|")
            XCTAssertTrue(spec.contains("| `\(usage)` |"), "tests.d/README.md has no row for `\(usage)`")
        }
    }

    func testTheSpecNamesNoCommandTheTableLacks() throws {
        let spec = try String(contentsOf: Self.root.appendingPathComponent("tests.d/README.md"), encoding: .utf8)
        // The command tables: from the data commands to the content model's section.
        let start = try XCTUnwrap(spec.range(of: "### Data commands")), end = try XCTUnwrap(spec.range(of: "## What `verify` checks"))
        let names = Set(CommandTable.all.map(\.name))
        for line in spec[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
            var words = line.dropFirst(3).split(separator: " ")
            if words.first?.hasSuffix(":") == true { words.removeFirst() }
            guard let name = words.first.map({ String($0.prefix { $0 != "`" }) }), name.first?.isLowercase == true else { continue }
            XCTAssertTrue(names.contains(name), "tests.d/README.md specifies '\(name)', which is not in the command table")
        }
    }

    func testTheFuzzDictionaryHoldsEveryCommandAndErrno() throws {
        let dictionary = try String(contentsOf: Self.root.appendingPathComponent("bench/fuzz/parser.dict"), encoding: .utf8)
        for command in CommandTable.all {
            XCTAssertTrue(dictionary.contains("\"\(command.name)\""), "bench/fuzz/parser.dict lacks \"\(command.name)\"")
        }
    }

    func testTheFuzzGeneratorKnowsExactlyTheTablesCommands() {
        let generated = Set(FuzzVocabulary.commands.map(\.name)), declared = Set(CommandTable.all.map(\.name))
        XCTAssertEqual(declared.subtracting(generated), [], "commands the fuzz generator never writes")
        XCTAssertEqual(generated.subtracting(declared), ["frobnicate"], "the generator's one deliberate unknown command")
        for shape in FuzzVocabulary.commands where declared.contains(shape.name) {
            XCTAssertEqual(shape.takesFile, CommandTable.spec(shape.name)?.target == .file, shape.name)
        }
    }

    func testEveryCommandParsesFromItsOwnUsage() throws {
        // The usage line with its placeholders filled in must parse: the syntax shown is the syntax taken.
        for command in CommandTable.all {
            let required = command.usage.replacingOccurrences(of: #"\[[^\]]*\]"#, with: "", options: .regularExpression)
            let words = required.split(separator: " ")
            let filled = words.map { word -> String in
                switch word {
                case "OFF", "LEN", "SIZE", "SRC_OFF", "DST_OFF", "BYTES": return "4096"
                case "SRC", "FILE", "FROM", "DONOR": return "src"
                case "TO", "NEW": return "dst"
                case "DIR": return "d"
                case "ERRNO": return "EIO"
                case "on|off": return "on"
                case "+FLAGS|-FLAGS…": return "+C"
                case "N": return "1"
                default: return String(word)
                }
            }.joined(separator: " ")
            // mwrite, msync and munmap act on the file's mapping: map it first.
            let setup = ["src: pwrite 0 8k", "f: pwrite 0 8k"] + (["mwrite", "msync", "munmap"].contains(command.name) ? ["f: mmap 0 8k"] : [])
            let line = (command.target == .file ? "f: " : "") + filled
            XCTAssertNoThrow(try TestParser(path: "usage", name: "usage").parse("steps:\n" + (setup + [line]).joined(separator: "\n")),
                             "\(command.name): '\(line)'")
        }
    }
}
