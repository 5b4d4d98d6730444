/// The guest's side of `regress run --kernel`, as shell scripts run by busybox sh.
///
/// Why shell and not a hidden regress subcommand: this is setup (mount, insmod, chroot, poweroff), the
/// kind of thing an initramfs does, and stage 1 runs before the host's root, and so regress and the Swift
/// runtime it links, is reachable at all. The tests themselves run in the real regress binary, unchanged.
///
/// Stage 1 (`/init` of the initramfs; only for a modular kernel) loads the modules that reach the host's
/// root over 9p and switch_roots to it. A kernel with virtio-pci and 9p built in mounts that root itself
/// (`root=/dev/root rootfstype=9p`) and starts stage 2 directly as init.
///
/// With `--rootfs`, the root is a given root filesystem instead (a directory shared over 9p, or an image on
/// the first virtio disk), and stage 1 always runs: it loads every module the kernel has for regress (the
/// rootfs has none of the kernel's), and lays over the read-only root, read-only too, this VM's own files
/// (busybox and stage 2, in /.regress-vm) and the `--rootfs-overlay` directory (the package, say), then
/// hands over to stage 2 on that stack.
///
/// Stage 2 (`guest-init` in the VM's work directory, read through the read-only root) mounts /proc, /sys,
/// /dev, loads the other modules, puts a tmpfs-backed overlay over the read-only root (so /tmp, /var/tmp
/// and regress's work directory are writable, in the guest's RAM, and every host path is where it is on
/// the host), mounts the two writable shares (control files and the results directory) at their host
/// paths, and runs regress in that overlay. It reports on the console with lines starting
/// `regress-vm: `, which the host reads (`GuestMarker`).
public struct GuestScript {
    /// The shares' 9p mount tags. The root's is /dev/root, the name a kernel's `root=` gives a 9p root.
    public static let rootTag = "/dev/root"
    public static let controlTag = "regress-control"
    public static let resultsTag = "regress-results"
    /// With --rootfs: this VM's own files, and the directory laid over the rootfs.
    public static let ownFilesTag = "regress-own"
    public static let overlayTag = "regress-overlay"
    /// Where the VM's own files are in a guest booted on another root filesystem.
    public static let ownFilesDirectory = "/.regress-vm"

    /// What the guest's root is: the host's own (over 9p), or a given root filesystem.
    public enum Root: Sendable, Equatable {
        case host
        /// A directory of the host shared over 9p as `rootTag`.
        case share
        /// An image on the first virtio disk (/dev/vda).
        case disk
    }

    /// busybox on the host (static: stage 1 copies it into the initramfs too).
    let busybox: String
    /// The host's control share (arguments in, status and standard output back) and results directory;
    /// stage 2 mounts both at these same paths.
    let controlDirectory: String
    let resultsDirectory: String
    /// This script's own path on the host, which the guest reads through the read-only root.
    let stage2Path: String
    /// Modules stage 2 loads with modprobe when the kernel's modules are installed on the host.
    let modules: [String]
    let root: Root
    /// Whether a directory is laid over a given root filesystem (`overlayTag`).
    let overlay: Bool

    public static let regressModules = ["loop", "fuse", "overlay", "btrfs", "xfs", "ext4", "dm-flakey", "dm-log-writes"]

    public init(busybox: String, controlDirectory: String, resultsDirectory: String, stage2Path: String,
                modules: [String] = GuestScript.regressModules, root: Root = .host, overlay: Bool = false) {
        self.busybox = busybox
        self.controlDirectory = controlDirectory
        self.resultsDirectory = resultsDirectory
        self.stage2Path = stage2Path
        self.modules = modules
        self.root = root
        self.overlay = overlay
    }

    static let ninePOptions = "trans=virtio,version=9p2000.L,msize=512000"

    /// `/init` of the initramfs: `moduleFiles` are paths inside the initramfs, in load order.
    public func stage1(moduleFiles: [String]) -> String {
        root == .host ? hostRootStage1(moduleFiles: moduleFiles) : givenRootStage1(moduleFiles: moduleFiles)
    }

    /// Stage 1 for a given root filesystem: the root read-only, this VM's files and the overlay directory
    /// over it (a read-only overlay of read-only layers: stage 2 puts its writable one on top, as on the host's).
    func givenRootStage1(moduleFiles: [String]) -> String {
        let mountRoot: String
        switch root {
        case .share, .host:
            mountRoot = """
            $b mount -t 9p -o ro,cache=loose,\(GuestScript.ninePOptions) \(shellQuote(GuestScript.rootTag)) /lower \\
                || missing "the root filesystem over 9p (CONFIG_VIRTIO_PCI, CONFIG_NET_9P_VIRTIO, CONFIG_9P_FS)"
            """
        case .disk:
            mountRoot = """
            $b mount -o ro /dev/vda /lower || missing "the root filesystem image on /dev/vda (CONFIG_VIRTIO_BLK and the image's filesystem)"
            """
        }
        var layers = "/own"
        var mountOverlay = ""
        if overlay {
            layers += ":/overlay"
            mountOverlay = """
            $b mount -t 9p -o ro,cache=loose,\(GuestScript.ninePOptions) \(GuestScript.overlayTag) /overlay \\
                || missing "the --rootfs-overlay directory over 9p (CONFIG_NET_9P_VIRTIO, CONFIG_9P_FS)"
            """
        }
        return """
        #!/bin/busybox sh
        # regress run --kernel --rootfs, stage 1: the given root filesystem with this VM's files over it, then stage 2.
        b=/bin/busybox
        missing() {
            echo "\(GuestMarker.missing) $1"
            $b poweroff -f
        }
        $b mount -t proc proc /proc
        $b mount -t devtmpfs devtmpfs /dev 2>/dev/null
        echo "\(GuestMarker.initramfs) $($b cut -d' ' -f1 /proc/uptime)"
        \(moduleFiles.map { "$b insmod \(shellQuote($0)) || echo \"\(GuestMarker.prefix) insmod \($0) failed\"" }.joined(separator: "\n"))
        $b mkdir -p /lower /own /overlay
        \(mountRoot)
        $b mount -t 9p -o ro,cache=loose,\(GuestScript.ninePOptions) \(GuestScript.ownFilesTag) /own \\
            || missing "this VM's files over 9p (CONFIG_NET_9P_VIRTIO, CONFIG_9P_FS)"
        \(mountOverlay)
        $b mount -t overlay -o ro,lowerdir=\(layers):/lower overlay /newroot || missing "overlayfs (CONFIG_OVERLAY_FS)"
        $b umount /dev 2>/dev/null
        $b umount /proc
        exec $b switch_root /newroot \(shellQuote(busybox)) sh \(shellQuote(stage2Path))
        """ + "\n"
    }

    func hostRootStage1(moduleFiles: [String]) -> String {
        """
        #!/bin/busybox sh
        # regress run --kernel, stage 1: reach the host's root over 9p, then hand over to stage 2.
        b=/bin/busybox
        $b mount -t proc proc /proc
        $b mount -t devtmpfs devtmpfs /dev 2>/dev/null
        echo "\(GuestMarker.initramfs) $($b cut -d' ' -f1 /proc/uptime)"
        \(moduleFiles.map { "$b insmod \(shellQuote($0)) || echo \"\(GuestMarker.prefix) insmod \($0) failed\"" }.joined(separator: "\n"))
        if ! $b mount -t 9p -o ro,cache=loose,\(GuestScript.ninePOptions) \(shellQuote(GuestScript.rootTag)) /newroot; then
            echo "\(GuestMarker.missing) the host's root over 9p (CONFIG_VIRTIO_PCI, CONFIG_NET_9P_VIRTIO, CONFIG_9P_FS)"
            $b poweroff -f
        fi
        $b umount /dev 2>/dev/null
        $b umount /proc
        exec $b switch_root /newroot \(shellQuote(busybox)) sh \(shellQuote(stage2Path))
        """ + "\n"
    }

    /// The guest's init on the host's root: prepares the overlay and runs `regress` (`$1 = inner`: the part
    /// that runs inside the overlay).
    public func stage2() -> String {
        let control = shellQuote(controlDirectory)
        return """
        #!\(busybox) sh
        # regress run --kernel, stage 2 (written by regress for one run; see GuestScript.swift).
        b=\(shellQuote(busybox))
        control=\(control)
        export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
        if [ "$1" = inner ]; then
            # In the overlay: the host's tree at its own paths, writable, thrown away at power-off.
            cd "$(cat "$control/cwd")" 2>/dev/null || cd /
            [ -f "$control/sudo-uid" ] && export SUDO_UID="$(cat "$control/sudo-uid")"
            set --
            while IFS= read -r argument; do set -- "$@" "$argument"; done < "$control/args"
            if [ -f "$control/plain-progress" ]; then
                # The console is a terminal; the host's standard error is not: a pipe makes regress print
                # plain progress lines instead of rewriting one line in place.
                { "$@" > "$control/stdout"; echo $? > "$control/status.new"; } 2>&1 | $b cat
            else
                "$@" > "$control/stdout"; echo $? > "$control/status.new"
            fi
            $b mv "$control/status.new" "$control/status"
            exit 0
        fi

        missing() {
            echo "\(GuestMarker.missing) $1"
            $b sync
            $b poweroff -f
            exit 1
        }
        $b mount -t proc proc /proc 2>/dev/null
        $b mount -t sysfs sysfs /sys 2>/dev/null
        $b mount -t devtmpfs devtmpfs /dev 2>/dev/null
        [ -e /proc/self/mounts ] || missing "procfs (CONFIG_PROC_FS)"
        [ -c /dev/null ] || missing "devtmpfs (CONFIG_DEVTMPFS)"
        echo "\(GuestMarker.booted) $($b cut -d' ' -f1 /proc/uptime) $($b uname -r)"
        # Built-in drivers need no module; a kernel whose modules are not installed on the host has none.
        if [ -d "/lib/modules/$($b uname -r)" ]; then
            modprobe -q -a \(modules.joined(separator: " ")) 2>/dev/null
        fi
        $b mount -t tmpfs -o mode=0755 regress-vm /run || missing "tmpfs (CONFIG_TMPFS)"
        $b mkdir -p /run/regress-vm/upper /run/regress-vm/work /run/regress-vm/root
        root=/run/regress-vm/root
        $b mount -t overlay -o lowerdir=/,upperdir=/run/regress-vm/upper,workdir=/run/regress-vm/work overlay $root \\
            || missing "overlayfs (CONFIG_OVERLAY_FS)"
        # On a given root filesystem the host's paths of the shares are not there yet.
        $b mkdir -p "$root$control" "$root"\(shellQuote(resultsDirectory))
        $b mount -t 9p -o \(GuestScript.ninePOptions) \(GuestScript.controlTag) "$root$control" \\
            || missing "the control share over 9p (CONFIG_NET_9P_VIRTIO, CONFIG_9P_FS)"
        $b mount -t 9p -o \(GuestScript.ninePOptions) \(GuestScript.resultsTag) "$root"\(shellQuote(resultsDirectory)) \\
            || missing "the results share over 9p (CONFIG_NET_9P_VIRTIO, CONFIG_9P_FS)"
        [ -c /dev/loop-control ] || missing "loop devices (CONFIG_BLK_DEV_LOOP)"
        [ -c /dev/fuse ] || echo "\(GuestMarker.prefix) no /dev/fuse (CONFIG_FUSE_FS): no emulated disk, so power cuts need dm-flakey and disk faults are skipped"
        for fs in btrfs xfs ext4; do
            $b grep -qw "$fs" /proc/filesystems || echo "\(GuestMarker.prefix) no $fs in this kernel: its tests will be skipped"
        done
        echo "\(GuestMarker.started) $($b cut -d' ' -f1 /proc/uptime)"
        $b mount --move /proc $root/proc
        $b mount --move /sys $root/sys
        $b mount --move /dev $root/dev
        $b mount -t tmpfs -o mode=0755 run $root/run
        $b chroot $root $b sh \(shellQuote(stage2Path)) inner
        echo "\(GuestMarker.finished) $($b cat "$root$control/status" 2>/dev/null)"
        $b sync
        $b poweroff -f
        """ + "\n"
    }
}

/// The console lines the guest's scripts print, and which the host reads to know how far the guest got.
public enum GuestMarker {
    public static let prefix = "regress-vm:"
    /// Stage 1 runs: the kernel booted and unpacked the initramfs.
    public static let initramfs = "regress-vm: initramfs"
    /// Stage 2 runs on the host's root: the kernel booted.
    public static let booted = "regress-vm: booted"
    /// Something the kernel lacks; what follows says what, with the config options.
    public static let missing = "regress-vm: missing:"
    /// regress starts: from here on, a panic or a hang is the kernel failing the tests.
    public static let started = "regress-vm: running regress"
    public static let finished = "regress-vm: regress exited"
}

/// POSIX shell quoting: the word as one argument, whatever it contains.
func shellQuote(_ word: String) -> String {
    "'" + word.replacing("'", with: "'\\''") + "'"
}
