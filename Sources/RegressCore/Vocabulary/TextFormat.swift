#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// What printf's formats and Foundation's date formatters did, in plain Swift: both live in the part of
// Foundation that brings ICU along, which a static binary would then carry.

/// `12.3` for `fixedPoint(12.34, decimals: 1)`: `%.Nf` (half away from zero).
public func fixedPoint(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let units = UInt64(scaled), divisor = UInt64(scale)
    let sign = value < 0 && units != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(units) }
    return sign + String(units / divisor) + "." + zeroPadded(Int(units % divisor), decimals)
}

/// `0042` for `zeroPadded(42, 4)`.
public func zeroPadded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// `00ff` for `hexDigits(255, width: 4)`: `%04x` (`%04X` with `uppercase`).
public func hexDigits<T: BinaryInteger>(_ value: T, width: Int, uppercase: Bool = false) -> String {
    let digits = String(value, radix: 16, uppercase: uppercase)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// A moment in UTC as the calendar and the clock say it (proleptic Gregorian, days from the civil-from-days
/// algorithm), to the millisecond.
public struct UTCTime: Equatable, Sendable {
    public var year, month, day, hour, minute, second, milliseconds: Int

    public init(_ date: Date) {
        let total = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let millisPerDay = 86_400_000
        let days = total >= 0 ? total / millisPerDay : -((-total + millisPerDay - 1) / millisPerDay)
        var inDay = total - days * millisPerDay
        hour = inDay / 3_600_000; inDay %= 3_600_000
        minute = inDay / 60_000; inDay %= 60_000
        second = inDay / 1000
        milliseconds = inDay % 1000
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// `2026-12-02`
    public var date: String { "\(zeroPadded(year, 4))-\(zeroPadded(month, 2))-\(zeroPadded(day, 2))" }
    /// `03:54:46` with `:`, `03-54-46` with `-`.
    public func time(separator: String) -> String {
        [hour, minute, second].map { zeroPadded($0, 2) }.joined(separator: separator)
    }
}

extension StringProtocol {
    /// Without the characters `drop` picks at either end: Foundation's trimmingCharacters(in:) without its
    /// CharacterSet.
    public func trimming(where drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Without blanks (spaces, tabs: whitespace that is not a line break) at either end.
    public var trimmingInlineWhitespace: String { trimming { $0.isWhitespace && !$0.isNewline } }
    /// Without whitespace, line breaks included, at either end.
    public var trimmingWhitespace: String { trimming(where: \.isWhitespace) }
    /// Without line breaks at either end.
    public var trimmingNewlines: String { trimming(where: \.isNewline) }
}
