/// Words that tell a shell command from a sentence: the commands reproducers run, shell keywords, and
/// the shape of a command line. The mail finder uses them to find the script among the prose.
public enum ShellVocabulary {
    /// Commands seen in filesystem reproducers (the first word of a command line).
    public static let commands: Set<String> = [
        "mkfs", "mke2fs", "mount", "umount", "xfs_io", "sync", "echo", "printf", "cat", "cp", "mv", "rm", "rmdir",
        "touch", "mkdir", "ln", "truncate", "fallocate", "dd", "od", "hexdump", "xxd", "md5sum", "sha1sum",
        "sha256sum", "cmp", "stat", "ls", "du", "df", "filefrag", "chattr", "lsattr", "btrfs", "btrfs-debug-tree",
        "btrfstune", "xfs_db", "xfs_repair", "xfs_growfs", "xfs_freeze", "xfs_admin", "xfs_quota", "xfs_spaceman",
        "e2fsck", "fsck", "tune2fs", "debugfs", "dumpe2fs", "resize2fs", "blockdev", "losetup", "dmsetup", "sleep",
        "sysctl", "fio", "fsstress", "fsx", "godown", "perl", "python", "python3", "sh", "bash", "seq", "set",
        "export", "cd", "wait", "kill", "tee", "grep", "egrep", "sed", "awk", "sort", "uniq", "head", "tail", "wc",
        "cut", "true", "false", "exit", "test", "[", "[[", ".", "source", "getfattr", "setfattr", "attr", "fstrim",
        "swapon", "swapoff", "mkswap", "findmnt", "lsblk", "wipefs", "strace", "trap", "unlink", "timeout",
        "nohup", "time", "sudo", "run_check", "local", "readonly", "unset", "shift", "return", "modprobe",
        "rmmod", "insmod", "dmesg", "xfs_mdrestore", "xfs_metadump", "mkfs.btrfs", "mkfs.xfs", "mkfs.ext4",
        "mkfs.ext3", "mkfs.ext2", "mkfs.f2fs", "fsync", "fssum", "blkdiscard", "setcap", "getcap", "chmod",
        "chown", "find", "xargs", "diff",
    ]

    /// Shell words that open, continue or close a compound command.
    public static let keywords: Set<String> = [
        "for", "do", "done", "if", "then", "else", "elif", "fi", "while", "until", "case", "esac", "in", "{", "}",
        "(", ")", "function", "select", "!",
    ]

    /// True when a word can begin a command: a known command or keyword, `mkfs.*`/`fsck.*`, an fstests
    /// helper (`_scratch_mount`), a variable (`$XFS_IO_PROG`), a path (`./src/godown`).
    public static func isKnownCommand(_ word: Substring) -> Bool {
        if commands.contains(String(word)) || keywords.contains(String(word)) { return true }
        if word.hasPrefix("mkfs.") || word.hasPrefix("fsck.") { return true }
        if word.hasPrefix("_"), word.count > 1, word.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { return true }
        if word.hasPrefix("$"), word.dropFirst().first.map({ $0.isUppercase || $0 == "{" || $0 == "(" }) == true { return true }
        // A program by a path through a variable: fstests' `$here/src/t_readdir_3`.
        if word.hasPrefix("$"), let slash = word.firstIndex(of: "/"), word.index(after: word.startIndex) < slash,
           word[word.index(after: word.startIndex)..<slash].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { return true }
        if (word.hasPrefix("./") || word.hasPrefix("/")) && word.count > 2 && !word.hasSuffix(":") { return true }
        return false
    }

    /// `name=value` (no blank around `=`), a variable assignment.
    public static func isAssignment(_ word: Substring) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        let name = word[..<equals]
        return name.first.map { $0.isLetter || $0 == "_" } == true && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// A word shaped like a command name: lowercase letters, digits, `_ . / -`, not ending in `:`.
    public static func isCommandShaped(_ word: Substring) -> Bool {
        guard let first = word.first, first.isLowercase || first == "." || first == "/" || first == "_" else { return false }
        return !word.hasSuffix(":") && word.allSatisfy { ($0.isLetter && $0.isASCII) || $0.isNumber || "_./-+".contains($0) }
    }

    /// Sentences, not commands: a `[TAG]` line, a capitalised word opening several words, mostly plain
    /// words, or sentence punctuation with none of the shell's.
    public static func looksLikeProse(_ text: String) -> Bool {
        let line = text.trimmingBlanks
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first else { return false }
        if first.hasPrefix("[") && first.hasSuffix("]") && first.count > 2 && first.dropFirst().first?.isUppercase == true { return true }
        if isAssignment(first) { return false }
        // `[ Upstream commit 07ea7a617d6b ]`: a stable backport's note, not a test.
        if first == "[", words.count >= 3, words[1].count >= 2, words[1].first?.isUppercase == true,
           words[1].dropFirst().allSatisfy(\.isLowercase), !line.contains(where: { "$\"'=".contains($0) }) {
            return true
        }
        let shellCharacters = line.contains { "$|>=\"'`\\;&<".contains($0) }
        let plainWords = words.filter { word in
            var word = word
            while let last = word.last, ".,:;?!)".contains(last) { word = word.dropLast() }
            if word.hasPrefix("(") { word = word.dropFirst() }
            return !word.isEmpty && word.allSatisfy { $0.isLetter || $0 == "'" }
        }
        if first.first?.isUppercase == true && first.dropFirst().allSatisfy({ $0.isLowercase || $0 == "'" }) && words.count >= 2 && !shellCharacters {
            return true
        }
        if words.count >= 4 && plainWords.count * 4 >= words.count * 3 && !shellCharacters { return true }
        if !shellCharacters, let last = line.last, ".:?,".contains(last), words.count >= 2 { return true }
        if !shellCharacters && line.contains(", ") { return true }
        return false
    }

    /// A power failure written as prose inside a script: `<power fail>`, `<power failure here>`, `<crash>`.
    public static func isPowerFailureMarker(_ text: String) -> Bool {
        let line = text.trimmingBlanks.lowercased()
        guard line.hasPrefix("<") && line.hasSuffix(">") else { return false }
        let inner = line.dropFirst().dropLast()
        return ["power fail", "power-fail", "powerfail", "power loss", "power cut", "power off", "crash", "reboot"].contains { inner.contains($0) }
    }
}
