/// Reads a test file: `key: value` metadata lines, then a `steps:` line, then one step a line.
/// Every error is a `Diagnostic` naming the file, line and column; nothing is run before the whole file parses.
/// The format is specified in tests.d/README.md.
public struct TestParser {
    let path: String
    let name: String
    /// The sizes of `b` and `s` and of xfs_io's default buffer. A test is parsed with the standard units
    /// before any filesystem exists; `Step.resolved(in:)` reads a step again with its filesystem's.
    let units: BlockUnits

    public init(path: String, name: String, units: BlockUnits = .standard) {
        self.path = path
        self.name = name
        self.units = units
    }

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
            let tokens = Token.split(rawLine)
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
        // A test that exercises nothing must never say ok: at least one step must change a file.
        guard test.steps.contains(where: { $0.spec.category == .data }) else {
            throw Diagnostic(test.steps[0].location, "the test has no data operation (none of \(CommandTable.all.filter { $0.category == .data }.map(\.name).joined(separator: ", "))): it would exercise nothing")
        }
        return test
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

    /// One step line read on its own, as the importer builds steps: through the command table, with the
    /// files the earlier steps made in `files`.
    public func parseStep(_ line: String, lineNumber: Int, files: inout FileTracker) throws -> Step {
        let tokens = Token.split(Substring(line))
        guard !tokens.isEmpty else { throw Diagnostic(SourceLocation(file: path, line: lineNumber), "an empty step") }
        return try parseStep(tokens, line: lineNumber, text: tokens.map(\.text).joined(separator: " "), files: &files)
    }

    /// `[FILE: [OPEN FLAGS]] COMMAND ARGUMENTS [allow|expect ERRNO…]`, the command read by its table entry.
    func parseStep(_ allTokens: [Token], line: Int, text: String, files: inout FileTracker, track: Bool = true) throws -> Step {
        func location(_ token: Token) -> SourceLocation { SourceLocation(file: path, line: line, column: token.column) }
        var tokens = allTokens
        var file: Token?
        if tokens[0].text.hasSuffix(":") {
            file = Token(text: String(tokens[0].text.dropLast()), column: tokens[0].column)
            tokens.removeFirst()
            guard !tokens.isEmpty else { throw Diagnostic(location(allTokens[0]), "missing command after '\(allTokens[0].text)'") }
        }
        // xfs_io's open flags, between the file and the command: `foo: -d pwrite …`.
        var openFlags: OpenFlags = []
        while let flag = tokens.first, flag.text.hasPrefix("-") {
            guard file != nil, let value = OpenFlags.words.first(where: { $0.0 == flag.text })?.1 else {
                throw Diagnostic(location(flag), file == nil
                    ? "open flags ('\(flag.text)') need a file: 'FILE: \(flag.text) COMMAND …'"
                    : "unknown open flag '\(flag.text)' (known: \(OpenFlags.words.map(\.0).joined(separator: " ")))")
            }
            openFlags.insert(value)
            tokens.removeFirst()
            guard !tokens.isEmpty else { throw Diagnostic(location(flag), "missing command after '\(flag.text)'") }
        }
        // Trailing expectation: `allow ENOSPC` / `expect EINVAL,EOPNOTSUPP`.
        var expectation = Expectation.success
        // `allow`/`expect` is the expectation only when errno names follow it (a file may be named "allow").
        if let keywordIndex = tokens.indices.dropFirst().first(where: { index in
            (tokens[index].text == "allow" || tokens[index].text == "expect") && index + 1 < tokens.count
                && tokens[(index + 1)...].allSatisfy { $0.text.first == "E" && $0.text.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "," } }
        }) {
            let keyword = tokens[keywordIndex]
            var set: Set<Errno> = []
            for token in tokens[(keywordIndex + 1)...] {
                for name in token.text.split(separator: ",") {
                    guard let errno = Errno(name: String(name)) else {
                        throw Diagnostic(location(token), "unknown errno '\(name)'")
                    }
                    set.insert(errno)
                }
            }
            expectation = keyword.text == "allow" ? .allow(set) : .require(set)
            tokens = Array(tokens[..<keywordIndex])
        }
        let commandToken = tokens[0]
        guard let spec = CommandTable.spec(commandToken.text) else {
            throw Diagnostic(location(commandToken), "unknown command '\(commandToken.text)'")
        }
        if let count = spec.arguments, !count.admits(tokens.count - 1) {
            // xfs_io's command loop refuses these before the command parses its options (argmin, argmax).
            throw Diagnostic(location(commandToken), "bad argument count \(tokens.count - 1) to \(commandToken.text), expected \(count) (as xfs_io counts them)")
        }
        var arguments = ArgumentReader(arguments: Array(tokens.dropFirst()), command: commandToken, file: path, line: line, units: units)
        let command = try spec.parse(&arguments)
        try arguments.expectEnd()

        switch (spec.target, file) {
        case (.file, nil):
            throw Diagnostic(location(commandToken), "'\(commandToken.text)' needs a file: write it as 'FILE: \(commandToken.text) …'")
        case (.file, let file?):
            try TestParser.checkPath(file.text, at: location(file))
        case (.filesystem, let file?):
            throw Diagnostic(location(file), "'\(commandToken.text)' acts on the whole filesystem and takes no 'FILE:'")
        case (.filesystem, nil):
            break
        }
        let at = TrackingLocations(file: location(file ?? commandToken),
                                   arguments: tokens.dropFirst().map(location))
        if track { try spec.track(command, file?.text, &files, at) }
        return Step(command: command, name: spec.name, file: file?.text, openFlags: openFlags, expectation: expectation,
                    location: location(allTokens[0]), text: text)
    }

    /// Paths name files beneath the mount: relative, no `..`, no empty components.
    static func checkPath(_ path: String, at location: SourceLocation) throws {
        if path.hasPrefix("/") { throw Diagnostic(location, "'\(path)' is an absolute path; files are named relative to the mount") }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains("..") { throw Diagnostic(location, "'\(path)' leaves the mount ('..' is not allowed)") }
        if components.contains(where: { $0.isEmpty || $0 == "." }) { throw Diagnostic(location, "'\(path)' is not a plain relative path") }
    }
}

extension String {
    /// Without leading and trailing blanks and line ends (test lines, sysfs and procfs values).
    public var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\n" || c == "\r\n" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\r\n" { s.removeLast() }   // O(1) each
        return String(s)
    }
}

extension Step {
    /// The step read again with a filesystem's block units (XFS's geometry): its numbers with `b` or `s`
    /// and pwrite's and pread's default buffer change, nothing else does. The files it names were checked
    /// when the test was parsed.
    public func resolved(in units: BlockUnits) throws -> Step {
        guard units != .standard else { return self }
        var files = FileTracker()
        let parser = TestParser(path: location.file, name: location.file, units: units)
        let step = try parser.parseStep(Token.split(Substring(text)), line: location.line, text: text, files: &files, track: false)
        return Step(command: step.command, name: name, file: file, openFlags: openFlags, expectation: expectation,
                    location: location, text: text)
    }
}
