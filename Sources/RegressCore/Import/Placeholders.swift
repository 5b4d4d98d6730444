/// `<file>`, `<mnt>`, `<dev>`: the placeholders a mail writes where the reader's own path goes
/// (`xfs_io -c "pread -v 4k 8" <file>`, `umount <mnt>; mount <dev> <mnt>`). Each becomes a concrete path,
/// so that the mapper reads them as it reads `/dev/sdb`, `/mnt` and `/mnt/foo`: a name that says device
/// becomes `/dev/NAME`, one that says mount point becomes `/mnt`, and any other is a file on it,
/// `/mnt/NAME`. (A script that also mounts somewhere else keeps its own mount point; a placeholder file
/// is then outside it and reported so.)
enum Placeholders {
    static let deviceNames: Set<String> = ["dev", "device", "disk", "bdev", "blkdev", "blockdev", "block-device", "scratch_dev", "scratch-dev", "devname"]
    static let mountNames: Set<String> = ["mnt", "mount", "mountpoint", "mount-point", "mount_point", "mnt_point", "mntpt", "scratch_mnt", "mnt-point", "mountdir", "mnt_dir"]

    /// The path a placeholder name stands for.
    static func path(for name: String) -> String {
        let lowered = name.lowercased()
        if deviceNames.contains(lowered) { return "/dev/" + name }
        if mountNames.contains(lowered) { return "/mnt" }
        return "/mnt/" + name
    }

    /// The text with every `<name>` that stands alone as a word (at the start or after a blank, `=` or
    /// a quote; before the end, a blank, `:`, `;` or a quote) replaced by its path.
    static func resolve(_ text: String) -> String {
        guard text.contains("<") else { return text }
        let characters = Array(text)
        var output = ""
        var index = 0
        while index < characters.count {
            if characters[index] == "<", index == 0 || " \t=\"'".contains(characters[index - 1]),
               let end = closing(characters, from: index + 1),
               end + 1 == characters.count || " \t:;\"'".contains(characters[end + 1]) {
                output += path(for: String(characters[(index + 1)..<end]))
                index = end + 1
                continue
            }
            output.append(characters[index])
            index += 1
        }
        return output
    }

    /// The index of the `>` that closes a name starting at `start`, or nil.
    private static func closing(_ characters: [Character], from start: Int) -> Int? {
        guard start < characters.count, characters[start].isASCII, characters[start].isLetter else { return nil }
        var index = start
        while index < characters.count, characters[index].isASCII,
              characters[index].isLetter || characters[index].isNumber || characters[index] == "_" || characters[index] == "-" {
            index += 1
        }
        return index < characters.count && characters[index] == ">" ? index : nil
    }

    /// The command with its placeholders resolved: in its words, its environment and redirection targets.
    static func resolve(_ command: ShellCommand) -> ShellCommand {
        var command = command
        command.argv = command.argv.map(resolve)
        command.environment = command.environment.mapValues(resolve)
        command.redirections = command.redirections.map { redirection in
            var redirection = redirection
            if redirection.hereDocument == nil { redirection.target = resolve(redirection.target) }
            return redirection
        }
        return command
    }
}
