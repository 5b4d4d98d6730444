/// What every file beneath the mount must contain, and what a power cut must leave of it.
///
/// Each step that succeeds updates the model as the kernel promises to update the file. Durability follows
/// the POSIX promises: fsync/fdatasync make one file durable, sync/syncfs make all durable, an O_DSYNC write
/// makes its own bytes durable. A power cut leaves each file, block by block, holding either its durable
/// content or its latest content; `verify` checks exactly that, then the model adopts what it found.
public struct ContentModel: Sendable {
    public struct FileState: Equatable, Sendable {
        /// What the file holds now, as read through the page cache.
        public var content = ExtentMap()
        /// What a power cut must leave; nil when nothing was made durable (the file may be missing after a cut).
        public var durable: ExtentMap?
        /// Set by a power cut when `content` was not durable: each block may hold `old` or `content`.
        public var afterPowerCut: PowerCutOutcome?
    }

    public struct PowerCutOutcome: Equatable, Sendable {
        public var old: ExtentMap?
    }

    /// What `verify` must find in a file.
    public enum Expected: Equatable {
        case exact(ExtentMap)
        /// After a power cut: each block holds the block of `old` or of `new`; the size lies between
        /// theirs; a nil `old` also allows the file to be missing.
        case either(old: ExtentMap?, new: ExtentMap)
    }

    public private(set) var files: [String: FileState] = [:]
    public init() {}

    public var fileNames: [String] { files.keys.sorted() }
    public func content(of file: String) -> ExtentMap? { files[file]?.content }

    public func expected(for file: String) -> Expected? {
        guard let state = files[file] else { return nil }
        if let cut = state.afterPowerCut { return .either(old: cut.old, new: state.content) }
        return .exact(state.content)
    }

    // MARK: data

    /// Applies a change to a file's content, creating the file if needed.
    public mutating func update(_ file: String, _ change: (inout ExtentMap) -> Void) {
        change(&files[file, default: FileState()].content)
    }

    /// An O_DSYNC write: the written bytes (and the size they need) are durable at once.
    public mutating func writeDurably(_ file: String, _ byte: UInt8, over range: Range<UInt64>) {
        var state = files[file, default: FileState()]
        state.content.write(byte, over: range)
        var durable = state.durable ?? ExtentMap()
        durable.write(byte, over: range)
        state.durable = durable
        files[file] = state
    }

    // MARK: names

    /// Renames a file, or a directory and every file beneath it.
    public mutating func rename(_ from: String, to: String) {
        if let state = files.removeValue(forKey: from) { files[to] = state }
        for name in files.keys where name.hasPrefix(from + "/") {
            files[to + name.dropFirst(from.count)] = files.removeValue(forKey: name)
        }
    }

    public mutating func remove(_ file: String) { files[file] = nil }

    // MARK: durability

    public mutating func makeDurable(_ file: String) {
        guard var state = files[file], state.afterPowerCut == nil else { return }
        state.durable = state.content
        files[file] = state
    }

    public mutating func makeAllDurable() {
        for name in files.keys { makeDurable(name) }
    }

    /// The power cut: what was durable stays; what was not may or may not have reached the disk.
    public mutating func powerCut() {
        for (name, state) in files where state.content != state.durable {
            files[name]?.afterPowerCut = PowerCutOutcome(old: state.durable)
        }
    }

    /// After `verify` read a file following a power cut: the file now holds `found` (nil: it is gone).
    public mutating func resolve(_ file: String, to found: ExtentMap?) {
        guard let found else { files[file] = nil; return }
        files[file] = FileState(content: found, durable: found, afterPowerCut: nil)
    }

    /// Files still waiting for `verify` after a power cut.
    public var unresolvedAfterPowerCut: [String] { files.filter { $0.value.afterPowerCut != nil }.keys.sorted() }
}
