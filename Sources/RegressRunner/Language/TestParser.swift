/// Reads a test file: `key: value` metadata lines, then a `steps:` line, then one step a line.
/// Every error is a `Diagnostic` naming the file, line and column; nothing is run before the whole file parses.
/// The format is specified in tests.d/README.md.
public struct TestParser {
    let path: String
    let name: String

    public init(path: String, name: String) { self.path = path; self.name = name }

    /// A word of a line and the column where it starts (1-based).
    struct Token { let text: String; let column: Int }

    public func parse(_ source: String) throws -> TestDefinition {
        var test = TestDefinition(name: name, path: path)
        var inSteps = false
        var seenKeys: Set<String> = []
        var files = FileTracker()
        // Split on the newline scalar, not the Character: "\r\n" is one Character in Swift, and a test file
        // with Windows line endings must read as the same lines (the tokenizer treats "\r" as a blank).
        let lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { Substring(String(String.UnicodeScalarView($0))) }
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            let tokens = tokenize(rawLine)
            guard let first = tokens.first else { continue }
            if !inSteps {
                if first.text == "steps:" && tokens.count == 1 { inSteps = true; continue }
                try parseMetadata(line: rawLine, tokens: tokens, lineNumber: lineNumber, into: &test, seen: &seenKeys)
                continue
            }
            // The step's text for reports: its words, without the comment.
            let step = try parseStep(tokens, line: lineNumber, text: tokens.map(\.text).joined(separator: " "), files: &files)
            test.steps.append(step)
        }
        guard inSteps else { throw Diagnostic(SourceLocation(file: path, line: 1), "no 'steps:' line: a test needs steps") }
        guard !test.steps.isEmpty else { throw Diagnostic(SourceLocation(file: path, line: 1), "the test has no steps") }
        return test
    }

    // MARK: lines and tokens

    /// Splits on blanks; `#` at the start of a word begins a comment.
    func tokenize(_ line: Substring) -> [Token] {
        var tokens: [Token] = []
        var current = ""
        var start = 0
        for (offset, character) in line.enumerated() {
            if character == " " || character == "\t" || character == "\r" {
                if !current.isEmpty { tokens.append(Token(text: current, column: start + 1)); current = "" }
            } else {
                if current.isEmpty {
                    if character == "#" { return tokens }
                    start = offset
                }
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(Token(text: current, column: start + 1)) }
        return tokens
    }

    // MARK: metadata

    func parseMetadata(line: Substring, tokens: [Token], lineNumber: Int, into test: inout TestDefinition,
                       seen: inout Set<String>) throws {
        let first = tokens[0]
        let here = SourceLocation(file: path, line: lineNumber, column: first.column)
        guard let colon = first.text.firstIndex(of: ":") else {
            throw Diagnostic(here, "expected 'key: value' or 'steps:', found '\(first.text)'")
        }
        let key = String(first.text[..<colon])
        // The value is the rest of the line after the first colon, comments removed.
        let afterKey = String(first.text[first.text.index(after: colon)...])
        let words = (afterKey.isEmpty ? [] : [Token(text: afterKey, column: first.column + key.count + 1)]) + tokens.dropFirst()
        let value = words.map(\.text).joined(separator: " ")
        let valueAt = SourceLocation(file: path, line: lineNumber, column: words.first?.column ?? first.column + key.count + 1)
        // `fs` is another name for `filesystems`: giving both is giving one key twice.
        guard seen.insert(key == "fs" ? "filesystems" : key).inserted else { throw Diagnostic(here, "'\(key)' is given twice") }

        func filesystem(_ text: String, _ column: Int) throws -> FilesystemKind {
            guard let fs = FilesystemKind(rawValue: text) else {
                throw Diagnostic(SourceLocation(file: path, line: lineNumber, column: column),
                                 "unknown filesystem '\(text)' (known: \(FilesystemKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return fs
        }

        switch key {
        case "summary":
            guard !value.isEmpty else { throw Diagnostic(valueAt, "summary is empty") }
            test.summary = value
        case "groups":
            for word in words where !word.text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
                throw Diagnostic(SourceLocation(file: path, line: lineNumber, column: word.column), "bad group name '\(word.text)'")
            }
            test.groups = words.map(\.text)
        case "filesystems", "fs":
            test.filesystems = try words.map { try filesystem($0.text, $0.column) }
        case "size":
            guard words.count == 1, let size = Size.parse(words[0].text), size > 0 else {
                throw Diagnostic(valueAt, "bad size '\(value)'")
            }
            test.imageSize = size
        case "requires":
            test.requires = Set(try words.map { word in
                guard let feature = FilesystemKind.Feature(rawValue: word.text) else {
                    throw Diagnostic(SourceLocation(file: path, line: lineNumber, column: word.column),
                                     "unknown requirement '\(word.text)' (known: \(FilesystemKind.Feature.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return feature
            })
        case "fix":
            guard !value.isEmpty else { throw Diagnostic(valueAt, "fix is empty") }
            test.fixSubject = value
        case "commit":
            guard words.count == 1, words[0].text.count >= 7, words[0].text.allSatisfy(\.isHexDigit) else {
                throw Diagnostic(valueAt, "commit must be one hexadecimal commit id")
            }
            test.fixCommit = value
        case "timeout":
            guard words.count == 1, let seconds = Int(words[0].text.hasSuffix("s") ? String(words[0].text.dropLast()) : words[0].text),
                  seconds > 0 else { throw Diagnostic(valueAt, "bad timeout '\(value)' (seconds)") }
            test.timeoutSeconds = seconds
        case "mkfs":
            for fs in FilesystemKind.allCases { test.mkfsOptions[fs, default: []] += words.map(\.text) }
        case "mount":
            for fs in FilesystemKind.allCases { test.mountOptions[fs] = joinOptions(test.mountOptions[fs], value) }
        default:
            if key.hasPrefix("mkfs.") {
                let fs = try filesystem(String(key.dropFirst(5)), first.column + 5)
                test.mkfsOptions[fs, default: []] += words.map(\.text)
            } else if key.hasPrefix("mount.") {
                let fs = try filesystem(String(key.dropFirst(6)), first.column + 6)
                test.mountOptions[fs] = joinOptions(test.mountOptions[fs], value)
            } else {
                throw Diagnostic(here, "unknown key '\(key)'")
            }
        }
        if key.hasPrefix("mount"), value.contains(" ") {
            throw Diagnostic(valueAt, "mount options are one comma-separated list, as for mount -o")
        }
    }

    func joinOptions(_ a: String?, _ b: String) -> String {
        guard let a, !a.isEmpty else { return b }
        return b.isEmpty ? a : a + "," + b
    }

    // MARK: steps

    /// Which files exist at each step, so that `fsync nosuchfile` is caught before anything runs.
    struct FileTracker {
        var existing: Set<String> = []
        var directories: Set<String> = [""]
    }

    func parseStep(_ allTokens: [Token], line: Int, text: String, files: inout FileTracker) throws -> Step {
        func location(_ token: Token) -> SourceLocation { SourceLocation(file: path, line: line, column: token.column) }
        var tokens = allTokens
        var file: Token?
        if tokens[0].text.hasSuffix(":") {
            file = Token(text: String(tokens[0].text.dropLast()), column: tokens[0].column)
            tokens.removeFirst()
            guard !tokens.isEmpty else { throw Diagnostic(location(allTokens[0]), "missing command after '\(allTokens[0].text)'") }
        }
        // Trailing expectation: `allow ENOSPC` / `expect EINVAL,EOPNOTSUPP`.
        var expectation = Expectation.success
        // `allow`/`expect` is the expectation only when errno names follow it (a file may be named "allow").
        if let keywordIndex = tokens.indices.dropFirst().first(where: { index in
            (tokens[index].text == "allow" || tokens[index].text == "expect") && index + 1 < tokens.count
                && tokens[(index + 1)...].allSatisfy { $0.text.first == "E" && $0.text.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "," } }
        }) {
            let keyword = tokens[keywordIndex]
            let rest = tokens[(keywordIndex + 1)...]
            var set: Set<Errno> = []
            for token in rest {
                for name in token.text.split(separator: ",") {
                    guard let errno = Errno(name: String(name)) else {
                        throw Diagnostic(location(token), "unknown errno '\(name)'")
                    }
                    set.insert(errno)
                }
            }
            expectation = keyword.text == "allow" ? .allow(set) : .require(set)
            tokens = Array(tokens[..<keywordIndex])
            guard !tokens.isEmpty else { throw Diagnostic(location(keyword), "missing command before '\(keyword.text)'") }
        }
        let commandToken = tokens[0]
        var arguments = ArgumentReader(tokens: Array(tokens.dropFirst()), command: commandToken, parser: self, line: line)
        let command = try parseCommand(commandToken, &arguments)
        try arguments.expectEnd()

        let fileCommands: Set<String> = ["falloc", "fpunch", "fzero", "fcollapse", "finsert", "funshare", "pwrite", "pread",
                                         "truncate", "reflink", "dedupe", "fsync", "fdatasync"]
        if fileCommands.contains(commandToken.text) {
            guard let file else {
                throw Diagnostic(location(commandToken), "'\(commandToken.text)' needs a file: write it as 'FILE: \(commandToken.text) …'")
            }
            try checkPath(file.text, at: location(file))
        } else if let file {
            throw Diagnostic(location(file), "'\(commandToken.text)' acts on the whole filesystem and takes no 'FILE:'")
        }
        try track(command, file: file, at: location(file ?? commandToken), &files, arguments: arguments)
        return Step(command: command, file: file?.text, expectation: expectation,
                    location: location(allTokens[0]), text: text)
    }

    /// Paths name files beneath the mount: relative, no `..`, no empty components.
    func checkPath(_ path: String, at location: SourceLocation) throws {
        if path.hasPrefix("/") { throw Diagnostic(location, "'\(path)' is an absolute path; files are named relative to the mount") }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains("..") { throw Diagnostic(location, "'\(path)' leaves the mount ('..' is not allowed)") }
        if components.contains(where: { $0.isEmpty || $0 == "." }) { throw Diagnostic(location, "'\(path)' is not a plain relative path") }
    }

    func track(_ command: Command, file: Token?, at location: SourceLocation, _ files: inout FileTracker,
               arguments: ArgumentReader) throws {
        func mustExist(_ name: String, _ at: SourceLocation) throws {
            guard files.existing.contains(name) else {
                throw Diagnostic(at, "unknown file '\(name)': no earlier step creates it")
            }
        }
        func parentMustExist(_ name: String, _ at: SourceLocation) throws {
            let parent = name.split(separator: "/").dropLast().joined(separator: "/")
            guard files.directories.contains(parent) else { throw Diagnostic(at, "directory '\(parent)' does not exist: make it with 'mkdir \(parent)'") }
        }
        switch command {
        case .fallocate, .pwrite, .truncate:
            try parentMustExist(file!.text, location)
            files.existing.insert(file!.text)
        case .reflink(let source, _, _, _), .dedupe(let source, _, _, _):
            try mustExist(source, arguments.firstLocation ?? location)
            if case .dedupe = command { try mustExist(file!.text, location) }
            try parentMustExist(file!.text, location)
            files.existing.insert(file!.text)
        case .fsync, .fdatasync:
            // A directory may be fsynced too (to make the names in it durable).
            if !files.directories.contains(file!.text) { try mustExist(file!.text, location) }
        case .pread:
            try mustExist(file!.text, location)
        case .verify(let names):
            for (name, token) in zip(names, arguments.tokens) { try mustExist(name, arguments.location(of: token)) }
        case .mkdir(let name):
            try parentMustExist(name, location)
            files.directories.insert(name)
        case .rename(let from, let to) where files.directories.contains(from):
            // A directory moves with everything beneath it.
            try parentMustExist(to, location)
            func moved(_ path: String) -> String { path == from ? to : to + path.dropFirst(from.count) }
            files.directories = Set(files.directories.map { $0 == from || $0.hasPrefix(from + "/") ? moved($0) : $0 })
            files.existing = Set(files.existing.map { $0.hasPrefix(from + "/") ? moved($0) : $0 })
        case .rename(let from, let to):
            try mustExist(from, location)
            try parentMustExist(to, location)
            files.existing.remove(from)
            files.existing.insert(to)
        case .link(let from, let to):
            try mustExist(from, location)
            try parentMustExist(to, location)
            files.existing.insert(to)
        case .unlink(let name):
            try mustExist(name, location)
            files.existing.remove(name)
        default:
            break
        }
    }

    func parseCommand(_ token: Token, _ args: inout ArgumentReader) throws -> Command {
        switch token.text {
        case "falloc":
            var mode = Command.AllocateMode.allocate
            var keepSize = false
            while let flag = args.flag() {
                switch flag.text {
                case "-k": keepSize = true
                case "-p": mode = .punchHole
                case "-z": mode = .zeroRange
                case "-c": mode = .collapseRange
                case "-i": mode = .insertRange
                case "-u": mode = .unshareRange
                default: throw args.badFlag(flag, known: "-k -p -z -c -i -u")
                }
            }
            // Punching and unsharing never change the size, whatever -k says.
            return .fallocate(mode, keepSize: keepSize || mode == .punchHole || mode == .unshareRange, try args.range())
        case "fpunch": return .fallocate(.punchHole, keepSize: true, try args.range())
        case "fzero":
            var keepSize = false
            while let flag = args.flag() {
                guard flag.text == "-k" else { throw args.badFlag(flag, known: "-k") }
                keepSize = true
            }
            return .fallocate(.zeroRange, keepSize: keepSize, try args.range())
        case "fcollapse": return .fallocate(.collapseRange, keepSize: false, try args.range())
        case "finsert": return .fallocate(.insertRange, keepSize: false, try args.range())
        case "funshare": return .fallocate(.unshareRange, keepSize: true, try args.range())
        case "pwrite":
            var options = Command.WriteOptions()
            while let flag = args.flag() {
                switch flag.text {
                case "-S":
                    let value = try args.size("pattern byte")
                    guard value <= 0xff else { throw args.error(at: args.previous!, "pattern byte must be 0x00 to 0xff") }
                    options.pattern = UInt8(value)
                case "-b":
                    options.blockSize = try args.size("block size")
                    guard options.blockSize > 0, options.blockSize <= 64 << 20 else {
                        throw args.error(at: args.previous!, "block size must be 1 byte to 64m")
                    }
                case "-D": options.dataSync = true
                case "-d": options.direct = true
                case "-W": options.fsyncAfter = true
                case "-w": options.fdatasyncAfter = true
                case "-q": break   // xfs_io's quiet flag: regress prints nothing anyway
                default: throw args.badFlag(flag, known: "-S -b -D -d -W -w -q")
                }
            }
            return .pwrite(try args.range(), options)
        case "pread":
            var blockSize: UInt64 = 65536
            while let flag = args.flag() {
                switch flag.text {
                case "-b": blockSize = try args.size("block size")
                case "-q", "-v": break
                default: throw args.badFlag(flag, known: "-b -q -v")
                }
            }
            return .pread(try args.range(), blockSize: blockSize)
        case "truncate": return .truncate(try args.size("size"))
        case "reflink":
            let source = try args.path("source file")
            if args.isAtEnd { return .reflink(source: source, sourceOffset: 0, offset: 0, length: nil) }
            let sourceOffset = try args.size("source offset")
            let offset = try args.size("destination offset")
            let length = try args.size("length")
            return .reflink(source: source, sourceOffset: sourceOffset, offset: offset, length: length)
        case "dedupe":
            let source = try args.path("source file")
            let sourceOffset = try args.size("source offset")
            let offset = try args.size("destination offset")
            let length = try args.size("length")
            return .dedupe(source: source, sourceOffset: sourceOffset, offset: offset, length: length)
        case "fsync": return .fsync
        case "fdatasync": return .fdatasync
        case "sync": return .sync
        case "syncfs": return .syncfs
        case "remount": return .remount
        case "drop-caches": return .dropCaches
        case "power-cut": return .powerCut
        case "verify":
            var names: [String] = []
            while !args.isAtEnd { names.append(try args.path("file")) }
            return .verify(names)
        case "mkdir": return .mkdir(try args.path("directory"))
        case "rename": return .rename(try args.path("source path"), try args.path("destination path"))
        case "link": return .link(try args.path("existing file"), try args.path("new name"))
        case "unlink": return .unlink(try args.path("file"))
        case "inject-error":
            let errnoToken = try args.word("errno")
            guard let errno = Errno(name: errnoToken.text) else { throw args.error(at: errnoToken, "unknown errno '\(errnoToken.text)'") }
            var range: ByteRange?
            var after: UInt64 = 0
            while let word = args.optionalWord() {
                switch word.text {
                case "range": range = try args.range()
                case "after": after = try args.size("byte count")
                default: throw args.error(at: word, "expected 'range OFFSET LENGTH' or 'after BYTES', found '\(word.text)'")
                }
            }
            return .injectError(errno, range: range, afterBytes: after)
        case "lying-cache":
            let word = try args.word("on or off")
            guard word.text == "on" || word.text == "off" else { throw args.error(at: word, "expected 'on' or 'off'") }
            return .lyingCache(word.text == "on")
        case "drop-writes": return .dropWrites(try args.range())
        case "clear-faults": return .clearFaults
        default:
            throw Diagnostic(SourceLocation(file: path, line: args.line, column: token.column), "unknown command '\(token.text)'")
        }
    }
}

/// Walks a step's arguments, turning each problem into a diagnostic at the right column.
struct ArgumentReader {
    let tokens: [TestParser.Token]
    let command: TestParser.Token
    let parser: TestParser
    let line: Int
    var index = 0
    var previous: TestParser.Token?

    init(tokens: [TestParser.Token], command: TestParser.Token, parser: TestParser, line: Int) {
        self.tokens = tokens; self.command = command; self.parser = parser; self.line = line
    }

    var isAtEnd: Bool { index >= tokens.count }
    var firstLocation: SourceLocation? { tokens.first.map { location(of: $0) } }

    func location(of token: TestParser.Token) -> SourceLocation { SourceLocation(file: parser.path, line: line, column: token.column) }
    func error(at token: TestParser.Token, _ message: String) -> Diagnostic { Diagnostic(location(of: token), message) }
    func badFlag(_ token: TestParser.Token, known: String) -> Diagnostic {
        error(at: token, "unknown option '\(token.text)' for \(command.text) (known: \(known))")
    }

    /// The column just after the last token: where a missing argument should have been.
    var endLocation: SourceLocation {
        let last = tokens.last ?? command
        return SourceLocation(file: parser.path, line: line, column: last.column + last.text.count)
    }

    mutating func flag() -> TestParser.Token? {
        guard !isAtEnd, tokens[index].text.hasPrefix("-"), tokens[index].text.count > 1 else { return nil }
        defer { index += 1 }
        previous = tokens[index]
        return tokens[index]
    }

    mutating func optionalWord() -> TestParser.Token? {
        guard !isAtEnd else { return nil }
        defer { index += 1 }
        previous = tokens[index]
        return tokens[index]
    }

    mutating func word(_ what: String) throws -> TestParser.Token {
        guard let token = optionalWord() else { throw Diagnostic(endLocation, "\(command.text): missing \(what)") }
        return token
    }

    mutating func size(_ what: String) throws -> UInt64 {
        let token = try word(what)
        guard let value = Size.parse(token.text) else { throw error(at: token, "bad \(what) '\(token.text)'") }
        return value
    }

    mutating func range() throws -> ByteRange {
        let offset = try size("offset")
        let length = try size("length")
        return ByteRange(offset: offset, length: length)
    }

    mutating func path(_ what: String) throws -> String {
        let token = try word(what)
        try parser.checkPath(token.text, at: location(of: token))
        return token.text
    }

    func expectEnd() throws {
        guard isAtEnd else { throw error(at: tokens[index], "\(command.text): unexpected argument '\(tokens[index].text)'") }
    }
}

extension String {
    /// Without leading and trailing blanks and line ends (test lines, sysfs and procfs values).
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\n" || c == "\r\n" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\r\n" { s.removeLast() }   // O(1) each
        return String(s)
    }
}
