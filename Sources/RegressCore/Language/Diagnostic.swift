/// Where a piece of a test file came from: reports name the step that failed by it.
public struct SourceLocation: Hashable, Codable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int = 1) { self.file = file; self.line = line; self.column = column }
    public var description: String { "\(file):\(line):\(column)" }
}

/// An error in a test file, printed as compilers print them: `FILE:LINE:COL: message`.
public struct Diagnostic: Error, Equatable, CustomStringConvertible {
    public let location: SourceLocation
    public let message: String
    public init(_ location: SourceLocation, _ message: String) { self.location = location; self.message = message }
    public var description: String { "\(location): \(message)" }
}
