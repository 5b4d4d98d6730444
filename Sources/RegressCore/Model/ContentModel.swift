/// What every file beneath the mount must contain, and what a power cut must leave of it.
///
/// Each step that succeeds updates the model as the kernel promises to update the file. Durability follows
/// the POSIX promises: fsync/fdatasync make one file durable, sync/syncfs make all durable, an O_DSYNC write
/// makes its own bytes durable. A power cut leaves each file, block by block, holding either its durable
/// content or its latest content; `verify` checks exactly that, then the model adopts what it found.
///
/// Content belongs to inodes, not names, so that hard links share it: a write through one name is seen
/// through every other.
///
/// Names have a durability of their own. A rename or a link reaches the disk with the next sync, an fsync
/// of the file (under any of its names), or an fsync of the directory the name is in or left; until then
/// a power cut may keep the old binding. A rename is atomic, so the file is then under its old name or its
/// new one, never lost from both (the bug a mail like "btrfs: fix lost inode on log replay after mix of
/// fsync, rename and inode eviction" fixes); a new link may simply be gone.
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

    /// Renames not made durable yet: each current name with the name its file had when its binding was
    /// last durable. A chain of renames keeps the first name.
    private var renamedFrom: [String: String] = [:]
    /// What a rename not made durable yet replaced at its new name: the name may still show it.
    private var replaced: [String: Expected] = [:]
    /// Links not made durable yet.
    private var newLinks: Set<String> = []
    /// After a power cut, until `verify` looked: the names whose binding the cut may not have kept.
    public private(set) var namesInFlux: [String: NameInFlux] = [:]
    /// After a power cut: the files that must be under one of several names (a rename's old and new name).
    public private(set) var renamesInFlux: [RenameInFlux] = []

    /// A name a power cut may have left bound otherwise.
    public struct NameInFlux: Equatable, Sendable {
        /// The name may be gone (a new name of a rename or a link that did not reach the disk).
        public var mayBeMissing: Bool
        /// What else the name may show: the file it named before a rename moved another file onto it.
        public var alternatives: [Expected] = []
    }

    /// A file renamed before a power cut that nothing made durable: it must be found under `names` (its new
    /// name first, then its old one), showing `expected`, under at least one of them.
    public struct RenameInFlux: Equatable, Sendable {
        public var names: [String]
        public var expected: Expected

        /// Whether `verify` lost the file: every name was gone or showed another file. (`shown`: what each
        /// name was found to hold; a name found with wrong content has a failure of its own already.)
        public func isLost(shown: [String: Expected], gone: Set<String>) -> Bool {
            names.allSatisfy { gone.contains($0) || (shown[$0] != nil && shown[$0] != expected) }
        }
    }

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

    /// Applies a change to a file's content, creating the file if needed. After a power cut nothing read
    /// yet, the file holds block by block its old content or its new: a change applies to both, and the
    /// uncertainty stays what it was until `verify` looks (`unresolved(before:)` says which steps cannot
    /// wait for that).
    public mutating func update(_ file: String, _ change: (inout ExtentMap) -> Void) {
        let inode = inode(of: file)
        change(&inodes[inode]!.content)
        if var old = inodes[inode]!.afterPowerCut?.old {
            change(&old)
            inodes[inode]!.afterPowerCut!.old = old
        }
    }

    /// FICLONERANGE of `range` of `source` to `offset` of `file`. A source whose power-cut outcome is not
    /// read yet gives its old blocks to the old version of the file and its new blocks to the new one, so
    /// the file becomes as uncertain there as the source is.
    public mutating func clone(_ file: String, from source: String, range: Range<UInt64>, to offset: UInt64) {
        let newSource = content(of: source) ?? ExtentMap()
        let oldSource = state(of: source)?.afterPowerCut?.old ?? newSource
        let inode = inode(of: file)
        let before = inodes[inode]!
        inodes[inode]!.content.clone(from: newSource, range: range, to: offset)
        guard before.afterPowerCut != nil || oldSource != newSource else { return }
        var old = before.afterPowerCut.map { $0.old ?? ExtentMap() } ?? before.content
        old.clone(from: oldSource, range: range, to: offset)
        inodes[inode]!.afterPowerCut = PowerCutOutcome(old: old)
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
            let previous = renamedFrom[to] == nil && !newLinks.contains(to) ? expected(for: to) : nil
            remove(to)
            if let previous { replaced[to] = previous }
            names[from] = nil
            names[to] = inode
            moveBinding(from, to: to)
        }
        for name in names.keys where name.hasPrefix(from + "/") {
            let moved = to + name.dropFirst(from.count)
            names[moved] = names.removeValue(forKey: name)
            moveBinding(name, to: moved)
        }
    }

    /// `to` now names what `from` named; until made durable, the file may still be under its first name.
    private mutating func moveBinding(_ from: String, to: String) {
        let first = renamedFrom.removeValue(forKey: from) ?? from
        if first != to { renamedFrom[to] = first }
        if newLinks.remove(from) != nil { newLinks.insert(to) }
    }

    /// A hard link: `to` names the same file as `from`.
    public mutating func link(_ from: String, to: String) {
        guard let inode = names[from] else { return }
        remove(to)
        names[to] = inode
        newLinks.insert(to)
    }

    /// Removes a name; the file goes with its last name.
    public mutating func remove(_ file: String) {
        guard let inode = names.removeValue(forKey: file) else { return }
        if !names.values.contains(inode) { inodes[inode] = nil }
        renamedFrom[file] = nil
        replaced[file] = nil
        newLinks.remove(file)
    }

    // MARK: durability

    /// fsync of `file`: its content, and the names it touches. An fsync of a file persists its names
    /// (ext4, xfs and btrfs promise it; POSIX does not); an fsync of a directory persists the entries it
    /// holds or lost; and once the old name of a rename is durably another file's, the rename is durable too.
    public mutating func makeDurable(_ file: String) {
        makeNamesDurable(file)
        makeDataDurable(file)
    }

    /// fdatasync of `file`: its content and size, not its names (ext4 commits no rename for it).
    public mutating func makeDataDurable(_ file: String) {
        guard let inode = names[file], inodes[inode]!.afterPowerCut == nil else { return }
        inodes[inode]!.durable = inodes[inode]!.content
    }

    private mutating func makeNamesDurable(_ file: String) {
        let inode = names[file]
        func touched(_ name: String) -> Bool {
            name == file || ContentModel.parent(of: name) == file || (inode != nil && names[name] == inode)
        }
        // fsync of a renamed directory persists its own rename, which carried everything beneath it.
        func renamedWith(_ name: String, _ first: String) -> Bool {
            name.hasPrefix(file + "/") && first.hasSuffix(String(name.dropFirst(file.count)))
        }
        renamedFrom = renamedFrom.filter { name, first in !touched(name) && !touched(first) && !renamedWith(name, first) }
        replaced = replaced.filter { name, _ in renamedFrom[name] != nil }
        newLinks = newLinks.filter { !touched($0) }
    }

    /// A data sync of `range` alone (vfs_fsync_range with datasync, as msync MS_SYNC calls it): the bytes the
    /// file holds there now, and the size that reaches them, become durable. Bytes past the end of the file
    /// are nothing to sync.
    public mutating func makeDurable(_ file: String, range: Range<UInt64>) {
        guard let inode = names[file], inodes[inode]!.afterPowerCut == nil else { return }
        let content = inodes[inode]!.content
        let synced = range.clamped(to: 0..<content.size)
        guard !synced.isEmpty else { return }
        var durable = inodes[inode]!.durable ?? ExtentMap()
        durable.clone(from: content, range: synced, to: synced.lowerBound)
        inodes[inode]!.durable = durable
    }

    public mutating func makeAllDurable() {
        for (inode, state) in inodes where state.afterPowerCut == nil { inodes[inode]!.durable = state.content }
        renamedFrom = [:]
        replaced = [:]
        newLinks = []
    }

    static func parent(of name: String) -> String {
        name.lastIndex(of: "/").map { String(name[..<$0]) } ?? ""
    }

    /// The power cut: what was durable stays; what was not may or may not have reached the disk.
    public mutating func powerCut() {
        for (inode, state) in inodes where state.content != state.durable {
            inodes[inode]!.afterPowerCut = PowerCutOutcome(old: state.durable)
        }
        for name in newLinks.sorted() where names[name] != nil {
            namesInFlux[name] = NameInFlux(mayBeMissing: true)
        }
        for (name, first) in renamedFrom.sorted(by: { $0.key < $1.key }) {
            guard let inode = names[name], let expected = expected(for: name) else { continue }
            // A file never made durable may be gone under both names; any other must be under one.
            if case .either(nil, _) = expected {} else {
                renamesInFlux.append(RenameInFlux(names: [name, first], expected: expected))
            }
            namesInFlux[name, default: NameInFlux(mayBeMissing: true)].mayBeMissing = true
            if let previous = replaced[name] { namesInFlux[name]!.alternatives.append(previous) }
            if names[first] == nil {
                // The old name comes back as another name of the file, which verify may find gone.
                names[first] = inode
                namesInFlux[first] = NameInFlux(mayBeMissing: true)
            } else {
                // The old name is another file's now: it may show that file or this one.
                namesInFlux[first, default: NameInFlux(mayBeMissing: false)].alternatives.append(expected)
            }
        }
        renamedFrom = [:]
        replaced = [:]
        newLinks = []
    }

    /// After `verify` read a file following a power cut: the file now holds `found` (nil: this name is gone).
    public mutating func resolve(_ file: String, to found: ExtentMap?) {
        let flux = namesInFlux.removeValue(forKey: file)
        renamesInFlux = renamesInFlux.compactMap { rename in
            var rename = rename
            rename.names.removeAll { $0 == file }
            return rename.names.isEmpty ? nil : rename
        }
        guard let found else { remove(file); return }
        if let flux, !flux.alternatives.isEmpty {
            // It may show another file than the one the model had under it: it is a file of its own now.
            remove(file)
        }
        inodes[inode(of: file)] = FileState(content: found, durable: found, afterPowerCut: nil)
    }

    /// Files still waiting for `verify` after a power cut.
    public var unresolvedAfterPowerCut: [String] {
        Set(names.filter { inodes[$0.value]!.afterPowerCut != nil }.keys).union(namesInFlux.keys).sorted()
    }
}
