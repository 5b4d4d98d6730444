/// A byte range of a file or of a disk: `offset` and `length`, as xfs_io's commands take them.
public struct ByteRange: Equatable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var offset: UInt64
    public var length: UInt64
    public init(offset: UInt64, length: UInt64) { self.offset = offset; self.length = length }
    public var end: UInt64 { offset + length }
    public var span: Range<UInt64> { offset..<end }
    public var description: String { "\(offset)+\(length)" }
}
