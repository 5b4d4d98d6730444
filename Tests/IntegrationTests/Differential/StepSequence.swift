/// One generated file step, kept as words so that it can be written twice: as a step of the test language
/// (`f1: -d pwrite -b 4k 0 8k`) and as the argument list of one `xfs_io -f -d -c 'pwrite -b 4k 0 8k' F`.
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

    /// The command's name: its first word.
    var command: String {
        guard case .text(let name) = words.first else { return "" }
        return name
    }

    /// The step as a line of a test's `steps:` section.
    var regressLine: String {
        ([file + ":"] + openFlags + words.map { word in
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

    /// The whole xfs_io command line (without the program's name) for this step on the file beneath `directory`.
    func xfsIOArguments(filesIn directory: String) -> [String] {
        ["-f"] + openFlags + ["-c", xfsIOCommand(filesIn: directory), directory + "/" + file]
    }
}

/// A generated sequence of steps over a few files, with the seed that made it (to name and replay it).
struct StepSequence {
    let seed: UInt64
    let index: Int
    let files: [String]
    let steps: [GeneratedStep]

    var name: String { "xfsio-diff-\(String(seed, radix: 16))-\(index)" }

    /// The sequence as a test of the test language, for one filesystem.
    func testText(on filesystem: String) -> String {
        """
        summary: generated differential sequence \(index) of seed 0x\(String(seed, radix: 16))
        filesystems: \(filesystem)
        steps:

        """ + steps.map(\.regressLine).joined(separator: "\n") + "\n"
    }

    /// For failure messages: every step, numbered, in both spellings.
    var listing: String {
        steps.enumerated().map { index, step in
            "    \(index): \(step.regressLine)"
        }.joined(separator: "\n")
    }
}
