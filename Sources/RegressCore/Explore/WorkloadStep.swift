/// One step of a generated workload, as values a shrinker can change (halve a length, round an offset)
/// and render again: each becomes exactly one tests.d line, the language a human writes, which the real
/// `TestParser` reads back.
public enum WorkloadOperation: Equatable, Hashable, Sendable {
    /// `pwrite -S PATTERN OFF LEN`; `direct`: through an O_DIRECT open (`F: -d pwrite …`, block-aligned).
    case write(file: String, offset: UInt64, length: UInt64, pattern: UInt8, direct: Bool)
    case truncate(file: String, size: UInt64)
    /// `falloc [-k]`
    case allocate(file: String, offset: UInt64, length: UInt64, keepSize: Bool)
    case punch(file: String, offset: UInt64, length: UInt64)
    /// `fzero [-k]`
    case zero(file: String, offset: UInt64, length: UInt64, keepSize: Bool)
    case collapse(file: String, offset: UInt64, length: UInt64)
    case insert(file: String, offset: UInt64, length: UInt64)
    case reflink(file: String, source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64)
    /// `differs`: the ranges hold different bytes, so the kernel must refuse (`expect EBADE`).
    case dedupe(file: String, source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64, differs: Bool)
    case fsync(String)
    case fdatasync(String)
    case sync
    case syncfs
    case remount
    case mkdir(String)
    case rename(from: String, to: String)
    case link(from: String, to: String)
    case unlink(String)
    /// The padding that fills the filesystem: one write as large as the image, which ends in ENOSPC.
    case fill(file: String, size: UInt64)
    /// `verify` (every file) or `verify FILE`.
    case verify(String?)
    case powerCut
    /// A fault of the emulated disk, for meta-tests (`--inject-fault`): flushes acknowledged, nothing kept.
    case lyingCache(Bool)
    /// A fault of the emulated disk: writes acknowledged and readable, never durable (`drop-writes 0 0`).
    case dropWrites
    case clearFaults
}

public struct WorkloadStep: Equatable, Hashable, Sendable {
    public var operation: WorkloadOperation
    /// `allow ENOSPC`: the step runs while the filesystem is full, so it may run out of space.
    public var mayRunOutOfSpace: Bool

    public init(_ operation: WorkloadOperation, mayRunOutOfSpace: Bool = false) {
        self.operation = operation
        self.mayRunOutOfSpace = mayRunOutOfSpace
    }

    /// The tests.d line.
    public var line: String {
        var words: [String]
        func file(_ name: String, _ rest: String...) -> [String] { ["\(name):"] + rest }
        func n(_ value: UInt64) -> String { Size.format(value) }
        switch operation {
        case .write(let name, let offset, let length, let pattern, let direct):
            words = file(name) + (direct ? ["-d"] : []) + ["pwrite", "-S", "0x" + String(pattern, radix: 16), n(offset), n(length)]
        case .truncate(let name, let size): words = file(name, "truncate", n(size))
        case .allocate(let name, let offset, let length, let keep):
            words = file(name, "falloc") + (keep ? ["-k"] : []) + [n(offset), n(length)]
        case .punch(let name, let offset, let length): words = file(name, "fpunch", n(offset), n(length))
        case .zero(let name, let offset, let length, let keep):
            words = file(name, "fzero") + (keep ? ["-k"] : []) + [n(offset), n(length)]
        case .collapse(let name, let offset, let length): words = file(name, "fcollapse", n(offset), n(length))
        case .insert(let name, let offset, let length): words = file(name, "finsert", n(offset), n(length))
        case .reflink(let name, let source, let sourceOffset, let offset, let length):
            words = file(name, "reflink", source, n(sourceOffset), n(offset), n(length))
        case .dedupe(let name, let source, let sourceOffset, let offset, let length, let differs):
            words = file(name, "dedupe", source, n(sourceOffset), n(offset), n(length)) + (differs ? ["expect", "EBADE"] : [])
        case .fsync(let name): words = file(name, "fsync")
        case .fdatasync(let name): words = file(name, "fdatasync")
        case .sync: words = ["sync"]
        case .syncfs: words = ["syncfs"]
        case .remount: words = ["remount"]
        case .mkdir(let name): words = ["mkdir", name]
        case .rename(let from, let to): words = ["rename", from, to]
        case .link(let from, let to): words = ["link", from, to]
        case .unlink(let name): words = ["unlink", name]
        case .fill(let name, let size): words = file(name, "pwrite", "-S", "0xee", "-b", "1m", "0", n(size))
        case .verify(let name): words = ["verify"] + (name.map { [$0] } ?? [])
        case .powerCut: words = ["power-cut"]
        case .lyingCache(let on): words = ["lying-cache", on ? "on" : "off"]
        case .dropWrites: words = ["drop-writes", "0", "0"]
        case .clearFaults: words = ["clear-faults"]
        }
        if case .fill = operation { words += ["allow", "ENOSPC"] } else if mayRunOutOfSpace { words += ["allow", "ENOSPC"] }
        return words.joined(separator: " ")
    }

    /// The command the step's line parses to, its file and its open flags: what the step means is the
    /// command's `StepPromise`, never restated here (a unit test holds this to the parser's reading of `line`).
    var command: (command: Command, file: String?, openFlags: OpenFlags) {
        func range(_ offset: UInt64, _ length: UInt64) -> ByteRange { ByteRange(offset: offset, length: length) }
        switch operation {
        case .write(let name, let offset, let length, let pattern, let direct):
            var options = WriteOptions()
            options.pattern = pattern
            return (.pwrite(range(offset, length), options), name, direct ? .direct : [])
        case .truncate(let name, let size): return (.truncate(size), name, [])
        case .allocate(let name, let offset, let length, let keep): return (.fallocate(keep ? .keepSize : [], range(offset, length)), name, [])
        case .punch(let name, let offset, let length): return (.fallocate([.punchHole, .keepSize], range(offset, length)), name, [])
        case .zero(let name, let offset, let length, let keep):
            return (.fallocate(keep ? [.zeroRange, .keepSize] : .zeroRange, range(offset, length)), name, [])
        case .collapse(let name, let offset, let length): return (.fallocate(.collapseRange, range(offset, length)), name, [])
        case .insert(let name, let offset, let length): return (.fallocate(.insertRange, range(offset, length)), name, [])
        case .reflink(let name, let source, let sourceOffset, let offset, let length):
            return (.reflink(source: source, sourceOffset: sourceOffset, offset: offset, length: length), name, [])
        case .dedupe(let name, let source, let sourceOffset, let offset, let length, _):
            return (.dedupe(source: source, sourceOffset: sourceOffset, offset: offset, length: length), name, [])
        case .fsync(let name): return (.fsync, name, [])
        case .fdatasync(let name): return (.fdatasync, name, [])
        case .sync: return (.sync, nil, [])
        case .syncfs: return (.syncfs, nil, [])
        case .remount: return (.remount, nil, [])
        case .mkdir(let name): return (.mkdir(name), nil, [])
        case .rename(let from, let to): return (.rename(from, to), nil, [])
        case .link(let from, let to): return (.link(from, to), nil, [])
        case .unlink(let name): return (.unlink(name), nil, [])
        case .fill(let name, let size):
            var options = WriteOptions()
            options.pattern = 0xee
            options.blockSize = 1 << 20
            return (.pwrite(range(0, size), options), name, [])
        case .verify(let name): return (.verify(name.map { [$0] } ?? []), nil, [])
        case .powerCut: return (.powerCut, nil, [])
        case .lyingCache(let on): return (.lyingCache(on), nil, [])
        case .dropWrites: return (.dropWrites([ByteRange(offset: 0, length: 0)]), nil, [])
        case .clearFaults: return (.clearFaults, nil, [])
        }
    }

    /// The file a data step acts on (its `FILE:`), if any.
    var file: String? {
        switch operation {
        case .write(let name, _, _, _, _), .truncate(let name, _), .allocate(let name, _, _, _), .punch(let name, _, _),
             .zero(let name, _, _, _), .collapse(let name, _, _), .insert(let name, _, _), .reflink(let name, _, _, _, _),
             .dedupe(let name, _, _, _, _, _), .fsync(let name), .fdatasync(let name), .fill(let name, _):
            return name
        case .sync, .syncfs, .remount, .mkdir, .rename, .link, .unlink, .verify, .powerCut, .lyingCache, .dropWrites, .clearFaults:
            return nil
        }
    }
}
