/// Sizes and offsets as xfs_io's cvtnum reads them: strtoll with base 0 (`4096`, `0x1000`, and `010000`,
/// which is octal, 4096), then at most one case-insensitive suffix: `k m g t p e` (binary multiples),
/// `s` (sectors) or `b` (filesystem blocks), whose sizes are the filesystem's (`BlockUnits`: 512 and 4096
/// but on XFS, where they come from its geometry).
/// In `0x1e` the `e` is a hex digit, not the exbibyte suffix: strtoll reads all digits first.
public enum Size {
    public static func parse(_ text: String, units: BlockUnits = .standard) -> UInt64? {
        let characters = Array(text.lowercased())
        guard !characters.isEmpty, characters.allSatisfy(\.isASCII) else { return nil }
        var index = 0
        let radix: Int
        if characters.count >= 2, characters[0] == "0", characters[1] == "x" {
            radix = 16
            index = 2
        } else if characters[0] == "0" {
            radix = 8   // the leading 0 is itself an octal digit
        } else {
            radix = 10
        }
        let digitsStart = index
        while index < characters.count, characters[index].hexDigitValue.map({ $0 < radix }) == true { index += 1 }
        guard index > digitsStart, let value = UInt64(String(characters[digitsStart..<index]), radix: radix) else { return nil }
        let suffix = characters[index...]
        guard suffix.count <= 1 else { return nil }
        var multiplier: UInt64 = 1
        if let unit = suffix.first {
            let units: [Character: UInt64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50,
                                              "e": 1 << 60, "s": units.sector, "b": units.block]
            guard let m = units[unit] else { return nil }
            multiplier = m
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow || product > UInt64(Int64.max) ? nil : product
    }

    /// `16m`, `4k`, `1234`: the shortest exact form, for reports.
    public static func format(_ value: UInt64) -> String {
        for (suffix, shift) in [("g", 30), ("m", 20), ("k", 10)] as [(String, UInt64)] where value != 0 && value % (1 << shift) == 0 {
            return "\(value >> shift)\(suffix)"
        }
        return "\(value)"
    }
}

extension Size {
    /// The number at the start of `text` as strtoul(text, &end, 0) reads it, ignoring what follows (xfs_io's
    /// seeds); a leading `-` wraps around as strtoul's does. Nil when no digit starts the text.
    public static func leadingNumber(_ text: String) -> UInt64? {
        var characters = Substring(text.lowercased())
        let negative = characters.first == "-"
        if negative || characters.first == "+" { characters = characters.dropFirst() }
        var radix = 10
        if characters.hasPrefix("0x"), characters.dropFirst(2).first?.isHexDigit == true {
            radix = 16
            characters = characters.dropFirst(2)
        } else if characters.hasPrefix("0") {
            radix = 8
        }
        let digits = characters.prefix { $0.hexDigitValue.map { $0 < radix } == true }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: UInt64(radix))
            if overflow { return UInt64.max }   // strtoul saturates at ULONG_MAX
            value = shifted &+ UInt64(digit.hexDigitValue!)
        }
        return negative ? 0 &- value : value
    }
}
