#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads back what JSONReport wrote: the run's kernel and seconds and every TestResult, for `regress merge`.
/// Reports from before results carried their origin and start time still decode (those fields are nil);
/// a report of a newer schemaVersion, or anything that is not a regress JSON report, is refused with a
/// one-line reason naming the file.
public struct JSONReportDecoder {
    public init() {}

    /// One report as decoded: the results in the order the report lists them.
    public struct Report: Sendable {
        public var path: String
        public var kernel: String
        public var seconds: Double
        public var results: [TestResult]
        /// The regress that wrote the report; nil for reports from before they said so.
        public var regress: RegressVersion?
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String)
        case notAReport(String, String)
        case newerSchema(String, Int)
        public var description: String {
            switch self {
            case .unreadable(let path): return "\(path): cannot read the file"
            case .notAReport(let path, let why): return "\(path): not a regress JSON report (\(why))"
            case .newerSchema(let path, let version):
                return "\(path): JSON report schemaVersion \(version) is newer than this regress reads (\(JSONReport.schemaVersion))"
            }
        }
    }

    private struct Document: Decodable {
        var tool: String?
        var schemaVersion: Int
        var kernel: String
        var seconds: Double
        var results: [TestResult]
        var regress: RegressVersion?
    }

    public func decode(path: String) throws -> Report {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.unreadable(path) }
        return try decode(data, path: path)
    }

    public func decode(_ data: Data, path: String) throws -> Report {
        let decoder = JSONDecoder()
        // As JSONReport writes a NaN or infinite time.
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        // The version first, so that a newer report is refused for what it is rather than for a renamed key.
        struct Version: Decodable { var schemaVersion: Int?; var tool: String? }
        let version: Version
        do { version = try decoder.decode(Version.self, from: data) } catch { throw Failure.notAReport(path, "not a JSON object") }
        guard version.tool == "regress", let schemaVersion = version.schemaVersion else {
            throw Failure.notAReport(path, "no \"tool\": \"regress\" and schemaVersion")
        }
        guard schemaVersion <= JSONReport.schemaVersion else { throw Failure.newerSchema(path, schemaVersion) }
        do {
            let document = try decoder.decode(Document.self, from: data)
            return Report(path: path, kernel: document.kernel, seconds: document.seconds, results: document.results, regress: document.regress)
        } catch let error as DecodingError {
            throw Failure.notAReport(path, Self.explain(error))
        }
    }

    /// `results[3].verdict: …`: where in the document decoding stopped, on one line.
    static func explain(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(at(context.codingPath + [key])): missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(at(context.codingPath)): \(oneLine(context.debugDescription))"
        @unknown default: return oneLine("\(error)")
        }
    }
}
