// libFuzzer harness for TestParser. Not part of the SwiftPM package: bench/fuzz-parser compiles it with
// `swiftc -sanitize=fuzzer` together with the parser's own sources (Language/, Errno, FilesystemKind) and
// ParserFuzzerStubs.swift, so that a fuzzing build needs neither libmount nor a device.
//
// The properties are those of Tests/RegressCoreTests/ParserFuzzTests.swift: whatever the input, the
// parser accepts a test with steps, each on a line of the input and re-parsing from its own text to the
// same step, or rejects it with a Diagnostic `fuzz/case:LINE:COL: message` whose LINE is a line of the
// input. A violated property traps, and libFuzzer keeps the input as a crash artifact.

#if canImport(Glibc)
import Glibc
#endif

let path = ParserProperties.path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // TestLibrary refuses files that are not UTF-8 before parsing: such inputs are not the parser's.
    guard let input = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return -1 }
    let lineCount = input.utf8.reduce(1) { $1 == 0x0a ? $0 + 1 : $0 }
    let definition: TestDefinition
    do {
        definition = try TestParser(path: path, name: "case").parse(input)
    } catch let diagnostic as Diagnostic {
        if let problem = ParserProperties.problemWithDiagnostic(diagnostic, lineCount: lineCount) {
            fatalError("\(problem): \(diagnostic)")
        }
        return 0
    } catch {
        fatalError("the parser threw \(type(of: error)), not a Diagnostic: \(error)")
    }
    if let problem = ParserProperties.problemWithAcceptedTest(definition, source: input, lineCount: lineCount) {
        fatalError("accepted, but \(problem)")
    }
    return 0
}
