/// What a shell command of a reproducer does, in neutral terms: the layer between the shell front end
/// and the test language. Paths are relative to the test filesystem's root (`.` is the root itself).
///
/// xfs_io's `-c` commands are kept as written: reading them is the command table's job.
public enum ReproducerOperation: Equatable, Sendable {
    /// Make the filesystem; `filesystem` is nil for fstests' `_scratch_mkfs` (the configured one).
    case mkfs(filesystem: String?, options: [String])
    /// Mount it (the first time, or again after an unmount).
    case mount(filesystem: String?, options: [String])
    case umount
    /// `mount -o remount,OPTS`, `_scratch_remount OPTS`.
    case remount(options: [String])
    /// Unmount and mount with the same options (`_scratch_cycle_mount`).
    case cycleMount
    /// Power failure: `_flakey_drop_and_remount`, `<power fail>`.
    case powerFail
    /// A filesystem shutdown (`godown`, `_scratch_shutdown`, `xfs_io -x -c shutdown`), which loses
    /// what no flush made durable, as a power failure does; `flushLog` for `godown -f`.
    case shutdown(flushLog: Bool)
    /// dm-flakey: from now on writes are dropped (`_load_flakey_table $FLAKEY_DROP_WRITES`).
    case flakeyDropWrites
    case flakeyAllowWrites
    /// dm-flakey or dm-error: writes fail.
    case errorWrites
    /// `echo 3 > /proc/sys/vm/drop_caches` (1 and 2 as well).
    case dropCaches
    /// A write to another /proc/sys or /sys file: a kernel setting the reproducer needs.
    case kernelSetting(path: String, value: String)
    /// `sync`, or `sync FILE` (coreutils fsyncs the named file).
    case sync(file: String?)
    /// `syncfs(2)`: `sync -f`, `btrfs filesystem sync`, `_scratch_sync`.
    case syncfs
    case xfsIO(openFlags: [String], file: String?, commands: [String])
    case touch(String)
    /// `echo TEXT > file`, `printf`, `cat > file <<EOF`: the bytes written.
    case writeText(file: String, bytes: String, append: Bool)
    case copyReflink(source: String, destination: String)
    /// `cp` without `--reflink`: a data copy.
    case copy(source: String, destination: String)
    case mkdir(String)
    case rm(String)
    /// `rm -rf DIR/name.*`: the files made so far whose names the pattern matches (`*`, `?`).
    case rmMatching(String)
    case mv(from: String, to: String)
    case ln(target: String, name: String, symbolic: Bool)
    case truncate(file: String, size: String)
    /// chattr(1): `+C`, `-e`… as written.
    case chattr(file: String, flags: [String])
    /// fallocate(1): flags as xfs_io's `falloc` spells them (`-k`, `-p`, `-z`, `-c`, `-i`).
    case fallocate(file: String, flags: [String], offset: String, length: String)
    case dd(input: String?, output: String?, blockSize: String?, count: String?, seek: String?, skip: String?, flags: [String])
    /// `od`, `hexdump`, `md5sum`, `cat FILE`, `cmp`: the reproducer looks at the content; regress verifies it.
    case checksum(file: String)
    /// `filefrag FILE | grep "N extents found"`: the reproducer checks the file's extent count (`sync`: `-s`).
    case extentCount(file: String, count: Int, sync: Bool)
    /// `_require_…`: what the test needs (a feature, a command, a dm target); a name of the test language's
    /// `requires:` (`reflink`, `quota`, `inline_data`…) when the helper asks for one of those.
    case requireFeature(String)
    /// `_supported_fs`, `_begin_fstest GROUPS`: test metadata.
    case metadata(key: String, value: String)
    /// Harness and setup lines that need no step, and why.
    case setupIgnored(String)
    /// `echo` to the terminal, a pipeline's output filter: the reproducer talks to a person.
    case terminalOutput
    /// A command this layer does not know, and why.
    case unrecognised(String)

    /// True for operations that need no step: metadata, setup, talk to the terminal.
    public var isIgnoredOnPurpose: Bool {
        switch self {
        case .setupIgnored, .terminalOutput, .metadata, .requireFeature: true
        default: false
        }
    }
}
