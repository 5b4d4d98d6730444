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

    /// The file a data step acts on (its `FILE:`), if any.
    var file: String? {
        switch operation {
        case .write(let name, _, _, _, _), .truncate(let name, _), .allocate(let name, _, _, _), .punch(let name, _, _),
             .zero(let name, _, _, _), .collapse(let name, _, _), .insert(let name, _, _), .reflink(let name, _, _, _, _),
             .dedupe(let name, _, _, _, _, _), .fsync(let name), .fdatasync(let name), .fill(let name, _):
            return name
        default: return nil
        }
    }
}
