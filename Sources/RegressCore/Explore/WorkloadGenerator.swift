/// Random workloads for `regress explore`, valid by construction: every step is drawn from what the
/// filesystem can do (`FilesystemKind.features`: reflink and dedupe on btrfs and xfs, collapse and insert
/// on xfs and ext4), on files that exist, with the expectation that is right there (`WorkloadState`):
/// sizes and offsets both block-aligned and not, collapse and insert on whole blocks inside the file,
/// reflink and dedupe on whole blocks inside their files, dedupe `expect EBADE` where the bytes differ,
/// now and then the filesystem filled to ENOSPC (the steps while it is full `allow ENOSPC`), and at the
/// end a power cut and a verify of every file.
///
/// Pure and seeded: workload `index` of `seed` is the same, byte for byte, on every machine, whatever was
/// generated before it.
public struct WorkloadGenerator {
    public let filesystem: FilesystemKind
    public let seed: UInt64
    /// Steps before the power cut.
    public let operations: Int

    public init(filesystem: FilesystemKind, seed: UInt64, operations: Int = 20) {
        self.filesystem = filesystem
        self.seed = seed
        self.operations = max(1, operations)
    }

    static let block = BlockUnits.standard.block
    static let fileNames = ["a", "b", "c", "d", "e", "f"]
    static let directoryNames = ["d0", "d1", "d2"]

    public func workload(_ index: Int) -> Workload {
        var draw = Draw(random: WorkloadRandom(seed: seed, index: index), state: WorkloadState(filesystem: filesystem))
        // One workload in eight fills the filesystem part way through.
        let fillAt = operations >= 4 && draw.random.percent(12) ? draw.random.int(1...operations - 3) : nil
        var attempts = 0
        while draw.steps.count < operations && attempts < operations * 50 {
            attempts += 1
            if let fillAt, draw.steps.count >= fillAt, !draw.filled {
                draw.fillTheFilesystem(size: Workload.imageSize(filesystem))
                continue
            }
            draw.anyStep()
        }
        // A name not durable yet may show its old file after the cut: the model cannot say which (see
        // `WorkloadState.filesWithPendingNames`), so those files are fsynced first.
        for name in draw.state.filesWithPendingNames { draw.add(WorkloadStep(.fsync(name))) }
        draw.add(WorkloadStep(.powerCut))
        draw.add(WorkloadStep(.verify(nil)))
        return Workload(filesystem: filesystem, seed: seed, index: index, steps: draw.steps)
    }
}

/// The choices behind one workload, and the state they are checked against as they are made.
private struct Draw {
    var random: WorkloadRandom
    var state: WorkloadState
    var steps: [WorkloadStep] = []
    var filled = false
    /// The last reflink, which a dedupe likes to repeat (its ranges hold the same bytes until one changes).
    var lastReflink: (file: String, source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64)?

    static let block = WorkloadGenerator.block

    /// Appends `step` if the rules allow it here; false otherwise.
    /// A step that would make a block of its file change twice since the file was last made durable is
    /// preceded by an fsync, fdatasync or sync (see `WorkloadState.needsDurabilityFirst`).
    @discardableResult
    mutating func add(_ step: WorkloadStep) -> Bool {
        if state.problem(with: step) != nil, let name = state.needsDurabilityFirst(step) {
            var durability: WorkloadOperation = random.weighted([(.fsync(name), 60), (.fdatasync(name), 25), (.sync, 15)])
            if durability == .fdatasync(name) && state.pendingNames.contains(name) { durability = .fsync(name) }
            let first = WorkloadStep(durability, mayRunOutOfSpace: step.mayRunOutOfSpace && durability != .sync)
            guard state.problem(with: first) == nil else { return false }
            state.apply(first)
            steps.append(first)
        }
        guard state.problem(with: step) == nil else { return false }
        state.apply(step)
        steps.append(step)
        return true
    }

    enum Kind: CaseIterable {
        case write, truncate, allocate, punch, zero, collapse, insert, reflink, dedupe
        case fsync, fdatasync, sync, syncfs, remount, mkdir, rename, link, unlink, verify
    }

    /// How often each kind is drawn: writes and fsyncs most, the operations the filesystem lacks never.
    var weights: [(Kind, Int)] {
        let features = state.filesystem.features
        let all: [(Kind, Int)] = [
            (.write, 26), (.truncate, 5), (.allocate, 5), (.punch, 5), (.zero, 4),
            (.collapse, features.contains(.collapse) ? 4 : 0), (.insert, features.contains(.insert) ? 4 : 0),
            (.reflink, features.contains(.reflink) ? 8 : 0), (.dedupe, features.contains(.dedupe) ? 4 : 0),
            (.fsync, 10), (.fdatasync, 5), (.sync, 3), (.syncfs, 2), (.remount, 1),
            (.mkdir, 2), (.rename, 4), (.link, 2), (.unlink, 2), (.verify, 2),
        ]
        return all.filter { $0.1 > 0 }
    }

    mutating func anyStep() {
        let kind = random.weighted(weights)
        if let operation = operation(kind) { add(WorkloadStep(operation)) }
    }

    // MARK: names and numbers

    var existingFiles: [String] { state.files }
    var certainFiles: [String] { state.files.filter(state.isCertain) }

    /// A file to act on: an existing one (`existing` percent of the time, when there is one) or a new name.
    mutating func file(existing: UInt64 = 60) -> String {
        if !existingFiles.isEmpty && random.percent(existing) { return random.pick(existingFiles) }
        return newFileName() ?? random.pick(existingFiles)
    }

    mutating func newFileName() -> String? {
        let directories = state.directories.filter { !$0.isEmpty }.sorted()
        let directory = !directories.isEmpty && random.percent(25) ? random.pick(directories) + "/" : ""
        let free = WorkloadGenerator.fileNames.map { directory + $0 }.filter(state.isUnbound)
        return free.isEmpty ? nil : random.pick(free)
    }

    /// An offset within the first MiB: whole blocks half the time.
    mutating func offset() -> UInt64 {
        random.percent(50) ? Draw.block * random.value(0...255) : random.value(0...(1 << 20))
    }

    /// A length up to 128 KiB: whole blocks half the time.
    mutating func length() -> UInt64 {
        random.percent(50) ? Draw.block * random.value(1...32) : random.value(1...(128 << 10))
    }

    // MARK: steps

    mutating func operation(_ kind: Kind) -> WorkloadOperation? {
        let block = Draw.block
        switch kind {
        case .write:
            let aligned = random.percent(50)
            let offset = aligned ? block * random.value(0...255) : random.value(0...(1 << 20))
            let length = aligned ? block * random.value(1...32) : random.value(1...(128 << 10))
            let pattern = UInt8(random.value(1...255))
            return .write(file: file(), offset: offset, length: length, pattern: pattern, direct: aligned && random.percent(15))
        case .truncate:
            let size = random.percent(50) ? block * random.value(0...300) : random.value(0...(1200 << 10))
            return .truncate(file: file(existing: 80), size: size)
        case .allocate:
            return .allocate(file: file(existing: 80), offset: offset(), length: length(), keepSize: random.percent(50))
        case .punch:
            return .punch(file: file(existing: 90), offset: offset(), length: length())
        case .zero:
            return .zero(file: file(existing: 90), offset: offset(), length: length(), keepSize: random.percent(50))
        case .collapse:
            let candidates = certainFiles.filter { (state.size(of: $0) ?? 0) > block }
            guard !candidates.isEmpty else { return nil }
            let name = random.pick(candidates)
            let blocks = (state.size(of: name)! - 1) / block   // whole blocks that end before the end of file
            let length = random.value(1...min(blocks, 16))
            return .collapse(file: name, offset: block * random.value(0...blocks - length), length: block * length)
        case .insert:
            let candidates = certainFiles.filter { (1..<(4 << 20)).contains(state.size(of: $0) ?? 0) }
            guard !candidates.isEmpty else { return nil }
            let name = random.pick(candidates)
            let offset = block * random.value(0...(state.size(of: name)! - 1) / block)
            return .insert(file: name, offset: offset, length: block * random.value(1...16))
        case .reflink:
            let sources = certainFiles.filter { (state.size(of: $0) ?? 0) >= block }
            guard !sources.isEmpty else { return nil }
            let source = random.pick(sources)
            let blocks = state.size(of: source)! / block
            let length = random.value(1...min(blocks, 16))
            let sourceOffset = block * random.value(0...blocks - length)
            let destination = file()
            let offset = random.percent(25) ? sourceOffset : block * random.value(0...255)
            lastReflink = (destination, source, sourceOffset, offset, block * length)
            return .reflink(file: destination, source: source, sourceOffset: sourceOffset, offset: offset, length: block * length)
        case .dedupe:
            if let last = lastReflink, random.percent(50), state.isCertain(last.file), state.isCertain(last.source) {
                return dedupe(last.file, last.source, last.sourceOffset, last.offset, last.length)
            }
            let files = certainFiles.filter { (state.size(of: $0) ?? 0) >= block }
            guard !files.isEmpty else { return nil }
            let (source, destination) = (random.pick(files), random.pick(files))
            let (sourceBlocks, blocks) = (state.size(of: source)! / block, state.size(of: destination)! / block)
            let length = random.value(1...min(sourceBlocks, blocks, 16))
            return dedupe(destination, source, block * random.value(0...sourceBlocks - length),
                          block * random.value(0...blocks - length), block * length)
        case .fsync, .fdatasync:
            let directories = state.directories.filter { !$0.isEmpty }.sorted()
            let target: String
            if !directories.isEmpty && random.percent(10) { target = random.pick(directories) } else {
                guard !existingFiles.isEmpty else { return nil }
                target = random.pick(existingFiles)
            }
            return kind == .fsync ? .fsync(target) : .fdatasync(target)
        case .sync: return .sync
        case .syncfs: return .syncfs
        case .remount: return .remount
        case .mkdir:
            let free = WorkloadGenerator.directoryNames.filter(state.isUnbound)
            return free.isEmpty ? nil : .mkdir(random.pick(free))
        case .rename:
            let directories = state.directories.filter { !$0.isEmpty }.sorted()
            if !directories.isEmpty && random.percent(20) {
                let free = WorkloadGenerator.directoryNames.filter(state.isUnbound)
                return free.isEmpty ? nil : .rename(from: random.pick(directories), to: random.pick(free))
            }
            guard !existingFiles.isEmpty else { return nil }
            let from = random.pick(existingFiles)
            return newFileName().map { .rename(from: from, to: $0) }
        case .link:
            guard !existingFiles.isEmpty, let to = newFileName() else { return nil }
            return .link(from: random.pick(existingFiles), to: to)
        case .unlink:
            guard !existingFiles.isEmpty else { return nil }
            return .unlink(random.pick(existingFiles))
        case .verify:
            guard !existingFiles.isEmpty else { return nil }
            return .verify(random.pick(existingFiles))
        }
    }

    /// A dedupe whose expectation follows from the bytes: success where they are the same, EBADE where not.
    func dedupe(_ file: String, _ source: String, _ sourceOffset: UInt64, _ offset: UInt64, _ length: UInt64) -> WorkloadOperation? {
        guard let sourceMap = state.model.content(of: source), let map = state.model.content(of: file) else { return nil }
        guard sourceOffset + length <= sourceMap.size, offset + length <= map.size else { return nil }
        let same = WorkloadState.sameBytes(sourceMap, sourceOffset, map, offset, length)
        return .dedupe(file: file, source: source, sourceOffset: sourceOffset, offset: offset, length: length, differs: !same)
    }

    /// The padding write that fills the filesystem, one to three steps that may run out of space while it
    /// is full, the padding's unlink and the sync that gives its blocks back.
    mutating func fillTheFilesystem(size: UInt64) {
        filled = true
        guard let padding = ["pad", "pad1", "pad2"].first(where: state.isUnbound), add(WorkloadStep(.fill(file: padding, size: size))) else { return }
        let kinds: [Draw.Kind] = [.write, .write, .allocate, .zero, .punch, .truncate, .fsync, .fdatasync]
            + (state.filesystem.features.contains(.reflink) ? [.reflink] : [])
        for _ in 0..<random.int(1...3) {
            guard var operation = operation(random.pick(kinds)) else { continue }
            if case .write(let file, let offset, let length, let pattern, _) = operation {
                operation = .write(file: file, offset: offset, length: length, pattern: pattern, direct: false)
            }
            // Never on the padding itself: it stays the one file that fills the filesystem.
            if WorkloadStep(operation).file == padding { continue }
            add(WorkloadStep(operation, mayRunOutOfSpace: true))
        }
        add(WorkloadStep(.unlink(padding)))
        add(WorkloadStep(.sync))
    }
}
