// Imports every test of fstests' generic, btrfs, xfs and ext4 (a checkout given as FSTESTS_DIR; nothing is
// fetched) and prints how the imports went: the classes, the constructs that block the most tests, and a
// faithfulness check of the clean imports against the golden output. Built by bench/import-fstests.
//
// Each test is imported in a child process (this binary with `--one`), so that an import that never ends
// or eats the machine is a class of its own (hung, crashed) and not the end of the measurement: the child
// limits its own address space, the parent kills it after a time limit.
import Foundation
#if canImport(RegressCore)
import RegressCore
#endif

/// The child's limits: an import over either is a bug (the goals are 2 s and 200 MB), the limits only
/// keep one from taking the machine down with it.
let hangSeconds = 20.0
let addressSpaceLimit: rlim_t = 4 << 30

/// An fstests message that reports a failed call, and the errno it names (strerror's text, as xfs_io, cp
/// and fstests' own programs print it).
let errnoMessages: [(String, String)] = [
    ("Operation not permitted", "EPERM"), ("No such file or directory", "ENOENT"), ("Input/output error", "EIO"),
    ("Bad file descriptor", "EBADF"), ("Resource temporarily unavailable", "EAGAIN"), ("Cannot allocate memory", "ENOMEM"),
    ("Permission denied", "EACCES"), ("Device or resource busy", "EBUSY"), ("File exists", "EEXIST"),
    ("Invalid cross-device link", "EXDEV"), ("No such device", "ENODEV"), ("Not a directory", "ENOTDIR"),
    ("Is a directory", "EISDIR"), ("Invalid argument", "EINVAL"), ("Text file busy", "ETXTBSY"), ("File too large", "EFBIG"),
    ("No space left on device", "ENOSPC"), ("Illegal seek", "ESPIPE"), ("Read-only file system", "EROFS"),
    ("Too many links", "EMLINK"), ("Numerical result out of range", "ERANGE"), ("File name too long", "ENAMETOOLONG"),
    ("Function not implemented", "ENOSYS"), ("Directory not empty", "ENOTEMPTY"), ("No data available", "ENODATA"),
    ("Value too large for defined data type", "EOVERFLOW"), ("Operation not supported", "EOPNOTSUPP"),
    ("Structure needs cleaning", "EUCLEAN"), ("Disk quota exceeded", "EDQUOT"), ("Inappropriate ioctl for device", "ENOTTY"),
    ("Stale file handle", "ESTALE"), ("Invalid exchange", "EBADE"), ("Operation canceled", "ECANCELED"),
]

struct Record: Codable {
    var test: String
    var kind: String          // clean, partial, refused, crashed, hung
    var milliseconds: Int
    var maxRSSKiB: Int
    /// The distinct constructs of the untranslated lines.
    var blockers: [String] = []
    /// For each blocker, its first line and reason: `NUMBER: TEXT — WHY`.
    var examples: [String] = []
    /// Errnos the golden output names that no step of the import expects or allows.
    var missingExpectations: [String] = []
    /// Input lines that run a program and were ignored as prose.
    var proseProgramLines: [String] = []
}

/// The construct an untranslated line stands for, so that lines blocked by the same thing count together:
/// the shell keyword, the fstests helper or the program the line runs, or the kind of refusal.
func construct(of line: ImportLine, why: String) -> String {
    if why.contains("needs an earlier step that creates it") || why.contains("no step created") { return "verify/read of a file no step created" }
    if why.contains("too large to unroll") { return "too large to unroll" }
    if why.hasPrefix("'if' on a condition") { return "if decided at run time" }
    if why.hasPrefix("loop over") { return "for over an unexpanded list" }
    if why.contains("second mkfs") { return "a second mkfs" }
    if why.hasPrefix("the script ends") { return "unterminated block" }
    for keyword in ["while", "until", "case", "select"] where why.hasPrefix("'\(keyword)'") { return keyword }
    if why.contains("not expanded (no value in the script)") {
        let variable = why.split(separator: " ").first.map(String.init) ?? "?"
        return "unexpanded \(variable.trimmingCharacters(in: CharacterSet(charactersIn: ",")))"
    }
    if why.contains("is outside the test filesystem") || why.contains("outside the test filesystem") {
        return line.text.contains("TEST_DIR") ? "path on the test filesystem ($TEST_DIR)" : "path outside the scratch filesystem"
    }
    // The program the line runs: its first word, fstests' `$FOO_PROG` by its name.
    var words = line.text.trimmingCharacters(in: .whitespaces).split(separator: " ").map(String.init)
    while let first = words.first, first.contains("=") && !first.hasPrefix("$") || ["!", "(", "{", "then", "else", "do", "&&", "||"].contains(first) { words.removeFirst() }
    guard var program = words.first else { return "?" }
    // A continued command's later line (`-c "fiemap" \`): the xfs_io command it holds.
    if program == "-c" || program == "-fc" { return "xfs_io " + (words.dropFirst().first?.trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) ?? "") }
    program = program.trimmingCharacters(in: CharacterSet(charactersIn: "\"'(){};"))
    if program.hasPrefix("$") { program = program.trimmingCharacters(in: CharacterSet(charactersIn: "${}")) }
    if program.hasSuffix("_PROG") { program = String(program.dropLast(5)).lowercased() }
    if program.hasPrefix("here/src/") || program.hasPrefix("./src/") { program = "src/" + (program.split(separator: "/").last.map(String.init) ?? "") }
    if program == "xfs_io" || program == "XFS_IO" {
        // xfs_io's own command, which is what is missing.
        if let range = line.text.range(of: "-c \"") ?? line.text.range(of: "-c '") {
            let command = line.text[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == "\"" || $0 == "'" }).first.map(String.init) ?? ""
            return "xfs_io \(command)"
        }
        return "xfs_io"
    }
    if program == "btrfs", words.count > 2 { return "btrfs \(words[1]) \(words[2])" }
    return program
}

func importOne(_ path: String) -> Record {
    let name = path.split(separator: "/").suffix(2).joined(separator: "/")
    let start = Date()
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        return Record(test: name, kind: "crashed", milliseconds: 0, maxRSSKiB: 0, blockers: ["not UTF-8"])
    }
    let golden = try? String(contentsOfFile: path + ".out", encoding: .utf8)
    let output = ReproducerImporter().importScript(text, name: name, inputPath: path, goldenOutput: golden)
    let elapsed = Int(Date().timeIntervalSince(start) * 1000)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    var record = Record(test: name, kind: "", milliseconds: elapsed, maxRSSKiB: usage.ru_maxrss)
    var blockers: [String] = []
    for line in output.lines {
        switch line.disposition {
        case .untranslated(let why):
            let key = construct(of: line, why: why)
            if !blockers.contains(key) {
                blockers.append(key)
                record.examples.append("\(line.number): \(line.text.trimmingCharacters(in: .whitespaces).prefix(80)) — \(why.prefix(200))")
            }
        case .ignored(.prose):
            let trimmed = line.text.trimmingCharacters(in: .whitespaces)
            // fstests' tests are shell scripts: nothing in them is prose but comments and blanks.
            if !trimmed.isEmpty && !trimmed.hasPrefix("#") { record.proseProgramLines.append(trimmed) }
        default: break
        }
    }
    for line in output.untranslatedGoldenLines {
        let failure = GoldenOutput.failure(line.text, number: line.number)
        let key = "golden output: a failure no step makes (\(failure?.commands.first ?? "unnamed call"))"
        if !blockers.contains(key) { blockers.append(key); record.examples.append("golden \(line.number): \(line.text)") }
    }
    record.blockers = blockers
    record.kind = output.text == nil ? "refused" : blockers.isEmpty ? "clean" : "partial"
    // The golden output's error messages, each of which should be a step's expectation.
    if let golden, let test = output.text {
        let expected = Set(test.split(separator: "\n").flatMap { line -> [String] in
            let words = line.split(separator: " ").map(String.init)
            guard let at = words.firstIndex(where: { $0 == "expect" || $0 == "allow" }) else { return [] }
            return words[(at + 1)...].flatMap { $0.split(separator: ",").map(String.init) }
        })
        for line in golden.split(separator: "\n") {
            for (message, errno) in errnoMessages where line.contains(message) {
                if !expected.contains(errno) && !record.missingExpectations.contains(errno) { record.missingExpectations.append(errno) }
            }
        }
    }
    return record
}

func runChild(_ executable: String, _ path: String) -> Record {
    let name = path.split(separator: "/").suffix(2).joined(separator: "/")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = ["--one", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    let start = Date()
    do { try process.run() } catch { return Record(test: name, kind: "crashed", milliseconds: 0, maxRSSKiB: 0, blockers: ["spawn: \(error)"]) }
    final class Box: @unchecked Sendable { var data = Data() }
    let done = DispatchSemaphore(value: 0)
    let box = Box()
    DispatchQueue.global().async {
        box.data = pipe.fileHandleForReading.readDataToEndOfFile()
        done.signal()
    }
    if done.wait(timeout: .now() + hangSeconds) == .timedOut {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        _ = done.wait(timeout: .now() + 5)
        return Record(test: name, kind: "hung", milliseconds: Int(hangSeconds * 1000), maxRSSKiB: 0)
    }
    process.waitUntilExit()
    let elapsed = Int(Date().timeIntervalSince(start) * 1000)
    guard process.terminationReason == .exit, process.terminationStatus == 0,
          let record = try? JSONDecoder().decode(Record.self, from: box.data) else {
        return Record(test: name, kind: "crashed", milliseconds: elapsed, maxRSSKiB: 0,
                      blockers: ["exit \(process.terminationReason == .exit ? "status" : "signal") \(process.terminationStatus)"])
    }
    return record
}

let arguments = CommandLine.arguments
if arguments.count == 3 && arguments[1] == "--one" {
    var limit = rlimit(rlim_cur: addressSpaceLimit, rlim_max: addressSpaceLimit)
    setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
    let record = importOne(arguments[2])
    FileHandle.standardOutput.write(try! JSONEncoder().encode(record))
    exit(0)
}

if arguments.count == 3 && arguments[1] == "--show" {
    // What `regress import` prints for one test, and the test it writes.
    let text = try! String(contentsOfFile: arguments[2], encoding: .utf8)
    let golden = try? String(contentsOfFile: arguments[2] + ".out", encoding: .utf8)
    let output = ReproducerImporter().importScript(text, name: arguments[2], inputPath: arguments[2], goldenOutput: golden)
    print(ImportReport.render(output.lines))
    if !output.goldenLines.isEmpty { print("golden output:\n" + ImportReport.render(output.goldenLines)) }
    print(output.text ?? "(no test written)")
    exit(0)
}
guard arguments.count >= 2 else {
    FileHandle.standardError.write("usage: import-fstests FSTESTS_DIR [-v] [-records FILE] [-only SUBSTRING]\n".data(using: .utf8)!)
    exit(2)
}
let root = arguments[1]
let verbose = arguments.contains("-v")
let recordsPath = arguments.firstIndex(of: "-records").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
let only = arguments.firstIndex(of: "-only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
var tests: [String] = []
for directory in ["generic", "btrfs", "xfs", "ext4"] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/tests/\(directory)")) ?? []
    tests += names.filter { !$0.isEmpty && $0.allSatisfy(\.isNumber) }.sorted().map { "\(root)/tests/\(directory)/\($0)" }
}
if let only { tests = tests.filter { $0.contains(only) } }
guard !tests.isEmpty else {
    FileHandle.standardError.write("import-fstests: no tests under \(root)/tests/{generic,btrfs,xfs,ext4}\n".data(using: .utf8)!)
    exit(2)
}
let executable = URL(fileURLWithPath: arguments[0]).path
var records: [Record] = []
for (index, test) in tests.enumerated() {
    records.append(runChild(executable, test))
    if (index + 1) % 200 == 0 { FileHandle.standardError.write("\(index + 1)/\(tests.count)\n".data(using: .utf8)!) }
}
if let recordsPath {
    let lines = records.map { String(data: try! JSONEncoder().encode($0), encoding: .utf8)! }
    try? (lines.joined(separator: "\n") + "\n").write(toFile: recordsPath, atomically: true, encoding: .utf8)
}

func count(_ kind: String) -> Int { records.filter { $0.kind == kind }.count }
let clean = records.filter { $0.kind == "clean" }
let faithful = clean.filter { $0.missingExpectations.isEmpty && $0.proseProgramLines.isEmpty }
print("fstests at \(root): \(records.count) tests (generic, btrfs, xfs, ext4)")
print("classes: clean \(count("clean")), partial \(count("partial")), refused \(count("refused")), crashed \(count("crashed")), hung \(count("hung"))")
print("clean and faithful: \(faithful.count) (\(String(format: "%.1f", 100 * Double(faithful.count) / Double(records.count)))%)")
let times = records.filter { $0.kind != "hung" }.map(\.milliseconds).sorted()
if !times.isEmpty {
    print("time per import: median \(times[times.count / 2]) ms, max \(times.last!) ms; over 2 s: \(records.filter { $0.milliseconds > 2000 }.count)")
}
let rss = records.map(\.maxRSSKiB).sorted()
print("peak RSS per import: median \(rss[rss.count / 2] / 1024) MB, max \(rss.last! / 1024) MB; over 200 MB: \(records.filter { $0.maxRSSKiB > 200 * 1024 }.count)")
let flipped = records.filter { !$0.missingExpectations.isEmpty && $0.kind != "refused" }
let prose = records.filter { !$0.proseProgramLines.isEmpty }
print("faithfulness: clean imports missing an expected errno of the golden output: \(clean.filter { !$0.missingExpectations.isEmpty }.count) (all imports written: \(flipped.count)); imports with a program line taken for prose: \(prose.count) (clean: \(clean.filter { !$0.proseProgramLines.isEmpty }.count))")
for record in clean where !record.missingExpectations.isEmpty || !record.proseProgramLines.isEmpty {
    print("  unfaithful \(record.test): " + (record.missingExpectations.isEmpty ? "" : "golden output's \(record.missingExpectations.joined(separator: ",")) not expected; ")
          + (record.proseProgramLines.isEmpty ? "" : "prose: \(record.proseProgramLines.prefix(2).joined(separator: " | "))"))
}
for record in records where record.kind == "crashed" || record.kind == "hung" {
    print("  \(record.kind) \(record.test) \(record.blockers.joined(separator: "; "))")
}
var blocking: [String: Int] = [:]
var alone: [String: Int] = [:]
var example: [String: String] = [:]
for record in records where record.kind == "partial" || record.kind == "refused" {
    for (index, blocker) in record.blockers.enumerated() {
        blocking[blocker, default: 0] += 1
        if example[blocker] == nil, index < record.examples.count { example[blocker] = "\(record.test):\(record.examples[index])" }
    }
    if record.blockers.count == 1 { alone[record.blockers[0], default: 0] += 1 }
}
print("one construct away: \(records.filter { $0.kind == "partial" && $0.blockers.count == 1 }.count) partial imports")
print("top blocking constructs (tests blocked; of them blocked by it alone):")
for (key, value) in blocking.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }).prefix(verbose ? 120 : 40) {
    print(String(format: "  %5d %5d  ", value, alone[key] ?? 0) + key + (verbose ? "\n               e.g. " + (example[key] ?? "") : ""))
}
