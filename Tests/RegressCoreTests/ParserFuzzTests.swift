import Foundation
import Testing
@testable import RegressCore

/// A deterministic fuzz test of `TestParser`: ten thousand inputs made by mutating the real test files of
/// tests.d and a few hand-written ones that use every command, with a fixed seed so a failure reproduces.
///
/// The parser reads files written by people and by scripts; whatever it is given it must either accept a
/// test that makes sense or reject it with one `FILE:LINE:COL: message` line, and never trap (a trap in
/// `regress list` would hide every other test), loop or point at a line the file does not have.
///
/// A crash kills the test process before it can say which input did it: set REGRESS_FUZZ_TRACE=1 to print
/// each input's number before it is parsed, then REGRESS_FUZZ_ONLY=N to print and parse that one alone.
/// bench/fuzz-parser runs the same properties far longer under libFuzzer.
@Suite struct ParserFuzzTests {
    static let inputCount = 10_000
    static let seed: UInt64 = 0x5eed_2024_0f5e_ed01
    /// Generous: the whole run takes a few seconds in a debug build; only a parser stuck in a loop (or one
    /// gone quadratic on long lines) gets near it.
    static let hangLimitSeconds = 120.0
    static let path = ParserProperties.path

    @Test func mutatedTestFilesParseOrAreRejectedWithALocatedDiagnostic() throws {
        let seeds = try Self.seedFiles()
        let environment = ProcessInfo.processInfo.environment
        let trace = environment["REGRESS_FUZZ_TRACE"] != nil
        let only = environment["REGRESS_FUZZ_ONLY"].flatMap(Int.init)

        // The loop runs on its own thread so that a parser stuck in a loop fails the test with the input's
        // number instead of hanging the suite.
        let progress = FuzzProgress()
        let finished = DispatchSemaphore(value: 0)
        let worker = Thread {
            var generator = FuzzInputGenerator(seeds: seeds, seed: Self.seed)
            for index in 0..<Self.inputCount {
                let input = generator.next()
                if let only, index != only { continue }
                progress.begin(index)
                if trace || only != nil { FileHandle.standardError.write("fuzz input \(index): \(input.debugDescription)\n".data(using: .utf8)!) }
                progress.record(Self.check(input, index: index))
            }
            finished.signal()
        }
        worker.start()
        guard finished.wait(timeout: .now() + Self.hangLimitSeconds) == .success else {
            Issue.record("the parser did not finish within \(Int(Self.hangLimitSeconds)) s; stuck on fuzz input \(progress.current) (REGRESS_FUZZ_ONLY=\(progress.current) prints it)")
            return
        }

        let outcome = progress.snapshot()
        print("fuzz: \(outcome.accepted) accepted, \(outcome.rejected) rejected, \(outcome.failures.count) failures")
        for failure in outcome.failures.prefix(10) { Issue.record(Comment(rawValue: failure.message)) }
        #expect(outcome.failures.isEmpty, "\(outcome.failures.count) of \(Self.inputCount) fuzz inputs broke a property")
        // A generator that only ever produces garbage (or only valid files) would test one side of the parser.
        if only == nil {
            #expect(outcome.accepted > Self.inputCount / 20, "only \(outcome.accepted) inputs parsed: the mutations are too destructive")
            #expect(outcome.rejected > Self.inputCount / 5, "only \(outcome.rejected) inputs were rejected: the mutations are too gentle")
        }
    }

    /// Found by the fuzz test: "\r\n" is one Character in Swift, and the parser once split lines on the
    /// Character "\n", reading a Windows file as one line.
    @Test func windowsLineEndingsParseAsUnixOnes() throws {
        let unix = try Self.seedFiles()[0]
        let windows = unix.replacingOccurrences(of: "\n", with: "\r\n")
        let expected = try TestParser(path: Self.path, name: "case").parse(unix)
        let parsed = try TestParser(path: Self.path, name: "case").parse(windows)
        #expect(parsed.steps.map(\.command) == expected.steps.map(\.command))
        #expect(parsed.steps.map(\.location.line) == expected.steps.map(\.location.line))
    }

    /// Mutations are meant to start from valid tests: every seed, tests.d's and the hand-written ones, parses.
    @Test func everySeedParses() throws {
        let seeds = try Self.testsDirectoryFiles() + FuzzVocabulary.handWrittenTests.enumerated().map { ("hand-written-\($0)", $1) }
        for (name, text) in seeds {
            #expect(throws: Never.self, "\(name)") { _ = try TestParser(path: name, name: name).parse(text) }
        }
    }

    static var testsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../tests.d").standardized.path
    }

    /// tests.d's test files, as (path, text).
    static func testsDirectoryFiles() throws -> [(String, String)] {
        var files: [(String, String)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: testsDirectory).sorted()
        where !name.hasPrefix(".") && !name.hasSuffix(".md") {
            if let text = try? String(contentsOfFile: testsDirectory + "/" + name, encoding: .utf8) { files.append(("tests.d/" + name, text)) }
        }
        #expect(!files.isEmpty, "no test files found in \(testsDirectory)")
        return files
    }

    /// The real tests of tests.d, and hand-written ones so that every command and key is in the mix.
    static func seedFiles() throws -> [String] {
        try testsDirectoryFiles().map(\.1) + FuzzVocabulary.handWrittenTests
    }

    /// Parses one input and checks the properties that apply to its outcome.
    static func check(_ input: String, index: Int) -> FuzzCheck {
        let lineCount = input.unicodeScalars.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        let definition: TestDefinition
        do {
            definition = try TestParser(path: path, name: "case").parse(input)
        } catch let diagnostic as Diagnostic {
            if let problem = ParserProperties.problemWithDiagnostic(diagnostic, lineCount: lineCount) {
                return .failed(input: input, "input \(index): \(problem)\n  diagnostic: \(diagnostic)\n  input: \(input.debugDescription.prefix(2000))")
            }
            return .rejected
        } catch {
            return .failed(input: input, "input \(index): the parser threw \(type(of: error)) (\(error)), not a Diagnostic\n  input: \(input.debugDescription.prefix(2000))")
        }
        if let problem = ParserProperties.problemWithAcceptedTest(definition, source: input, lineCount: lineCount) {
            return .failed(input: input, "input \(index): accepted, but \(problem)\n  input: \(input.debugDescription.prefix(2000))")
        }
        return .accepted
    }
}

enum FuzzCheck {
    case accepted, rejected, failed(FuzzFailure)
    static func failed(input: String, _ message: String) -> FuzzCheck {
        .failed(FuzzFailure(message: message))
    }
}

struct FuzzFailure { let message: String }

/// What the fuzz thread has done so far, read by the test's thread.
final class FuzzProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var currentIndex = 0
    private var accepted = 0, rejected = 0
    private var failures: [FuzzFailure] = []

    func begin(_ index: Int) { lock.lock(); currentIndex = index; lock.unlock() }
    var current: Int { lock.lock(); defer { lock.unlock() }; return currentIndex }

    func record(_ check: FuzzCheck) {
        lock.lock(); defer { lock.unlock() }
        switch check {
        case .accepted: accepted += 1
        case .rejected: rejected += 1
        case .failed(let message): failures.append(message)
        }
    }

    func snapshot() -> (accepted: Int, rejected: Int, failures: [FuzzFailure]) {
        lock.lock(); defer { lock.unlock() }
        return (accepted, rejected, failures)
    }
}

/// Makes inputs: a seed file with one to four mutations, or (one time in eight) a test written from scratch.
/// Mutations work on UTF-8 bytes, line by line: String and Character operations would make the generator,
/// not the parser, the slow part of a debug build. A mutation may cut a multi-byte character in two; the
/// input is decoded with repair (U+FFFD), as only valid UTF-8 ever reaches the parser (TestLibrary refuses
/// the rest).
struct FuzzInputGenerator {
    typealias Line = [UInt8]
    let seeds: [[Line]]
    var random: SplitMix64

    init(seeds: [String], seed: UInt64) {
        self.seeds = seeds.map(FuzzInputGenerator.lines)
        random = SplitMix64(seed: seed)
    }

    static func lines(_ text: String) -> [Line] { Array(text.utf8).split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init) }

    mutating func next() -> String {
        var lines = chance(8) ? randomTest() : seeds.randomElement(using: &random)!
        for _ in 0..<Int.random(in: 1...4, using: &random) { mutate(&lines) }
        return String(decoding: FuzzInputGenerator.joined(lines, separator: 0x0a), as: UTF8.self)
    }

    /// `joined(separator:)` goes through FlattenSequence, a byte at a time: slow in a debug build.
    static func joined<S: Collection>(_ parts: [S], separator: UInt8) -> [UInt8] where S.Element == UInt8 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parts.reduce(parts.count) { $0 + $1.count })
        for (index, part) in parts.enumerated() {
            if index > 0 { bytes.append(separator) }
            bytes.append(contentsOf: part)
        }
        return bytes
    }

    mutating func chance(_ oneIn: Int) -> Bool { Int.random(in: 0..<oneIn, using: &random) == 0 }
    mutating func pick<T>(_ choices: [T]) -> T { choices.randomElement(using: &random)! }
    mutating func index<C: Collection>(in collection: C) -> Int { Int.random(in: 0..<collection.count, using: &random) }

    mutating func mutate(_ lines: inout [Line]) {
        if lines.isEmpty { lines = [[]] }
        let target = index(in: lines)
        switch Int.random(in: 0..<17, using: &random) {
        case 0:   // flip one bit of one byte
            guard !lines[target].isEmpty else { return }
            lines[target][index(in: lines[target])] ^= 1 << UInt8.random(in: 0...7, using: &random)
        case 1:   // truncate the file at any byte
            lines = Array(lines.prefix(target + 1))
            lines[target] = Array(lines[target].prefix(Int.random(in: 0...lines[target].count, using: &random)))
        case 2:   // swap two tokens, possibly across lines
            let other = index(in: lines)
            var a = tokens(lines[target]), b = tokens(lines[other])
            guard !a.isEmpty, !b.isEmpty else { return }
            let i = index(in: a), j = index(in: b)
            if target == other { a.swapAt(i, j); lines[target] = Self.joined(a, separator: 0x20); return }
            swap(&a[i], &b[j])
            lines[target] = Self.joined(a, separator: 0x20); lines[other] = Self.joined(b, separator: 0x20)
        case 3: lines[target] = Array(randomStep().utf8)
        case 4: lines.insert(Array(randomStep().utf8), at: target)
        case 5: lines.insert(Array(randomHeaderLine().utf8), at: target)
        case 6: replaceAToken(in: &lines[target], with: randomNumber())
        case 7: lines[target] += Array((" " + randomExpectation()).utf8)
        case 8:   // an odd character anywhere in the line, even inside a multi-byte one
            lines[target].insert(contentsOf: pick(FuzzVocabulary.oddCharacters).utf8, at: Int.random(in: 0...lines[target].count, using: &random))
        case 9:   // Windows line endings, for the whole file
            lines = lines.map { $0 + [0x0d] }
        case 10:   // a very long line; bench/fuzz-parser tries far longer ones, here they would only cost time
            let unit = Array(pick(["x", "8k ", "é", "#", "🦀"]).utf8)
            for _ in 0..<Int.random(in: 100...1_000, using: &random) { lines[target].append(contentsOf: unit) }
        case 11:   // blanks before and after: parsers that trim them one at a time go quadratic
            lines[target] = Array(repeating: pick([0x20, 0x09]), count: Int.random(in: 0...64, using: &random)) + lines[target]
                + Array(repeating: pick([0x20, 0x09, 0x0d]), count: Int.random(in: 1...64, using: &random))
        case 12: lines.remove(at: target)
        case 13: lines.insert(lines[index(in: lines)], at: target)
        case 14:   // a line of another seed
            let other = seeds.randomElement(using: &random)!
            lines[target] = other[index(in: other)]
        case 15: replaceAToken(in: &lines[target], with: pick(FuzzVocabulary.words))
        default: replaceAToken(in: &lines[target], with: randomPath())
        }
    }

    func tokens(_ line: Line) -> [ArraySlice<UInt8>] { line.split(separator: 0x20, omittingEmptySubsequences: false) }

    mutating func replaceAToken(in line: inout Line, with replacement: String) {
        var parts = tokens(line)
        parts[index(in: parts)] = ArraySlice(replacement.utf8)
        line = Self.joined(parts, separator: 0x20)
    }

    mutating func randomNumber() -> String {
        if chance(2) { return pick(FuzzVocabulary.edgeNumbers) }
        let value = UInt64.random(in: 0...UInt64.max, using: &random) >> UInt64.random(in: 0...63, using: &random)
        let suffix = pick(["", "", "k", "m", "g", "t", "p", "s", "K", "M", "x", "e"])
        return chance(4) ? "0x" + String(value, radix: 16) + suffix : "\(value)" + suffix
    }

    mutating func randomPath() -> String { pick(FuzzVocabulary.paths) }

    mutating func randomExpectation() -> String {
        let keyword = pick(["allow", "expect", "allow", "expect", "Allow", "allows"])
        let names = (0..<Int.random(in: 0...3, using: &random)).map { _ in pick(FuzzVocabulary.errnos) }
        return keyword + " " + names.joined(separator: chance(2) ? "," : " ")
    }

    mutating func randomHeaderLine() -> String {
        let key = pick(FuzzVocabulary.keys)
        let value = (0..<Int.random(in: 0...3, using: &random)).map { _ in
            chance(2) ? pick(FuzzVocabulary.words) : randomNumber()
        }.joined(separator: " ")
        return chance(6) ? key + ":" + value : key + ": " + value
    }

    mutating func randomStep() -> String {
        let command = pick(FuzzVocabulary.commands)
        var words: [String] = []
        if command.takesFile || chance(10) { words.append(randomPath() + ":") }
        words.append(command.name)
        for argument in command.arguments {
            switch argument {
            case .number: words.append(randomNumber())
            case .path: words.append(randomPath())
            case .errno: words.append(pick(FuzzVocabulary.errnos))
            case .word(let choices): words.append(pick(choices))
            case .optional(let options): if chance(2) { words.append(contentsOf: options) }
            case .flags(let flags): for _ in 0..<Int.random(in: 0...2, using: &random) { words.append(pick(flags)) }
            }
        }
        if chance(10) { words.removeLast() }
        if chance(10) { words.append(pick(FuzzVocabulary.words)) }
        if chance(4) { words.append(randomExpectation()) }
        return words.joined(separator: pick([" ", " ", "\t", "  "]))
    }

    /// A test made from nothing: a header and a handful of steps, valid more often than not.
    mutating func randomTest() -> [Line] {
        var lines = ["summary: a generated test", "filesystems: " + pick(["btrfs", "xfs", "ext4", "btrfs xfs ext4"])]
        for _ in 0..<Int.random(in: 0...3, using: &random) { lines.append(randomHeaderLine()) }
        lines.append("steps:")
        lines.append("file1: pwrite 0 64k")
        for _ in 0..<Int.random(in: 1...12, using: &random) { lines.append(randomStep()) }
        return lines.map { Array($0.utf8) } + [[]]
    }
}

/// The words the generator builds inputs from.
enum FuzzVocabulary {
    enum Argument { case number, path, errno, word([String]), optional([String]), flags([String]) }
    struct CommandShape { let name: String; let takesFile: Bool; let arguments: [Argument] }

    static let commands: [CommandShape] = [
        .init(name: "falloc", takesFile: true, arguments: [.flags(["-k", "-p", "-z", "-c", "-i", "-u", "-x"]), .number, .number]),
        .init(name: "fpunch", takesFile: true, arguments: [.number, .number]),
        .init(name: "fzero", takesFile: true, arguments: [.flags(["-k", "-p"]), .number, .number]),
        .init(name: "fcollapse", takesFile: true, arguments: [.number, .number]),
        .init(name: "finsert", takesFile: true, arguments: [.number, .number]),
        .init(name: "funshare", takesFile: true, arguments: [.number, .number]),
        .init(name: "pwrite", takesFile: true, arguments: [.flags(["-S", "-S 0xff", "-S 256", "-b", "-b 4k", "-b 0", "-D", "-d", "-W", "-w", "-q", "-Z"]), .number, .number]),
        .init(name: "pread", takesFile: true, arguments: [.flags(["-b 4k", "-b", "-q", "-v", "-x"]), .number, .number]),
        .init(name: "truncate", takesFile: true, arguments: [.number]),
        .init(name: "reflink", takesFile: true, arguments: [.path, .optional(["8k", "0", "4k"])]),
        .init(name: "dedupe", takesFile: true, arguments: [.path, .number, .number, .number]),
        .init(name: "swapext", takesFile: true, arguments: [.path]),
        .init(name: "sync_range", takesFile: true, arguments: [.flags(["-a", "-b", "-w", "-x"]), .number, .number]),
        .init(name: "chattr", takesFile: true, arguments: [.word(["+C", "-e", "+Ci", "-q", "C"])]),
        .init(name: "xflags", takesFile: true, arguments: [.word(["+C", "-x", "+Ep", "-R", "+q", "C"])]),
        .init(name: "extsize", takesFile: true, arguments: [.number]),
        .init(name: "cowextsize", takesFile: true, arguments: [.number]),
        .init(name: "expect-extents", takesFile: true, arguments: [.flags(["-s", "-v"]), .number]),
        .init(name: "mmap", takesFile: true, arguments: [.flags(["-r", "-w", "-rw", "-x", "-S", "-s 1m", "-q"]), .number, .number]),
        .init(name: "mwrite", takesFile: true, arguments: [.flags(["-r", "-S 0x41", "-S", "-S -1", "-w"]), .optional(["0", "4k"])]),
        .init(name: "msync", takesFile: true, arguments: [.flags(["-a", "-i", "-s", "-as", "-x"]), .optional(["0", "4k"])]),
        .init(name: "munmap", takesFile: true, arguments: []),
        .init(name: "fsync", takesFile: true, arguments: []),
        .init(name: "fdatasync", takesFile: true, arguments: []),
        .init(name: "close", takesFile: true, arguments: []),
        .init(name: "sync", takesFile: false, arguments: []),
        .init(name: "syncfs", takesFile: false, arguments: []),
        .init(name: "remount", takesFile: false, arguments: []),
        .init(name: "drop-caches", takesFile: false, arguments: []),
        .init(name: "power-cut", takesFile: false, arguments: []),
        .init(name: "verify", takesFile: false, arguments: [.optional(["file1"]), .optional(["padding", "file1"])]),
        .init(name: "mkdir", takesFile: false, arguments: [.path]),
        .init(name: "rename", takesFile: false, arguments: [.path, .path]),
        .init(name: "link", takesFile: false, arguments: [.path, .path]),
        .init(name: "unlink", takesFile: false, arguments: [.path]),
        .init(name: "inject-error", takesFile: false, arguments: [.errno, .optional(["range", "0", "1m"]), .optional(["after", "4k"])]),
        .init(name: "lying-cache", takesFile: false, arguments: [.word(["on", "off", "maybe", "ON"])]),
        .init(name: "drop-writes", takesFile: false, arguments: [.number, .number, .optional(["8k", "4k"])]),
        .init(name: "reorder-flushes", takesFile: false, arguments: [.word(["on", "off", "maybe"])]),
        .init(name: "clear-faults", takesFile: false, arguments: []),
        .init(name: "frobnicate", takesFile: false, arguments: [.number]),
    ]

    static let keys = ["summary", "groups", "filesystems", "fs", "size", "mkfs", "mkfs.btrfs", "mkfs.xfs", "mkfs.ext4", "mkfs.zfs",
                       "mkfs.", "mount", "mount.btrfs", "mount.xfs", "mount.ext4", "mount.nfs", "requires", "fix", "commit",
                       "timeout", "steps", "Summary", "", "key with space", "mkfs.btrfs.extra"]

    static let errnos = ["ENOSPC", "EIO", "EINVAL", "EOPNOTSUPP", "ENOTSUP", "EWOULDBLOCK", "enospc", "EUCLEAN", "EDQUOT",
                         "ENOSUCH", "E", "", "28", "ENOSPC,", ",EIO", "EIO,,EINVAL", "EXDEV"]

    static let paths = ["file1", "padding", "file2", "dir", "dir/file", "dir/sub/file", "/etc/passwd", "..", "../x", "a/../b",
                        "./file1", "a//b", "a/", "/", ".", "fïlé", "📁/x", "file1:", "allow", "-k", "with\u{0}nul"]

    static let edgeNumbers = ["0", "1", "-1", "+5", "-0", "00", "0x", "0X10", "0x-1", "k", "s", "8s", "1p", "8191p", "8192p",
                              "16383t", "16384t", "9223372036854775807", "9223372036854775808", "18446744073709551615",
                              "18446744073709551616", "99999999999999999999999999999999", "0xffffffffffffffff",
                              "0x7fffffffffffffff", "0x8000000000000000", "1e9", "1.5m", "4 k", "１２", "٣", "4K", "4kk", "0b101",
                              "\u{FF10}x10", "4k\u{0301}", "İ", "12İ"]

    static let words = ["steps:", "steps", "allow", "expect", "on", "off", "range", "after", "#", "#comment", "-", "--", ":", "::",
                        "file1:", "sync", "verify", "btrfs", "xfs", "ext4", "reflink", "nocow", "a,b", "α", "🦀", "\u{0}"]

    /// Characters with unusual Unicode behaviour: combining marks that merge with the character before them,
    /// other line separators, a BOM, NUL, lone CR, full-width and non-ASCII digits, case mappings that grow.
    static let oddCharacters = ["\u{0}", "\r", "\r\n", "\t", "\u{0301}", "\u{200D}", "\u{FEFF}", "\u{2028}", "\u{85}", "\u{0B}",
                                "\u{0C}", "é", "e\u{0301}", "İ", "ß", "ﬃ", "１", "٣", "🇫🇷", "👩‍👩‍👧", "\u{202E}", "\u{FFFD}", "#", ":", " "]

    /// Tests that use every command and key, valid as written, so that mutations start near each of them.
    static let handWrittenTests = [
        """
        summary: every data command once
        groups: auto quick
        filesystems: xfs
        size: 512m
        mkfs: -m reflink=1
        mount.xfs: noatime
        requires: reflink dedupe collapse insert unshare
        fix: xfs: a fix
        commit: 0123456789ab
        timeout: 60s

        steps:
        mkdir dir
        dir/file: pwrite -S 0xab -b 4k -W 0 1m
        dir/file: falloc -k 1m 1m
        dir/file: fpunch 4k 4k
        dir/file: fzero -k 8k 4k
        dir/file: fcollapse 64k 64k
        dir/file: finsert 64k 64k
        dir/file: funshare 0 64k
        copy: reflink dir/file
        copy: reflink dir/file 0 0 64k
        copy: dedupe dir/file 0 0 64k   allow EINVAL
        copy: pread -b 4k 0 64k
        copy: truncate 1m
        copy: fdatasync
        copy: close
        copy: fsync
        rename copy moved
        verify dir/file moved
        unlink moved
        syncfs
        drop-caches
        remount
        verify

        """,
        """
        summary: mappings, extent counts and extent-size hints
        filesystems: xfs ext4
        requires: quota inline_data cowextsize
        steps:
        hinted: extsize 1m
        hinted: cowextsize 64k
        hinted: -s mmap -rw 0 64k
        hinted: truncate 64k
        hinted: mwrite -S 0x41 0 4k
        hinted: mwrite -r 4k 4k
        hinted: msync -s 0 8k
        hinted: msync -a -i
        hinted: munmap
        hinted: expect-extents -s 1
        hinted: expect-extents 2   allow EOPNOTSUPP
        verify

        """,
        """
        summary: faults of the emulated disk
        filesystems: ext4 btrfs
        mount: data=ordered
        steps:
        lying-cache on
        file1: -d pwrite -D -w 0 64k   allow EIO
        inject-error EIO range 0 1m after 8k
        file1: pwrite 64k 64k   expect EIO,ENOSPC
        clear-faults
        drop-writes 0 4k
        sync
        power-cut
        lying-cache off
        verify file1

        """,
    ]
}
