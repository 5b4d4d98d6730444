#if canImport(Glibc)
import Glibc
#endif
import RegressCore

/// What this machine offers for each filesystem: the kernel's support and the installed tools' options.
extension FilesystemKind {
    /// Whether the running kernel knows this filesystem (built in, loaded, or as a module mount would load).
    /// Asked once per process: `regress list` plans every test on every filesystem.
    public var kernelSupports: Bool { FilesystemKind.kernelSupport[self] ?? false }

    private static let kernelSupport: [FilesystemKind: Bool] = {
        let known = readSmallFile("/proc/filesystems").map { text in
            Set(text.split(separator: "\n").compactMap { $0.split(separator: "\t").last.map(String.init) })
        } ?? []
        return Dictionary(uniqueKeysWithValues: allCases.map { fs in
            (fs, known.contains(fs.rawValue) || FileSystemCalls.moduleExists(fs.rawValue))
        })
    }()

    /// The mkfs command line, with the installed btrfs-progs' own spelling of "no free-space-tree".
    public func mkfsCommand(device: String, options: [String], mountOptions: String) -> [String] {
        mkfsCommand(device: device, options: options, mountOptions: mountOptions,
                    disableFreeSpaceTree: self == .btrfs ? BtrfsProgs.disableFreeSpaceTreeFlag?.option : nil)
    }
}

/// Facts about the installed btrfs-progs, probed once by asking the tool itself.
enum BtrfsProgs {
    struct Flag { let option: String }

    /// btrfs-progs up to 6.2 list free-space-tree as a runtime feature (`-R`); later ones as a filesystem
    /// feature (`-O`). Ask `-O list-all` first, then `-R list-all`.
    static let disableFreeSpaceTreeFlag: Flag? = {
        for option in ["-O", "-R"] {
            if let outcome = try? Subprocess.run(["mkfs.btrfs", option, "list-all"]),
               outcome.output.split(separator: "\n").contains(where: { $0.hasPrefix("free-space-tree") }) {
                return Flag(option: option)
            }
        }
        return nil
    }()
}

extension FileSystemCalls {
    /// Whether a module for `name` exists for the running kernel (so mount would load it).
    static func moduleExists(_ name: String) -> Bool {
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: uts.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        guard let text = readSmallFile("/lib/modules/\(release)/modules.dep") else { return false }
        return text.contains("/\(name).ko")
    }
}
