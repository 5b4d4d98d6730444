// The properties every parse must have, shared by the unit suite's fuzz test (ParserFuzzTests) and the
// libFuzzer harness (bench/fuzz/ParserFuzzer.swift, compiled outside SwiftPM with the parser's sources).
// The harness compiles RegressCore's sources into its own module, so it has no RegressCore to import; it says so
// with `-D PARSER_FUZZ_HARNESS`. (`canImport` is no test: whether a module is importable depends on build order.)
#if !PARSER_FUZZ_HARNESS
import RegressCore
#endif

enum ParserProperties {
    /// The path every fuzz input is parsed under.
    static let path = "fuzz/case"

    /// `fuzz/case:LINE:COL: message`, with LINE a line of the input and COL at least 1.
    static func problemWithDiagnostic(_ diagnostic: Diagnostic, lineCount: Int) -> String? {
        let text = diagnostic.description
        guard text.hasPrefix(path + ":") else { return "the diagnostic does not start with '\(path):'" }
        let fields = text.dropFirst(path.count + 1).split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, let line = Int(fields[0]), let column = Int(fields[1]),
              fields[0].allSatisfy({ $0.isASCII && $0.isNumber }), fields[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              fields[2].hasPrefix(" "), fields[2].count > 1 else {
            return "the diagnostic is not 'PATH:LINE:COL: message'"
        }
        if line < 1 || line > lineCount { return "line \(line) is outside the input's \(lineCount) lines" }
        if column < 1 { return "column \(column) is below 1" }
        if fields[2].unicodeScalars.contains("\n") { return "the message spans lines" }
        return nil
    }

    /// An accepted test has steps, each located on a line of its own that says what the step is; and the
    /// step's text, parsed again after the same header, gives the same step.
    static func problemWithAcceptedTest(_ test: TestDefinition, source: String, lineCount: Int) -> String? {
        guard let firstStep = test.steps.first else { return "it has no steps" }
        var previousLine = 0
        for step in test.steps {
            let line = step.location.line
            if line <= previousLine || line > lineCount { return "step '\(step.text)' is at line \(line), after line \(previousLine) of \(lineCount)" }
            previousLine = line
            if step.text.isEmpty { return "a step at line \(line) has no text" }
            if (step.file == nil) != (step.spec.target == .filesystem) {
                return "step '\(step.text)' has file \(step.file.debugDescription) for \(step.name), whose table entry says \(step.spec.target)"
            }
        }
        // Rebuild the file from its header and the steps' texts alone: blank and comment lines between steps
        // drop out, nothing else may change.
        let lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }   // "\r\n" is one Character: split on the scalar
        let header = lines.prefix(firstStep.location.line - 1).joined(separator: "\n")
        let rebuilt = header + "\n" + test.steps.map(\.text).joined(separator: "\n") + "\n"
        let again: TestDefinition
        do { again = try TestParser(path: path, name: "case").parse(rebuilt) } catch {
            return "its steps' texts, parsed again, are rejected: \(error)"
        }
        guard again.steps.count == test.steps.count else { return "its steps' texts parse to \(again.steps.count) steps, not \(test.steps.count)" }
        for (a, b) in zip(test.steps, again.steps) where a.command != b.command || a.file != b.file || a.expectation != b.expectation {
            return "step '\(a.text)' parses differently from its own text: \(a.command) vs \(b.command)"
        }
        return nil
    }
}
