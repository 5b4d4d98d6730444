/// What the oracle needs of a file: its size, positioned reads, and where its data lies. RegressRunner's
/// FileDescriptor provides it with fstat, pread and lseek(SEEK_DATA/SEEK_HOLE); tests can provide memory.
public protocol ReadableFile {
    func size() throws -> UInt64
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int
    /// The first range of data at or after `offset` (lseek SEEK_DATA, then SEEK_HOLE); nil when only a
    /// hole follows. Everything outside these ranges reads as zeros, so the oracle need not read it.
    func nextData(from offset: UInt64) throws -> Range<UInt64>?
}
