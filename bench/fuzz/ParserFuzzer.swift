// libFuzzer harness for TestParser. Not part of the SwiftPM package: bench/fuzz-parser compiles it with
// `swiftc -sanitize=fuzzer` together with the parser's own sources (Language/, Errno, FilesystemKind) and
// ParserFuzzerStubs.swift, so that a fuzzing build needs neither libmount nor a device.
//
// The properties are those of Tests/RegressRunnerTests/ParserFuzzTests.swift: whatever the input, the
// parser accepts a test with steps, each on a line of the input and re-parsing from its own text to the
// same step, or rejects it with a Diagnostic `fuzz/case:LINE:COL: message` whose LINE is a line of the
// input. A violated property traps, and libFuzzer keeps the input as a crash artifact.

#if canImport(Glibc)
import Glibc
#endif

let path = "fuzz/case"


@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // TestLibrary refuses files that are not UTF-8 before parsing: such inputs are not the parser's.
    guard let input = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return -1 }
    let lineCount = input.utf8.reduce(1) { $1 == 0x0a ? $0 + 1 : $0 }
    let definition: TestDefinition
    do {
        definition = try TestParser(path: path, name: "case").parse(input)
    } catch let diagnostic as Diagnostic {
        if let problem = problemWithDiagnostic(diagnostic, lineCount: lineCount) {
            fatalError("\(problem): \(diagnostic)")
        }
        return 0
    } catch {
        fatalError("the parser threw \(type(of: error)), not a Diagnostic: \(error)")
    }
    if let problem = problemWithAcceptedTest(definition, source: input, lineCount: lineCount) {
        fatalError("accepted, but \(problem)")
    }
    return 0
}

func problemWithDiagnostic(_ diagnostic: Diagnostic, lineCount: Int) -> String? {
    let text = diagnostic.description
    guard text.hasPrefix(path + ":") else { return "the diagnostic does not start with '\(path):'" }
    let fields = text.dropFirst(path.count + 1).split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
    guard fields.count == 3, let line = Int(fields[0]), let column = Int(fields[1]),
          fields[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), fields[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
          fields[2].hasPrefix(" "), fields[2].count > 1 else {
        return "the diagnostic is not 'PATH:LINE:COL: message'"
    }
    if line < 1 || line > lineCount { return "line \(line) is outside the input's \(lineCount) lines" }
    if column < 1 { return "column \(column) is below 1" }
    if fields[2].unicodeScalars.contains("\n") { return "the message spans lines" }
    return nil
}

func problemWithAcceptedTest(_ test: TestDefinition, source: String, lineCount: Int) -> String? {
    guard let firstStep = test.steps.first else { return "it has no steps" }
    var previousLine = 0
    for step in test.steps {
        let line = step.location.line
        if line <= previousLine || line > lineCount { return "step '\(step.text)' is at line \(line), after line \(previousLine) of \(lineCount)" }
        previousLine = line
        if step.text.isEmpty { return "a step at line \(line) has no text" }
    }
    let lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }   // "\r\n" is one Character: split on the scalar
    let rebuilt = lines.prefix(firstStep.location.line - 1).joined(separator: "\n") + "\n" + test.steps.map(\.text).joined(separator: "\n") + "\n"
    let again: TestDefinition
    do { again = try TestParser(path: path, name: "case").parse(rebuilt) } catch {
        return "its steps' texts, parsed again, are rejected: \(error)"
    }
    guard again.steps.count == test.steps.count else { return "its steps' texts parse to \(again.steps.count) steps, not \(test.steps.count)" }
    for (a, b) in zip(test.steps, again.steps) where a.command != b.command || a.file != b.file || a.expectation != b.expectation {
        return "step '\(a.text)' parses differently from its own text"
    }
    return nil
}
