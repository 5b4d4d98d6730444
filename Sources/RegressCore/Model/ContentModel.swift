/// What every file beneath the mount must contain, and what a power cut must leave of it.
///
/// Each step that succeeds updates the model as the kernel promises to update the file. Durability follows
/// the POSIX promises: fsync/fdatasync make one file durable, sync/syncfs make all durable, an O_DSYNC write
/// makes its own bytes durable. A power cut leaves each file, block by block, holding either its durable
/// content or its latest content; `verify` checks exactly that, then the model adopts what it found.
///
/// Content belongs to inodes, not names, so that hard links share it: a write through one name is seen
/// through every other. Names are assumed to be as durable as the file they name.
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
    public enum Expected: Equatable, Sendable {
        case exact(ExtentMap)
        /// After a power cut: each block holds the block of `old` or of `new`; the size lies between
        /// theirs; a nil `old` also allows the file to be missing.
        case either(old: ExtentMap?, new: ExtentMap)
    }

    /// Each name's inode; several names share one after `link`.
    public private(set) var names: [String: Int] = [:]
    private var inodes: [Int: FileState] = [:]
    private var nextInode = 1

    public init() {}

    /// Each name with its file's state (names that are hard links of each other show the same state).
    public var files: [String: FileState] { names.mapValues { inodes[$0]! } }
    public var fileNames: [String] { names.keys.sorted() }
    public func content(of file: String) -> ExtentMap? { state(of: file)?.content }

    public func expected(for file: String) -> Expected? {
        guard let state = state(of: file) else { return nil }
        if let cut = state.afterPowerCut { return .either(old: cut.old, new: state.content) }
        return .exact(state.content)
    }

    private func state(of file: String) -> FileState? { names[file].flatMap { inodes[$0] } }

    /// The inode of `file`, made (empty) if the name is new.
    private mutating func inode(of file: String) -> Int {
        if let inode = names[file] { return inode }
        let inode = nextInode
        nextInode += 1
        names[file] = inode
        inodes[inode] = FileState()
        return inode
    }

    // MARK: data

    /// Applies a change to a file's content, creating the file if needed.
    public mutating func update(_ file: String, _ change: (inout ExtentMap) -> Void) {
        change(&inodes[inode(of: file)]!.content)
    }

    /// An O_DSYNC write: the written bytes (and the size they need) are durable at once.
    public mutating func writeDurably(_ file: String, _ byte: UInt8, over range: Range<UInt64>) {
        let inode = inode(of: file)
        inodes[inode]!.content.write(byte, over: range)
        var durable = inodes[inode]!.durable ?? ExtentMap()
        durable.write(byte, over: range)
        inodes[inode]!.durable = durable
    }

    // MARK: names

    /// Renames a file, or a directory and every file beneath it. A file already at `to` loses that name.
    public mutating func rename(_ from: String, to: String) {
        if let inode = names[from] {
            remove(to)
            names[from] = nil
            names[to] = inode
        }
        for name in names.keys where name.hasPrefix(from + "/") {
            names[to + name.dropFirst(from.count)] = names.removeValue(forKey: name)
        }
    }

    /// A hard link: `to` names the same file as `from`.
    public mutating func link(_ from: String, to: String) {
        guard let inode = names[from] else { return }
        names[to] = inode
    }

    /// Removes a name; the file goes with its last name.
    public mutating func remove(_ file: String) {
        guard let inode = names.removeValue(forKey: file) else { return }
        if !names.values.contains(inode) { inodes[inode] = nil }
    }

    // MARK: durability

    public mutating func makeDurable(_ file: String) {
        guard let inode = names[file], inodes[inode]!.afterPowerCut == nil else { return }
        inodes[inode]!.durable = inodes[inode]!.content
    }

    public mutating func makeAllDurable() {
        for (inode, state) in inodes where state.afterPowerCut == nil { inodes[inode]!.durable = state.content }
    }

    /// The power cut: what was durable stays; what was not may or may not have reached the disk.
    public mutating func powerCut() {
        for (inode, state) in inodes where state.content != state.durable {
            inodes[inode]!.afterPowerCut = PowerCutOutcome(old: state.durable)
        }
    }

    /// After `verify` read a file following a power cut: the file now holds `found` (nil: this name is gone).
    public mutating func resolve(_ file: String, to found: ExtentMap?) {
        guard let found else { remove(file); return }
        inodes[inode(of: file)] = FileState(content: found, durable: found, afterPowerCut: nil)
    }

    /// Files still waiting for `verify` after a power cut.
    public var unresolvedAfterPowerCut: [String] {
        names.filter { inodes[$0.value]!.afterPowerCut != nil }.keys.sorted()
    }
}
