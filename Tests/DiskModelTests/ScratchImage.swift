import CDiskModel
import Foundation
import XCTest

/// A temp directory with a disk image in it, and the model opened over that image.
/// The tests call the model's C API directly: no FUSE, no loop device, no root.
final class ScratchImage {
    let directory: String
    let imagePath: String
    let size: Int
    private(set) var model: OpaquePointer?

    /// A fresh sparse image of `size` bytes (all zeros), or one whose every byte is `fill`.
    init(size: Int = 1 << 20, fill: UInt8? = nil) throws {
        var template = Array((NSTemporaryDirectory() + "/disk-model.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        directory = String(cString: made)
        imagePath = directory + "/image"
        self.size = size
        let fd = open(imagePath, O_RDWR | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { Glibc.close(fd) }
        if let fill {
            let bytes = [UInt8](repeating: fill, count: size)
            guard pwrite(fd, bytes, size, 0) == size else { throw POSIXError(.EIO) }
        } else {
            guard ftruncate(fd, off_t(size)) == 0 else { throw POSIXError(.EIO) }
        }
        try reopen()
    }

    /// Opens the model over the image (after a close: the image as the previous model left it).
    func reopen() throws {
        var message = [CChar](repeating: 0, count: 256)
        guard let opened = disk_model_open(imagePath, &message, message.count) else {
            XCTFail("disk_model_open: " + String(cString: message))
            throw POSIXError(.EIO)
        }
        model = opened
    }

    /// Closes the model: after a power cut the image is rolled back to what was durable.
    func close() -> Int32 {
        guard let model else { return 0 }
        self.model = nil
        return disk_model_close(model)
    }

    @discardableResult
    func write(_ bytes: [UInt8], at offset: Int) -> Int32 {
        disk_model_write(model, bytes, UInt64(offset), UInt64(bytes.count))
    }

    @discardableResult
    func write(_ byte: UInt8, at offset: Int, count: Int) -> Int32 {
        write([UInt8](repeating: byte, count: count), at: offset)
    }

    @discardableResult
    func zero(at offset: Int, count: Int) -> Int32 {
        disk_model_write(model, nil, UInt64(offset), UInt64(count))
    }

    func flush() { disk_model_flush(model) }

    /// What the model serves now.
    func read(at offset: Int, count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0xEE, count: count)
        let got = disk_model_read(model, &buffer, UInt64(offset), count)
        XCTAssertEqual(got, Int64(count), "disk_model_read at \(offset)+\(count)")
        return buffer
    }

    /// The whole image file's bytes, read from the file itself (with the model closed, what a reboot sees).
    func imageBytes(_ path: String? = nil) -> [UInt8] {
        let fd = open(path ?? imagePath, O_RDONLY)
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0xEE, count: size)
        XCTAssertEqual(pread(fd, &bytes, size, 0), size, "read \(path ?? imagePath)")
        return bytes
    }

    var statistics: disk_model_stats {
        var stats = disk_model_stats()
        disk_model_get_stats(model, &stats)
        return stats
    }

    deinit {
        _ = close()
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            for entry in entries { unlink(directory + "/" + entry) }
        }
        rmdir(directory)
    }
}

/// A small deterministic generator, so that a failing random test names a seed that reproduces it.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

/// The first offset where two byte arrays differ, nil when equal.
func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    if a.count != b.count { return min(a.count, b.count) }
    return zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset
}
