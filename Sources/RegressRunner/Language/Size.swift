/// Sizes and offsets as xfs_io's cvtnum reads them: `4096`, `0x1000`, `8k`, `64m`, `1g`, `2t`, `1e` (exbibyte), `8s` (512-byte sectors).
/// Suffixes are binary and case-insensitive.
public enum Size {
    public static func parse(_ text: String) -> UInt64? {
        guard let last = text.last else { return nil }
        let multipliers: [Character: UInt64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50, "e": 1 << 60, "s": 512]
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        // In `0x1e` the `e` is a hex digit, not the exbibyte suffix: xfs_io's strtoll reads all digits first.
        let isHex = text.lowercased().hasPrefix("0x")
        if !(isHex && last.isHexDigit), let m = multipliers[Character(last.lowercased())] {
            multiplier = m
            digits = digits.dropLast()
        }
        let value: UInt64?
        if digits.lowercased().hasPrefix("0x") {
            value = UInt64(digits.dropFirst(2), radix: 16)
        } else {
            value = digits.allSatisfy(\.isASCII) ? UInt64(digits) : nil
        }
        guard let value else { return nil }
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
