/// xfs_io's memory-mapping commands, `mmap`, `mwrite`, `msync` and `munmap`, as the command table declares
/// them. xfs_io keeps a table of mappings and a "current" one; regress keeps **one mapping a file**, named by
/// the file it was made through, which is what reproducers use (map, store, sync, unmap). Ranges are file
/// offsets, as in xfs_io, and must lie in the mapping: xfs_io refuses the others (check_mapping_range), so the
/// parser does too, before anything runs.
public enum MemoryMapCommands {
    /// The page size the parser checks msync alignment against (x86_64's and the kernel's base page).
    public static let pageSize: UInt64 = 4096

    static let all: [CommandSpec] = [
        CommandSpec("mmap", "mmap [-r] [-w] [-x] [-S] OFF LEN", .file, .mapping, arguments: .atLeast(0),
                    help: "maps a range of the file (MAP_SHARED; -r -w -x: protections, all when none; -S MAP_SYNC), one mapping a file",
                    parse: { args in
                        var options = MapOptions()
                        for option in try args.getopt("rwxSs:") {
                            switch option.flag {
                            case "r": options.read = true
                            case "w": options.write = true
                            case "x": options.execute = true
                            case "S": options.synchronous = true
                            default: break   // -s SIZE only reserves address space first (for mremap): no effect on the file
                            }
                        }
                        return .mmap(try args.range(), options)
                    }, track: { command, file, files, at in
                        guard case .mmap(let range, let options) = command, let file else { return }
                        try files.create(file, at.file)
                        if files.mappings[file] != nil {
                            throw Diagnostic(at.file, "'\(file)' is already mapped: regress keeps one mapping a file ('\(file): munmap' first)")
                        }
                        guard range.length > 0 else { throw Diagnostic(at.argument(1), "mmap: a mapping of length 0 (mmap(2) refuses it)") }
                        files.mappings[file] = TrackedMapping(range: range, writable: options.writable)
                    }),
        CommandSpec("mwrite", "mwrite [-r] [-S SEED] [OFF LEN]", .file, .data, arguments: .atLeast(0),
                    help: "stores the seed's low byte (default 'X') over a range of the mapping, byte by byte (-r: from its end), as xfs_io",
                    parse: { args in
                        var options = MapWriteOptions()
                        for option in try args.getopt("rS:") {
                            if option.flag == "r" { options.backward = true; continue }
                            // strtol(3), then a char store: only the low byte counts.
                            let token = option.argument!
                            guard let seed = Size.leadingNumber(token.text) else {
                                throw args.error(at: token, "mwrite: bad seed '\(token.text)' (a number, as strtol reads it)")
                            }
                            options.pattern = UInt8(truncatingIfNeeded: seed)
                        }
                        return .mwrite(try optionalRange(&args), options)
                    }, track: { command, file, files, at in
                        guard case .mwrite(let range, _) = command, let file else { return }
                        let mapping = try files.mapping(of: file, for: "mwrite", at.file)
                        guard mapping.writable else {
                            throw Diagnostic(at.file, "mwrite: '\(file)' is mapped without -w (xfs_io would die of SIGSEGV): map it with 'mmap -w'")
                        }
                        if let range { try mapping.check(range, "mwrite", at.argument(at.arguments.count - 2), pageAligned: false) }
                    }),
        CommandSpec("msync", "msync [-a] [-i] [-s] [OFF LEN]", .file, .durability, arguments: .atLeast(0),
                    help: "msync(2) of a range of the mapping (default all of it): -a MS_ASYNC, -i MS_INVALIDATE, -s MS_SYNC (the range's data becomes durable)",
                    parse: { args in
                        var flags: MapSyncFlags = []
                        for option in try args.getopt("ais") {
                            flags.insert(option.flag == "a" ? .async : option.flag == "i" ? .invalidate : .sync)
                        }
                        return .msync(try optionalRange(&args), flags)
                    }, track: { command, file, files, at in
                        guard case .msync(let range, _) = command, let file else { return }
                        let mapping = try files.mapping(of: file, for: "msync", at.file)
                        if let range { try mapping.check(range, "msync", at.argument(at.arguments.count - 2), pageAligned: true) }
                    }),
        CommandSpec("munmap", "munmap", .file, .mapping, arguments: .exactly(0), help: "removes the file's mapping (munmap(2))",
                    parse: { _ in .munmap }, track: { _, file, files, at in
                        guard let file else { return }
                        _ = try files.mapping(of: file, for: "munmap", at.file)
                        files.mappings[file] = nil
                    }),
    ]

    /// xfs_io's `[off len]`: both or neither.
    private static func optionalRange(_ args: inout ArgumentReader) throws -> ByteRange? {
        args.isAtEnd ? nil : try args.range()
    }
}

/// What the parser knows of a file's mapping, to refuse what xfs_io would refuse (or die of).
struct TrackedMapping: Equatable {
    let range: ByteRange
    let writable: Bool

    /// xfs_io's check_mapping_range: the range lies in the mapping; for msync its start is page aligned.
    func check(_ other: ByteRange, _ command: String, _ at: SourceLocation, pageAligned: Bool) throws {
        guard other.offset >= range.offset, other.end <= range.end else {
            throw Diagnostic(at, "\(command): range \(other.offset)+\(other.length) is outside the mapping \(range.offset)+\(range.length)")
        }
        if pageAligned && (other.offset - range.offset) % MemoryMapCommands.pageSize != 0 {
            throw Diagnostic(at, "\(command): offset \(other.offset) is not page aligned in the mapping (msync(2) needs a page-aligned address)")
        }
    }
}

extension FileTracker {
    func mapping(of file: String, for command: String, _ at: SourceLocation) throws -> TrackedMapping {
        guard let mapping = mappings[file] else {
            throw Diagnostic(at, "\(command): '\(file)' has no mapping: map it first with '\(file): mmap -w OFF LEN'")
        }
        return mapping
    }
}
