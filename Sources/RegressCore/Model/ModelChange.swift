/// What a step did to the files, as the content model understands it. The executor returns these for
/// what the kernel accepted (a write that failed half way returns the half that landed); the model applies
/// them. Keeping them as values lets a crash-state search or a shrinker replay a test's effects without
/// running it again.
public enum ModelChange: Equatable, Codable, Sendable {
    /// `byte` over `range`; `durable` when the call itself promised durability (O_SYNC, O_DSYNC, RWF_DSYNC).
    case write(file: String, byte: UInt8, range: ByteRange, durable: Bool)
    /// A successful fallocate(2) with these mode bits.
    case allocate(file: String, flags: AllocateFlags, range: ByteRange)
    case truncate(file: String, size: UInt64)
    /// FICLONERANGE: `length` nil clones to the source's end of file.
    case clone(file: String, source: String, sourceOffset: UInt64, offset: UInt64, length: UInt64?)
    /// The file exists (open with O_CREAT), empty if it is new.
    case create(file: String)
    case makeDurable(file: String)
    /// fdatasync: the file's data and size, not its names.
    case makeDataDurable(file: String)
    /// What a data sync of one range promises (msync MS_SYNC): the range's current bytes, and the size
    /// needed to reach them, are durable; the rest of the file is not.
    case makeRangeDurable(file: String, range: ByteRange)
    case makeAllDurable
    case rename(from: String, to: String)
    case link(from: String, to: String)
    /// XFS_IOC_SWAPEXT: the files' contents change places (their durable contents do not move).
    case exchange(file: String, with: String)
    case remove(file: String)
    case powerCut
    /// After a power cut, `verify` read what the file holds now (nil: the name is gone); the model adopts it.
    case adopt(file: String, content: ExtentMap?)
}

extension ContentModel {
    public mutating func apply(_ change: ModelChange) {
        switch change {
        case .write(let file, let byte, let range, let durable):
            if durable { writeDurably(file, byte, over: range.span) } else { update(file) { $0.write(byte, over: range.span) } }
        case .allocate(let file, let flags, let range):
            update(file) { map in ContentModel.allocate(&map, flags, range) }
        case .truncate(let file, let size):
            update(file) { $0.resize(to: size) }
        case .clone(let file, let source, let sourceOffset, let offset, let length):
            let sourceMap = content(of: source) ?? ExtentMap()
            // No length, or a zero one, clones to the source's end of file, as FICLONE and FICLONERANGE do.
            let end = (length ?? 0) == 0 ? sourceMap.size : sourceOffset + length!
            clone(file, from: source, range: sourceOffset..<max(sourceOffset, end), to: offset)
        case .create(let file):
            update(file) { _ in }
        case .makeDurable(let file):
            makeDurable(file)
        case .makeDataDurable(let file):
            makeDataDurable(file)
        case .makeRangeDurable(let file, let range):
            makeDurable(file, range: range.span)
        case .makeAllDurable:
            makeAllDurable()
        case .rename(let from, let to):
            rename(from, to: to)
        case .link(let from, let to):
            link(from, to: to)
        case .exchange(let file, let other):
            let (mine, theirs) = (content(of: file) ?? ExtentMap(), content(of: other) ?? ExtentMap())
            update(file) { $0 = theirs }
            update(other) { $0 = mine }
        case .remove(let file):
            remove(file)
        case .powerCut:
            powerCut()
        case .adopt(let file, let content):
            resolve(file, to: content)
        }
    }

    /// What fallocate(2) promises to a file's bytes and size for each mode.
    static func allocate(_ map: inout ExtentMap, _ flags: AllocateFlags, _ range: ByteRange) {
        let growsFile = !flags.contains(.keepSize)
        if flags.contains(.punchHole) {
            map.zero(range.span)
        } else if flags.contains(.zeroRange) {
            map.zero(range.span)
            if growsFile { map.resize(to: max(map.size, range.end)) }
        } else if flags.contains(.collapseRange) {
            map.collapse(range.span)
        } else if flags.contains(.insertRange) {
            map.insert(at: range.offset, length: range.length)
        } else if growsFile {
            // Plain allocation and unsharing without KEEP_SIZE both extend the file to the range's end.
            map.resize(to: max(map.size, range.end))
        }
    }
}
