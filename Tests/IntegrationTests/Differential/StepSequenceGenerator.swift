import RegressCore

/// Makes random but reproducible sequences of steps for the differential test against xfs_io: 3 to 12
/// steps over 1 to 3 files, in runs on one file with sync, drop-caches and power cuts between them, drawn from every data command regress shares with xfs_io, with the option
/// spellings a reproducer may use (grouped flags, attached values, octal, hexadecimal, `b`/`s`/`k`
/// suffixes), offsets block-aligned or not, and lengths small enough that a whole case takes a moment.
///
/// Pure: sequence `index` of `seed` is always the same, whatever was generated before it, so a failure
/// found in a long run can be replayed alone (REGRESS_DIFF_ONLY).
struct StepSequenceGenerator {
    let seed: UInt64
    /// Whether `power-cut` may be drawn (it needs the emulated disk).
    var powerCuts = true

    /// What makes a file exist: after any of these steps on F, F can be fsynced, deduped or cloned from.
    static let creatingCommands: Set<String> = ["falloc", "fpunch", "fzero", "fcollapse", "finsert", "funshare",
                                                "pwrite", "truncate", "reflink"]

    func sequence(_ index: Int) -> StepSequence {
        // The index is hashed into the seed: SplitMix64 seeded with seed + i would replay sequence 0 shifted by i.
        var hash = SplitMix64(seed: seed ^ UInt64(index))
        var draw = Draw(random: SplitMix64(seed: hash.next()))
        let fileCount = draw.int(1...3)
        let files = (1...fileCount).map { "f\($0)" }
        let stepCount = draw.int(3...12)
        var existing: [String] = []
        var steps: [GeneratedStep] = []
        var file = draw.pick(files)
        while steps.count < stepCount {
            // Runs of steps on one file, as a reproducer's xfs_io line makes them, and the filesystem's own
            // steps between them.
            if !existing.isEmpty && draw.chance(0.12) {
                let command = draw.pick(powerCuts ? ["sync", "drop-caches", "drop-caches", "power-cut"] : ["sync", "drop-caches"])
                // Everything is made durable first, so that both sides keep the same bytes through the cut:
                // what a cut without a sync may lose is the oracle's business, not the differential's.
                if command == "power-cut" { steps.append(.filesystem("sync")) }
                steps.append(.filesystem(command))
                continue
            }
            if draw.chance(0.4) { file = draw.pick(files) }
            guard let step = draw.step(on: file, existing: existing) else { file = draw.pick(files); continue }
            steps.append(step)
            if Self.creatingCommands.contains(step.command), !existing.contains(file) { existing.append(file) }
        }
        return StepSequence(seed: seed, index: index, files: files, steps: steps)
    }
}

/// The random choices behind one sequence.
private struct Draw {
    var random: SplitMix64

    static let kib: UInt64 = 1 << 10
    static let mib: UInt64 = 1 << 20
    static let block: UInt64 = 4096

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func value(_ range: ClosedRange<UInt64>) -> UInt64 { UInt64.random(in: range, using: &random) }
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    /// A step on `file`, or nil when the drawn command needs a file that does not exist yet.
    mutating func step(on file: String, existing: [String]) -> GeneratedStep? {
        let weighted: [(String, Int)] = [
            ("pwrite", 30), ("falloc", 12), ("fpunch", 6), ("fzero", 6), ("fcollapse", 5), ("finsert", 5),
            ("funshare", 4), ("truncate", 8), ("reflink", 8), ("dedupe", 5), ("fsync", 5), ("fdatasync", 4), ("pread", 6),
        ]
        var roll = int(0...weighted.map(\.1).reduce(0, +) - 1)
        let command = weighted.first { roll -= $0.1; return roll < 0 }!.0
        // O_DIRECT now and then, on any command (only reads and writes care); O_SYNC more rarely.
        var openFlags: [String] = []
        if chance(0.1) { openFlags.append("-d") }
        if chance(0.04) { openFlags.append("-s") }
        let direct = openFlags.contains("-d")

        switch command {
        case "pwrite":
            return GeneratedStep(file: file, openFlags: openFlags, words: pwrite(direct: direct))
        case "falloc":
            var options: [String] = []
            let letters = (0..<int(0...2)).map { _ in pick(["c", "i", "k", "p", "u"]) }
            if letters.count == 2 && chance(0.3) {
                options = ["-" + letters.joined()]         // grouped, as getopt reads `-pk`
            } else {
                options = letters.map { "-" + $0 }
            }
            return GeneratedStep(file: file, openFlags: openFlags, words: [.text("falloc")] + options.map(Word.text) + range(alignedChance: 0.7))
        case "fpunch", "fcollapse", "finsert", "funshare":
            return GeneratedStep(file: file, openFlags: openFlags, words: [.text(command)] + range(alignedChance: 0.75))
        case "fzero":
            let keep: [Word] = chance(0.4) ? [.text("-k")] : []
            return GeneratedStep(file: file, openFlags: openFlags, words: [.text("fzero")] + keep + range(alignedChance: 0.7))
        case "truncate":
            let size = chance(0.5) ? value(0...768) * Self.block : value(0...3 * Self.mib)
            return GeneratedStep(file: file, openFlags: openFlags, words: [.text("truncate"), .text(spell(size))])
        case "reflink":
            guard !existing.isEmpty else { return nil }
            let source = pick(existing)
            if chance(0.35) {
                return GeneratedStep(file: file, openFlags: openFlags, words: [.text("reflink"), .file(source)])
            }
            return GeneratedStep(file: file, openFlags: openFlags, words: [.text("reflink"), .file(source)] + remapNumbers())
        case "pread":
            guard existing.contains(file) else { return nil }
            var words: [String] = ["pread"]
            let blockSize = chance(0.5) ? pick([512, 4096, 65536, 10000]) : Self.block
            if blockSize != Self.block { words += ["-b", spell(UInt64(blockSize))] }
            if chance(0.3) { words += ["-V", String(int(1...4))] }
            if chance(0.35) { words.append("-B") }
            if chance(0.2) { words.append("-q") }
            let offset = chance(0.5) ? value(0...511) * Self.block : value(0...3 * Self.mib)
            return GeneratedStep(file: file, openFlags: openFlags, words: words.map(Word.text) + [.text(spell(offset)), .text(spell(value(0...512 * Self.kib)))])
        case "dedupe":
            guard existing.contains(file), !existing.isEmpty else { return nil }
            let source = pick(existing)
            return GeneratedStep(file: file, openFlags: openFlags, words: [.text("dedupe"), .file(source)] + remapNumbers())
        default:   // fsync, fdatasync
            guard existing.contains(file) else { return nil }
            return GeneratedStep(file: file, openFlags: openFlags, words: [.text(command)])
        }
    }

    typealias Word = GeneratedStep.Word

    /// `pwrite` with a random choice of xfs_io's options, in random order and spelling.
    mutating func pwrite(direct: Bool) -> [Word] {
        var options: [[String]] = []
        if chance(0.5) {
            // Any number is taken and only its low byte written: values above 0xff must write that byte.
            let seed = chance(0.5) ? value(0...0xff) : value(0x100...0xffff_ffff)
            options.append(["-S", chance(0.7) ? "0x" + String(seed, radix: 16) : String(seed)])
        }
        var blockSize: UInt64 = Self.block
        if chance(0.6) {
            blockSize = direct && chance(0.8) ? pick([512, 4096, 8192, 65536]) :
                pick([0, 1, value(2...9999) | 1, 512, 4096, 4096, 65536, Self.mib, 128 * Self.mib])
            options.append(["-b", spell(blockSize)])
        }
        if chance(0.2) {
            let vectors = value(1...8)
            // xfs_io allocates N buffers of the block size: 8 of 128 MiB would take a GiB of memory.
            if blockSize > Self.mib {
                blockSize = 65536
                options.removeAll { $0.first == "-b" }
                options.append(["-b", "64k"])
            }
            options.append(["-V", String(vectors)])
        }
        // xfs_io dies of SIGFPE on -B with -b 0 (regress refuses the line).
        if chance(0.15) && blockSize != 0 { options.append(["-B"]) } else if chance(0.05) { options.append(["-F"]) }
        // xfs_io 6.1 passes RWF_DSYNC and RWF_NOWAIT only with -V, regress always (tests.d/README.md): the
        // calls differ by design without -V, so -D comes with it.
        // A data sync of each few bytes is thousands of log commits (a minute on btrfs): not with tiny buffers.
        if chance(0.15) && options.contains(where: { $0.first == "-V" }) && blockSize >= 512 { options.append(["-D"]) }
        if chance(0.1) { options.append(["-W"]) }
        if chance(0.1) { options.append(["-w"]) }
        // -u is not drawn: xfs_io then writes leftover heap memory, which regress refuses.
        for printOnly in ["-C", "-q"] where chance(0.07) { options.append([printOnly]) }
        options.shuffle(using: &random)

        // Flags may be grouped (`-wW`) and values attached (`-b4k`), as getopt reads them.
        var words: [String] = []
        for option in options {
            if option.count == 2 && chance(0.25) {
                words.append(option[0] + option[1])
            } else if option.count == 1, let last = words.last, last.count == 2, last.hasPrefix("-"),
                      !["-S", "-b", "-V"].contains(last), chance(0.4) {
                words[words.count - 1] = last + option[0].dropFirst()
            } else {
                words += option
            }
        }
        // A tiny block size is one syscall a byte: keep those writes short, and every write a few MiB at most.
        let maxLength = blockSize > 0 && blockSize < 512 ? 16 * Self.kib : 512 * Self.kib
        let aligned = direct ? chance(0.85) : chance(0.5)
        let offset = aligned ? value(0...511) * Self.block : value(0...2 * Self.mib)
        let length = chance(0.03) ? 0 : (aligned ? value(1...maxLength / Self.block) * Self.block : value(1...maxLength))
        return [.text("pwrite")] + words.map(Word.text) + [.text(spell(offset)), .text(spell(length))]
    }

    /// OFF LEN for the fallocate commands.
    mutating func range(alignedChance: Double) -> [Word] {
        let aligned = chance(alignedChance)
        let offset = aligned ? value(0...511) * Self.block : value(0...2 * Self.mib)
        let length = chance(0.03) ? 0 : (aligned ? value(1...128) * Self.block : value(1...512 * Self.kib))
        return [.text(spell(offset)), .text(spell(length))]
    }

    /// SRC_OFF DST_OFF LEN for reflink and dedupe: whole blocks mostly (the kernel refuses others but at EOF).
    mutating func remapNumbers() -> [Word] {
        if chance(0.8) {
            let length = chance(0.08) ? 0 : value(1...64) * Self.block
            return [value(0...255) * Self.block, value(0...255) * Self.block, length].map { .text(spell($0)) }
        }
        return [value(0...Self.mib), value(0...Self.mib), value(0...256 * Self.kib)].map { .text(spell($0)) }
    }

    /// A number as a reproducer may write it: decimal, hexadecimal, octal (a leading 0), or with a unit
    /// suffix (`k`, `m`, `b` for 4 KiB blocks, `s` for 512-byte sectors) when it divides evenly.
    mutating func spell(_ value: UInt64) -> String {
        var spellings = [String(value), "0x" + String(value, radix: 16)]
        if value > 0 { spellings.append("0" + String(value, radix: 8)) }
        for (suffix, unit) in [("k", Self.kib), ("m", Self.mib), ("b", Self.block), ("s", UInt64(512))] where value > 0 && value % unit == 0 {
            spellings.append(String(value / unit) + suffix)
            spellings.append(String(value / unit) + suffix)   // suffixes are what reproducers write most
        }
        return pick(spellings)
    }
}
