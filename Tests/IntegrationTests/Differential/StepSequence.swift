/// One generated step, kept as words so that it can be written twice: as a step of the test language
/// (`f1: -d pwrite -b 4k 0 8k`) and as a `-c 'pwrite -b 4k 0 8k'` of an `xfs_io -f -d … F`. A step of the
/// whole filesystem (`sync`, `drop-caches`, `power-cut`) has no file: the harness does it between xfs_io runs.
/// A word that names a file (reflink's and dedupe's source) is kept apart: regress names files relative to
/// the mount, xfs_io gets their full path.
struct GeneratedStep: Equatable {
    enum Word: Equatable {
        case text(String)
        case file(String)
    }

    let file: String
    /// xfs_io's open flags, before the command: `-d` (O_DIRECT), `-s` (O_SYNC).
    let openFlags: [String]
    let words: [Word]

    static func filesystem(_ command: String) -> GeneratedStep { GeneratedStep(file: "", openFlags: [], words: [.text(command)]) }

    var isFilesystemStep: Bool { file.isEmpty }

    /// `-V N`: xfs_io keeps the vector count for every later pread and pwrite of its run (a global of
    /// io/pread.c), so its run of commands ends after one.
    var setsVectors: Bool {
        words.contains { word in
            guard case .text(let text) = word else { return false }
            return text.hasPrefix("-V")
        }
    }

    /// The command's name: its first word.
    var command: String {
        guard case .text(let name) = words.first else { return "" }
        return name
    }

    /// The step as a line of a test's `steps:` section.
    var regressLine: String {
        if isFilesystemStep { return command }
        return ([file + ":"] + openFlags + words.map { word in
            switch word {
            case .text(let text): return text
            case .file(let name): return name
            }
        }).joined(separator: " ")
    }

    /// The `-c` argument of xfs_io: the command with each file word replaced by its path beneath `directory`.
    func xfsIOCommand(filesIn directory: String) -> String {
        words.map { word in
            switch word {
            case .text(let text): return text
            case .file(let name): return directory + "/" + name
            }
        }.joined(separator: " ")
    }

}

/// One xfs_io process: consecutive steps on one file with the same open flags, `xfs_io -f [-d] [-s] -c A
/// -c B … F`, as a reproducer's one xfs_io line is; xfs_io opens F once for all of them and closes it at
/// its end. Each command is followed by `help fsync`, whose fixed line splits the output by command.
struct XfsIOInvocation {
    let file: String
    let openFlags: [String]
    /// The steps' indices in the sequence.
    let steps: [Int]

    static let separator = "help fsync"
    static let separatorLine = "fsync -- calls fsync(2) to flush all in-core file state to disk"

    func arguments(_ sequence: StepSequence, filesIn directory: String) -> [String] {
        ["-f"] + openFlags + steps.flatMap { ["-c", sequence.steps[$0].xfsIOCommand(filesIn: directory), "-c", Self.separator] }
            + [directory + "/" + file]
    }
}

/// A generated sequence of steps over a few files, with the seed that made it (to name and replay it).
struct StepSequence {
    let seed: UInt64
    let index: Int
    let files: [String]
    let steps: [GeneratedStep]
    /// Options added to mkfs on both sides (`-b size=1024`).
    var mkfsOptions: [String] = []

    var name: String { "xfsio-diff-\(String(seed, radix: 16))-\(index)" }

    /// The sequence cut into xfs_io runs (file steps) and the filesystem steps between them, in order.
    enum Part { case xfsIO(XfsIOInvocation), filesystem(Int) }

    var parts: [Part] {
        var parts: [Part] = []
        var index = 0
        while index < steps.count {
            let step = steps[index]
            if step.isFilesystemStep { parts.append(.filesystem(index)); index += 1; continue }
            var run = [index]
            index += 1
            while index < steps.count, !steps[run.last!].setsVectors, steps[index].file == step.file,
                  steps[index].openFlags == step.openFlags, !steps[index].isFilesystemStep {
                run.append(index)
                index += 1
            }
            parts.append(.xfsIO(XfsIOInvocation(file: step.file, openFlags: step.openFlags, steps: run)))
        }
        return parts
    }

    var hasPowerCut: Bool { steps.contains { $0.command == "power-cut" } }

    /// The sequence as a test of the test language, for one filesystem: where an xfs_io run ends, its file
    /// is closed (`F: close`), as the importer writes it.
    func testText(on filesystem: String) -> String {
        var lines: [String] = []
        for part in parts {
            switch part {
            case .filesystem(let index): lines.append(steps[index].regressLine)
            case .xfsIO(let run):
                lines += run.steps.map { steps[$0].regressLine }
                lines.append("\(run.file): close")
            }
        }
        return """
        summary: generated differential sequence \(index) of seed 0x\(String(seed, radix: 16))
        filesystems: \(filesystem)
        \(mkfsOptions.isEmpty ? "" : "mkfs: " + mkfsOptions.joined(separator: " "))
        steps:

        """ + lines.joined(separator: "\n") + "\n"
    }

    /// For failure messages: every step, numbered, in both spellings.
    var listing: String {
        steps.enumerated().map { index, step in
            "    \(index): \(step.regressLine)"
        }.joined(separator: "\n")
    }
}
