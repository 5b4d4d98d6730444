/// What the files of a workload are at one point of it, and whether a step may come next with the
/// expectation it carries: the one rule book that the generator draws from and that a shrunk candidate is
/// replayed against (a candidate that breaks a rule is never run: it would fail another way).
///
/// The content is the project's `ContentModel`, fed the changes each step makes when it succeeds, so that
/// sizes (collapse and insert need the file's size) and bytes (dedupe succeeds only on equal bytes) are
/// known exactly, except for files a step touched while the filesystem was full: such a step may have
/// done part of its work or none, so those files are *uncertain* and no step whose validity depends on
/// their size or bytes is allowed on them.
struct WorkloadState {
    /// Where free space stands: filling the filesystem takes it away; unlinking the padding gives it back
    /// once a sync commits the unlink (btrfs, xfs and ext4 all free the blocks at commit).
    enum Space: Equatable { case available, full(padding: Int), freedAtNextSync }

    let filesystem: FilesystemKind
    private(set) var model = ContentModel()
    private(set) var directories: Set<String> = [""]
    private(set) var uncertain: Set<Int> = []
    private(set) var space = Space.available
    private(set) var powerCutDone = false
    private(set) var pendingNames: Set<String> = []
    /// Since each file's last durability point (an fsync of it, a sync): the blocks whose bytes a step
    /// changed, and the smallest and largest size it had (its durable size included).
    private var changedBlocks: [Int: BlockRanges] = [:]
    private var sizesSeen: [Int: ClosedRange<UInt64>] = [:]

    static let block = BlockUnits.standard.block

    init(filesystem: FilesystemKind) { self.filesystem = filesystem }

    // MARK: what exists

    var files: [String] { model.fileNames }
    func isFile(_ name: String) -> Bool { model.names[name] != nil }
    func isDirectory(_ name: String) -> Bool { directories.contains(name) }
    func isFree(_ name: String) -> Bool { !isFile(name) && !isDirectory(name) }
    /// Free, and not a name whose last binding is still in flux (renamed or unlinked, not yet durable):
    /// until it is durable a crash may show the old file under it, and the crash states' expectations
    /// (`CrashExpectation`) know only the files of the step before, not one replaced steps earlier.
    /// So names are not reused, and no rename replaces an existing file, until a sync settles them.
    func isUnbound(_ name: String) -> Bool { isFree(name) && !pendingNames.contains(name) }
    func size(of name: String) -> UInt64? { model.content(of: name)?.size }
    /// The file exists and its size and bytes are known exactly.
    func isCertain(_ name: String) -> Bool { model.names[name].map { !uncertain.contains($0) } ?? false }
    var isFull: Bool { space != .available }

    static func parent(of name: String) -> String { name.split(separator: "/").dropLast().joined(separator: "/") }
    static func isAligned(_ values: UInt64...) -> Bool { values.allSatisfy { $0 % block == 0 } }

    /// A data step may name a file that exists, or a free name in an existing directory (O_CREAT).
    func canOpenOrCreate(_ name: String) -> Bool {
        isFile(name) || (isUnbound(name) && isDirectory(WorkloadState.parent(of: name)))
    }

    // MARK: the rules

    /// Nil when `step` may run next and its expectation is right; otherwise why not.
    func problem(with step: WorkloadStep) -> String? {
        if powerCutDone {
            if case .verify(let name) = step.operation { return name.map { isFile($0) ? nil : "no file \($0)" } ?? nil }
            return "only verify follows the power cut"
        }
        if isFull && !step.mayRunOutOfSpace && !WorkloadState.runsOnAFullFilesystem(step.operation) {
            return "the filesystem is full: the step needs 'allow ENOSPC'"
        }
        // A step that may run out of space may fail before its open made the file: it must not be the step
        // that creates it (explore found `e: fsync` getting ENOENT after such a write on a full xfs).
        if step.mayRunOutOfSpace, let name = step.file, !isFile(name), !isDirectory(name) { return "a step on a full filesystem may not create \(name)" }
        let features = filesystem.features
        switch step.operation {
        case .write(let name, let offset, let length, _, let direct):
            guard canOpenOrCreate(name) else { return "cannot create \(name)" }
            guard length > 0 else { return "an empty write" }
            if direct && !WorkloadState.isAligned(offset, length) { return "O_DIRECT needs whole blocks" }
        case .truncate(let name, _):
            guard canOpenOrCreate(name) else { return "cannot create \(name)" }
        case .allocate(let name, _, let length, _), .punch(let name, _, let length), .zero(let name, _, let length, _):
            guard canOpenOrCreate(name) else { return "cannot create \(name)" }
            guard length > 0 else { return "an empty range (EINVAL)" }
        case .collapse(let name, let offset, let length):
            guard features.contains(.collapse) else { return "\(filesystem.rawValue) has no collapse" }
            guard isCertain(name), let size = size(of: name) else { return "\(name)'s size is not known" }
            guard length > 0, WorkloadState.isAligned(offset, length) else { return "collapse needs whole blocks" }
            guard offset + length < size else { return "collapse must end before the end of file" }
        case .insert(let name, let offset, let length):
            guard features.contains(.insert) else { return "\(filesystem.rawValue) has no insert" }
            guard isCertain(name), let size = size(of: name) else { return "\(name)'s size is not known" }
            guard length > 0, WorkloadState.isAligned(offset, length) else { return "insert needs whole blocks" }
            guard offset < size else { return "insert must start before the end of file" }
        case .reflink(let name, let source, let sourceOffset, let offset, let length):
            guard features.contains(.reflink) else { return "\(filesystem.rawValue) has no reflink" }
            guard isCertain(source), let sourceSize = size(of: source) else { return "\(source)'s size is not known" }
            guard canOpenOrCreate(name) else { return "cannot create \(name)" }
            guard length > 0, WorkloadState.isAligned(sourceOffset, offset, length) else { return "reflink needs whole blocks" }
            guard sourceOffset + length <= sourceSize else { return "reflink beyond the source's end" }
            if model.names[name] != nil && model.names[name] == model.names[source],
               sourceOffset < offset + length && offset < sourceOffset + length { return "overlapping ranges of one file" }
        case .dedupe(let name, let source, let sourceOffset, let offset, let length, let differs):
            guard features.contains(.dedupe) else { return "\(filesystem.rawValue) has no dedupe" }
            guard isCertain(source), isCertain(name), let sourceSize = size(of: source), let size = size(of: name) else {
                return "the files' bytes are not known"
            }
            guard length > 0, WorkloadState.isAligned(sourceOffset, offset, length) else { return "dedupe needs whole blocks" }
            guard sourceOffset + length <= sourceSize, offset + length <= size else { return "dedupe beyond an end of file" }
            if model.names[name] == model.names[source], sourceOffset < offset + length && offset < sourceOffset + length {
                return "overlapping ranges of one file"
            }
            let same = WorkloadState.sameBytes(model.content(of: source)!, sourceOffset, model.content(of: name)!, offset, length)
            if same == differs { return differs ? "the ranges hold the same bytes: dedupe succeeds" : "the ranges differ: dedupe fails with EBADE" }
        case .fsync(let name), .fdatasync(let name):
            guard isFile(name) || (isDirectory(name) && !name.isEmpty) else { return "no file or directory \(name)" }
            // fdatasync need not persist a name (ext4 does not commit a rename for it), but the crash states'
            // expectations (`CrashExpectation.pendingNames`) take it to: found by explore on ext4.
            if case .fdatasync = step.operation, pendingNames.contains(name) { return "fdatasync does not make the new name \(name) durable" }
        case .powerCut:
            let pending = filesWithPendingNames
            if !pending.isEmpty { return "names not durable yet: \(pending.joined(separator: ", ")) (fsync them first)" }
        case .sync, .syncfs, .remount, .lyingCache, .dropWrites, .clearFaults:
            break
        case .mkdir(let name):
            guard isUnbound(name), isDirectory(WorkloadState.parent(of: name)) else { return "cannot make directory \(name)" }
        case .rename(let from, let to):
            guard from != to, isUnbound(to), isDirectory(WorkloadState.parent(of: to)) else { return "cannot rename to \(to)" }
            if isDirectory(from) {
                guard !from.isEmpty, !to.hasPrefix(from + "/") else { return "cannot move directory \(from) to \(to)" }
                // The names beneath a renamed directory are in flux until it is durable, and the crash states
                // would not know it (`CrashExpectation` follows the names renamed, not those beneath them).
                guard !files.contains(where: { $0.hasPrefix(from + "/") }), !directories.contains(where: { $0.hasPrefix(from + "/") }) else {
                    return "only an empty directory is renamed"
                }
            } else {
                guard isFile(from) else { return "no file \(from)" }
            }
        case .link(let from, let to):
            guard isFile(from), isUnbound(to), isDirectory(WorkloadState.parent(of: to)) else { return "cannot link \(from) to \(to)" }
        case .unlink(let name):
            guard isFile(name) else { return "no file \(name)" }
        case .fill(let name, _):
            guard !isFull else { return "the filesystem is already full" }
            guard isUnbound(name), isDirectory(WorkloadState.parent(of: name)) else { return "the padding must be a new file" }
        case .verify(let name):
            if let name, !isFile(name) { return "no file \(name)" }
        }
        if let name = needsDurabilityFirst(step) {
            return "\(name) would pass through a version that is neither its durable one nor its newest (fsync it first)"
        }
        return nil
    }

    /// Steps that need no free space: they cannot fail with ENOSPC even on a full filesystem.
    static func runsOnAFullFilesystem(_ operation: WorkloadOperation) -> Bool {
        switch operation {
        case .sync, .verify, .powerCut, .lyingCache, .dropWrites, .clearFaults, .unlink: return true
        case .write, .truncate, .allocate, .punch, .zero, .collapse, .insert, .reflink, .dedupe, .fsync, .fdatasync, .syncfs,
             .remount, .mkdir, .rename, .link, .fill:
            return false
        }
    }

    /// What `operation` does to the content model when it succeeds: its command's promise.
    static func changes(of operation: WorkloadOperation) -> [ModelChange] {
        let (command, file, openFlags) = WorkloadStep(operation).command
        return StepPromise(command, file: file, openFlags: openFlags).changes
    }

    /// Applies what `step` does when it succeeds (a step allowed to run out of space may also do part of
    /// it, or nothing: its files become uncertain). Call only when `problem(with:)` is nil.
    mutating func apply(_ step: WorkloadStep) {
        let changes = WorkloadState.changes(of: step.operation)
        switch step.operation {
        case .sync, .syncfs, .remount:
            if space == .freedAtNextSync { space = .available }
        case .mkdir(let name):
            directories.insert(name)
        case .rename(let from, let to) where isDirectory(from):
            func moved(_ path: String) -> String { path == from ? to : to + path.dropFirst(from.count) }
            directories = Set(directories.map { $0 == from || $0.hasPrefix(from + "/") ? moved($0) : $0 })
        case .unlink(let name):
            if case .full(let padding) = space, model.names[name] == padding, model.names.filter({ $0.value == padding }).count == 1 {
                space = .freedAtNextSync
            }
        case .powerCut:
            powerCutDone = true
        case .write, .truncate, .allocate, .punch, .zero, .collapse, .insert, .reflink, .dedupe, .fsync, .fdatasync, .rename,
             .link, .fill, .verify, .lyingCache, .dropWrites, .clearFaults:
            break
        }
        if let name = step.file, let effect = contentEffect(of: step.operation, on: name) {
            changedBlocks[effect.inode, default: BlockRanges()].formUnion(effect.blocks)
            sizesSeen[effect.inode] = effect.sizes
        }
        for change in changes { model.apply(change) }
        for change in changes {
            switch change {
            case .makeDurable(let name), .makeDataDurable(let name):
                if let inode = model.names[name] { changedBlocks[inode] = nil; sizesSeen[inode] = nil }
            case .makeAllDurable:
                changedBlocks = [:]
                sizesSeen = [:]
            case .write, .allocate, .truncate, .clone, .create, .makeRangeDurable, .rename, .link, .exchange, .remove, .powerCut, .adopt:
                break
            }
        }
        pendingNames = CrashExpectation.pendingNames(pendingNames, after: changes)
        if case .fill(let name, _) = step.operation, let inode = model.names[name] {
            uncertain.insert(inode)
            space = .full(padding: inode)
        }
        if step.mayRunOutOfSpace {
            for name in [step.file, WorkloadState.source(of: step.operation)].compactMap({ $0 }) {
                if let inode = model.names[name] { uncertain.insert(inode) }
            }
        }
    }

    // MARK: versions a crash may show

    /// What `operation` would do to the bytes and size of `name`: the inode (a new file gets the next
    /// number the model hands out: none is ever reused), the blocks whose bytes change, the range of
    /// sizes seen since the file's last durability point once it has run, and the size it leaves.
    func contentEffect(of operation: WorkloadOperation, on name: String) -> (inode: Int, blocks: BlockRanges, sizes: ClosedRange<UInt64>, size: UInt64)? {
        var after = model
        for change in WorkloadState.changes(of: operation) { after.apply(change) }
        guard let inode = after.names[name], let newContent = after.content(of: name) else { return nil }
        let oldContent = model.content(of: name) ?? ExtentMap()
        let blocks = WorkloadState.changedBlocks(oldContent, newContent)
        let durableSize = model.files[name]?.durable?.size ?? 0
        let seen = sizesSeen[inode] ?? (min(durableSize, oldContent.size)...max(durableSize, oldContent.size))
        let sizes = min(seen.lowerBound, newContent.size)...max(seen.upperBound, newContent.size)
        return (inode, blocks, sizes, newContent.size)
    }

    /// After a power cut (and in every crash state) a file may hold, block by block, its durable content
    /// or its newest, and a size between theirs (`ContentModel.powerCut`): nothing in between. So between
    /// two durability points of a file no block may change twice and its size may not go back and forth:
    /// a version in between could reach the disk (another file's fsync commits the journal, writeback
    /// runs) and the model would call it lost data. Returns the file to make durable first, or nil.
    func needsDurabilityFirst(_ step: WorkloadStep) -> String? {
        guard let name = step.file, model.names[name] != nil, let effect = contentEffect(of: step.operation, on: name) else { return nil }
        let durableSize = model.files[name]?.durable?.size ?? 0
        let twice = changedBlocks[effect.inode]?.intersects(effect.blocks) ?? false
        let between = effect.sizes.lowerBound >= min(durableSize, effect.size) && effect.sizes.upperBound <= max(durableSize, effect.size)
        return twice || !between ? name : nil
    }

    /// The 4 KiB blocks where `a` and `b` read differently (bytes past a map's size read as zero).
    static func changedBlocks(_ a: ExtentMap, _ b: ExtentMap) -> BlockRanges {
        var boundaries: Set<UInt64> = [0, a.size, b.size]
        for run in a.runs + b.runs { boundaries.insert(run.start); boundaries.insert(run.end) }
        let sorted = boundaries.sorted()
        var blocks = BlockRanges()
        for (start, end) in zip(sorted, sorted.dropFirst()) where a.byte(at: start) != b.byte(at: start) {
            blocks.formUnion(BlockRanges([start / block..<(end - 1) / block + 1]))
        }
        return blocks
    }

    /// Files whose name is not durable yet (a rename, a link or an unlink of it since the last sync or
    /// fsync of it): after a power cut the name may still show what it named before, which the content
    /// model, taking names to be as durable as their files, would call lost data. So a power cut waits for
    /// them (the crash states before it know about such names: `CrashExpectation`).
    var filesWithPendingNames: [String] { files.filter(pendingNames.contains) }

    static func source(of operation: WorkloadOperation) -> String? {
        switch operation {
        case .reflink(_, let source, _, _, _), .dedupe(_, let source, _, _, _, _): return source
        case .write, .truncate, .allocate, .punch, .zero, .collapse, .insert, .fsync, .fdatasync, .sync, .syncfs, .remount,
             .mkdir, .rename, .link, .unlink, .fill, .verify, .powerCut, .lyingCache, .dropWrites, .clearFaults:
            return nil
        }
    }

    /// Whether `a[aOffset..<+length]` and `b[bOffset..<+length]` read the same bytes.
    static func sameBytes(_ a: ExtentMap, _ aOffset: UInt64, _ b: ExtentMap, _ bOffset: UInt64, _ length: UInt64) -> Bool {
        func pieces(_ map: ExtentMap, _ offset: UInt64) -> [(UInt64, UInt8)] {
            var result: [(UInt64, UInt8)] = []
            map.forEachPiece(in: offset..<offset + length) { range, byte in
                if let last = result.last, last.1 == byte { result[result.count - 1].0 += UInt64(range.count) }
                else { result.append((UInt64(range.count), byte)) }
            }
            return result
        }
        let (x, y) = (pieces(a, aOffset), pieces(b, bOffset))
        return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

/// A set of block numbers as sorted, disjoint ranges: filling a filesystem changes tens of thousands of
/// blocks in one step, which a `Set` of numbers would hold one by one.
struct BlockRanges: Equatable {
    private(set) var ranges: [Range<UInt64>] = []

    init(_ ranges: [Range<UInt64>] = []) {
        for range in ranges where !range.isEmpty { self.ranges.append(range) }
        normalize()
    }

    mutating func formUnion(_ other: BlockRanges) {
        ranges += other.ranges
        normalize()
    }

    func intersects(_ other: BlockRanges) -> Bool {
        var (i, j) = (0, 0)
        while i < ranges.count && j < other.ranges.count {
            if ranges[i].overlaps(other.ranges[j]) { return true }
            if ranges[i].upperBound <= other.ranges[j].lowerBound { i += 1 } else { j += 1 }
        }
        return false
    }

    private mutating func normalize() {
        var merged: [Range<UInt64>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        ranges = merged
    }
}
