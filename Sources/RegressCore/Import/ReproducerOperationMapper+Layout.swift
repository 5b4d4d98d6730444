/// The mapping of the reproducer forms of mmap, extent-layout checks, extent-size hints and fstests'
/// requirements: xfs_io's mapping commands as one xfs_io run leaves them, `filefrag` piped into the count
/// it expects, and the `_require_*` helpers that name a `requires:` feature of the test language.
extension ReproducerOperationMapper {
    /// xfs_io's short names of its mapping commands (io/mmap.c's altnames).
    static let xfsIOAliases = ["mm": "mmap", "mw": "mwrite", "ms": "msync", "mu": "munmap"]

    /// One xfs_io run's `-c` commands as steps need them: aliases spelled out; a trailing `close` dropped
    /// (xfs_io closes at exit); a mapping the run leaves ends with `munmap` (xfs_io's exit unmaps it, and
    /// the test language keeps one mapping a file across steps); `fiemap`/`bmap`, which only print the
    /// layout, returned apart so that the line can say why they have no step.
    static func xfsIOMappingAndLayoutCommands(_ commands: [String]) -> (kept: [String], printsOnly: [String]) {
        var kept: [String] = [], printsOnly: [String] = []
        var mapped = false
        for command in commands {
            var words = command.split(separator: " ").map(String.init)
            guard let first = words.first else { continue }
            if let full = xfsIOAliases[first] { words[0] = full }
            switch words[0] {
            case "fiemap", "bmap": printsOnly.append(command); continue
            case "mmap" where words.count > 1: mapped = true   // `mmap` alone lists the mappings
            case "munmap": mapped = false
            default: break
            }
            kept.append(words.joined(separator: " "))
        }
        while kept.last == "close" { kept.removeLast() }
        if mapped { kept.append("munmap") }
        return (kept, printsOnly)
    }

    /// The pipelines `filefrag [-s] F | grep … "N extent(s) found"`: the count the grep looks for, keyed by
    /// the line where filefrag starts. filefrag prints `F: 1 extent found` / `F: 3 extents found`.
    static func checkedExtentCounts(_ commands: [ShellCommand]) -> [Int: Int] {
        var checks: [Int: Int] = [:]
        for (index, command) in commands.enumerated().dropLast() {
            guard command.argv.first.map(baseName) == "filefrag", command.pipeline?.index == 0 else { continue }
            let next = commands[index + 1]
            guard next.pipeline?.index == 1, let grep = next.argv.first.map(baseName), ["grep", "egrep"].contains(grep) else { continue }
            for pattern in next.argv.dropFirst() where !pattern.hasPrefix("-") {
                let words = pattern.split(separator: " ")
                if let at = words.firstIndex(where: { $0 == "extent" || $0 == "extents" }), at > words.startIndex,
                   let count = Int(words[words.index(before: at)]) {
                    checks[command.firstLine] = count
                }
            }
        }
        return checks
    }

    /// `filefrag [-s] [-v] F`: with the count its pipeline checks, `F: expect-extents N`; without one, the count
    /// is for a person to judge and cannot become a check.
    func mapFilefrag(_ arguments: [String], _ command: ShellCommand) -> [ReproducerOperation] {
        let options = arguments.filter { $0.hasPrefix("-") }
        let paths = arguments.filter { !$0.hasPrefix("-") }
        guard let count = extentChecks[command.firstLine] else {
            return [.unrecognised("filefrag prints the extent count for a person to judge: write 'F: expect-extents N' with the count the fixed kernel gives")]
        }
        guard paths.count == 1 else { return [.unrecognised("filefrag of \(paths.count) files checked by one count")] }
        let sync = options.contains { $0.dropFirst().contains("s") }
        return files(paths) { .extentCount(file: $0, count: count, sync: sync) }
    }

    /// fstests' helpers that ask for what `requires:` names: the feature's name in the test language.
    static func languageRequirement(_ helper: String, _ arguments: [String]) -> String? {
        switch helper {
        case "_require_scratch_reflink", "_require_test_reflink", "_require_cp_reflink": return "reflink"
        case "_require_scratch_dedupe", "_require_test_dedupe": return "dedupe"
        case "_require_quota", "_require_xfs_quota", "_require_prjquota", "_require_usrquota", "_require_grpquota": return "quota"
        case "_require_scratch_ext4_feature" where arguments.first == "inline_data": return "inline_data"
        case "_require_xfs_io_command":
            let languageNames = ["cowextsize": "cowextsize", "extsize": "extsize", "reflink": "reflink", "dedupe": "dedupe",
                                 "fcollapse": "collapse", "finsert": "insert", "funshare": "unshare"]
            return arguments.first.flatMap { languageNames[$0] }
        default: return nil
        }
    }
}
