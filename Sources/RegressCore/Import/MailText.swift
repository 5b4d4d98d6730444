/// A mail as the importer reads it: the header block (and each MIME part's) set apart, quoted-printable
/// bodies decoded, and every decoded line knowing the raw input lines it came from (a quoted-printable
/// soft line break joins two raw lines into one).
///
/// Input that is not a mail (a script, a commit message, `git format-patch` output without the mbox
/// `From ` line's headers) passes through line for line.
public struct MailText: Equatable, Sendable {
    public struct Line: Equatable, Sendable {
        /// The raw input lines this line was decoded from (one, unless quoted-printable joined them).
        public var source: ClosedRange<Int>
        public var text: String
        /// Set for lines of a header block (the mail's or a MIME part's) and MIME boundaries.
        public var isHeader: Bool
        /// Set for lines of a MIME part that is not text/plain (HTML, an attachment): not read.
        public var skippedPart: String?
    }

    public var lines: [Line]
    /// True when the input started with a mail header block.
    public var isMail: Bool

    public static func decode(_ text: String) -> MailText {
        var raw = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if raw.last == "" && raw.count > 1 { raw.removeLast() }
        guard let start = headerStart(raw) else {
            return MailText(lines: raw.enumerated().map { Line(source: ($0.offset + 1)...($0.offset + 1), text: $0.element, isHeader: false) },
                            isMail: false)
        }
        // A web archive's page (lore's "public inbox for …" lines) may come before the headers.
        var output = raw[..<start].enumerated().map { Line(source: ($0.offset + 1)...($0.offset + 1), text: $0.element, isHeader: false) }
        var index = start
        decodePart(raw, &index, end: raw.count, into: &output)
        return MailText(lines: output, isMail: true)
    }

    /// Where the mail's header block starts: at one of the first three lines, with a `From:` or
    /// `Subject:` header in it before the first blank line.
    static func headerStart(_ raw: [String]) -> Int? {
        for start in raw.indices.prefix(3) where isHeader(raw[start]) {
            let block = raw[start...].prefix { !$0.isEmpty }
            let headers = block.filter(isHeader)
            if headers.count >= 2, headers.contains(where: { $0.lowercased().hasPrefix("from:") || $0.lowercased().hasPrefix("subject:") || $0.hasPrefix("From ") }) {
                return start
            }
        }
        return nil
    }

    /// An mbox `From ` line or a header such as `From:`, `Subject:`, `Date:`.
    static func isHeader(_ first: String) -> Bool {
        if first.hasPrefix("From ") && (first.contains("@") || first.contains(" Mon ") || first.endsWithYear()) { return true }
        let known = ["from:", "subject:", "date:", "to:", "message-id:", "return-path:", "received:", "delivered-to:",
                     "mime-version:", "x-", "cc:", "in-reply-to:", "references:", "reply-to:", "sender:", "list-id:"]
        let lowered = first.lowercased()
        return known.contains { lowered.hasPrefix($0) }
    }

    /// Reads a header block and its body from `index` up to `end`; recurses into multipart bodies.
    private static func decodePart(_ raw: [String], _ index: inout Int, end: Int, into output: inout [Line]) {
        var headers: [String: String] = [:]
        var lastName = ""
        while index < end {
            let line = raw[index]
            output.append(Line(source: (index + 1)...(index + 1), text: line, isHeader: true))
            index += 1
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t" {
                headers[lastName, default: ""] += " " + line.trimmingBlanks
            } else if let colon = line.firstIndex(of: ":") {
                lastName = line[..<colon].lowercased()
                headers[lastName] = String(line[line.index(after: colon)...]).trimmingBlanks
            }
        }
        let contentType = headers["content-type"]?.lowercased() ?? "text/plain"
        let encoding = headers["content-transfer-encoding"]?.lowercased() ?? "7bit"
        if contentType.hasPrefix("multipart/"), let boundary = parameter("boundary", of: headers["content-type"] ?? "") {
            var partStart: Int?
            while index < end {
                let line = raw[index]
                if line == "--" + boundary || line == "--" + boundary + "--" {
                    if let start = partStart {
                        var cursor = start
                        decodePart(raw, &cursor, end: index, into: &output)
                    }
                    output.append(Line(source: (index + 1)...(index + 1), text: line, isHeader: true))
                    index += 1
                    partStart = line.hasSuffix("--") && line != "--" + boundary ? nil : index
                    continue
                }
                if partStart == nil {
                    // The preamble or epilogue of a multipart body ("This is a multi-part message…").
                    output.append(Line(source: (index + 1)...(index + 1), text: line, isHeader: true))
                }
                index += 1
            }
            if let start = partStart {
                var cursor = start
                decodePart(raw, &cursor, end: end, into: &output)
            }
            index = end
            return
        }
        if contentType.hasPrefix("text/plain") && encoding == "base64" {
            decodeBase64Part(raw, &index, end: end, into: &output)
            return
        }
        let skipped: String? = contentType.hasPrefix("text/plain") ? nil
            : "a \(contentType.split(separator: ";").first.map(String.init) ?? contentType) part"
        if encoding == "quoted-printable" && skipped == nil {
            var start = index
            var text = ""
            while index < end {
                var line = raw[index]
                index += 1
                if line.hasSuffix("=") {
                    line.removeLast()
                    text += line
                    if index < end { continue }
                } else {
                    text += line
                }
                output.append(Line(source: (start + 1)...index, text: decodeQuotedPrintable(text), isHeader: false))
                text = ""
                start = index
            }
            return
        }
        // RFC 3676 format=flowed: a line that ends in a blank goes on in the next one (mail clients
        // wrap long commands so). The signature separator `-- ` ends no line early.
        let flowed = skipped == nil && (parameter("format", of: headers["content-type"] ?? "")?.lowercased() == "flowed")
        while index < end {
            let start = index
            var text = raw[index]
            index += 1
            while flowed, text.hasSuffix(" "), text != "-- ", index < end, !raw[index].isEmpty,
                  quoteDepth(raw[index]) == quoteDepth(text) {
                text += String(raw[index].dropFirst(quoteDepth(raw[index])))
                index += 1
            }
            output.append(Line(source: (start + 1)...index, text: text, isHeader: false, skippedPart: skipped))
        }
    }

    /// How many `>` marks open the line (its depth of quoting in a reply).
    static func quoteDepth(_ line: String) -> Int {
        line.prefix { $0 == ">" }.count
    }

    /// A base64 text/plain part (how some mailers send a patch): decoded, each decoded line knowing the
    /// encoded lines its bytes came from. Text that is not base64 is kept as written.
    private static func decodeBase64Part(_ raw: [String], _ index: inout Int, end: Int, into output: inout [Line]) {
        var bytes: [UInt8] = []
        var lineOfByte: [Int] = []
        while index < end {
            guard let decoded = Base64.decode(raw[index].trimmingBlanks) else {
                // Not base64 after all (or the part's end): leave the rest as it is.
                while index < end {
                    output.append(Line(source: (index + 1)...(index + 1), text: raw[index], isHeader: false))
                    index += 1
                }
                break
            }
            bytes += decoded
            lineOfByte += Array(repeating: index + 1, count: decoded.count)
            index += 1
        }
        guard !bytes.isEmpty else { return }
        var lineStart = 0
        for position in 0...bytes.count where position == bytes.count || bytes[position] == UInt8(ascii: "\n") {
            if position == bytes.count && lineStart == position { break }
            var text = String(decoding: bytes[lineStart..<position], as: UTF8.self)
            if text.hasSuffix("\r") { text.removeLast() }
            let first = lineOfByte[min(lineStart, bytes.count - 1)]
            let last = lineOfByte[max(lineStart, min(position, bytes.count) - 1)]
            output.append(Line(source: first...max(first, last), text: text, isHeader: false))
            lineStart = position + 1
        }
    }

    static func parameter(_ name: String, of header: String) -> String? {
        for piece in header.split(separator: ";") {
            let trimmed = String(piece).trimmingBlanks
            guard trimmed.lowercased().hasPrefix(name + "=") else { continue }
            var value = trimmed.dropFirst(name.count + 1)
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = value.dropFirst().dropLast() }
            return String(value)
        }
        return nil
    }

    /// `=XX` escapes to bytes, read as UTF-8 (a byte sequence that is not valid UTF-8 is kept as written).
    public static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "="), index + 2 < utf8.count,
               let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

private extension String {
    /// An mbox separator line ends with a year: `From x@y Mon Sep 17 00:00:00 2001`.
    func endsWithYear() -> Bool {
        let words = split(separator: " ")
        guard let last = words.last, last.count == 4 else { return false }
        return last.allSatisfy(\.isNumber)
    }
}

/// RFC 4648 base64, as mail parts use it; nil for text that is not base64.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for character in text.utf8 {
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(character - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(character - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): values.append(62)
            case UInt8(ascii: "/"): values.append(63)
            case UInt8(ascii: "="): values.append(64)
            default: return nil
            }
        }
        guard values.count % 4 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < values.count {
            let group = values[index..<(index + 4)]
            index += 4
            let padding = group.filter { $0 == 64 }.count
            guard padding <= 2, !group.prefix(4 - padding).contains(64) else { return nil }
            let bits = group.reduce(0) { ($0 << 6) | UInt32($1 == 64 ? 0 : $1) }
            bytes.append(UInt8(bits >> 16 & 0xff))
            if padding < 2 { bytes.append(UInt8(bits >> 8 & 0xff)) }
            if padding < 1 { bytes.append(UInt8(bits & 0xff)) }
        }
        return bytes
    }
}
