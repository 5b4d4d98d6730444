import Foundation
import XCTest
@testable import RegressRunner

/// The host-side logic of `regress run --kernel` that needs no VM: reading a bzImage's header, ordering
/// modules, the initramfs's format, the guest's arguments and how an ending maps to an exit status.
/// Plain tests (no root, no QEMU); they live here because they test RegressRunner.
final class VirtualMachinePlanTests: XCTestCase {
    /// A bzImage's first bytes: the boot protocol's magic and a version string where kernel_version points.
    func header(magic: String = "HdrS", version: String? = "6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP") -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x1000)
        bytes.replaceSubrange(0x202..<0x206, with: Array(magic.utf8))
        if let version {
            let offset = 0x800
            bytes[0x20E] = UInt8((offset - 0x200) & 0xff)
            bytes[0x20F] = UInt8((offset - 0x200) >> 8)
            bytes.replaceSubrange(offset..<(offset + version.utf8.count), with: Array(version.utf8))
        }
        return bytes
    }

    func testAbzImageHeaderGivesItsRelease() throws {
        XCTAssertEqual(try KernelImage.releaseFromHeader(header(), path: "k"), "6.1.0-57-amd64")
        XCTAssertNil(try KernelImage.releaseFromHeader(header(version: nil), path: "k"))
    }

    func testWhatIsNotAbzImageIsRefusedWithItsReason() {
        XCTAssertThrowsError(try KernelImage.releaseFromHeader(header(magic: "HdrX"), path: "k")) { error in
            XCTAssertEqual("\(error)", "k: not a kernel image: no x86 boot header (\"HdrS\" at 0x202), so not a bzImage")
        }
        var elf = header()
        elf.replaceSubrange(0..<4, with: [0x7f, 0x45, 0x4c, 0x46])
        XCTAssertThrowsError(try KernelImage.releaseFromHeader(elf, path: "vmlinux")) { error in
            XCTAssertTrue("\(error)".contains("ELF file (vmlinux?)"), "\(error)")
        }
        XCTAssertThrowsError(try KernelImage.releaseFromHeader([0x4d, 0x5a], path: "short"))
    }

    func testAKernelIsFoundByPathBuildDirectoryOrVersion() throws {
        let directory = NSTemporaryDirectory() + "regress-kernel-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/build/arch/x86/boot", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/boot", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/modules/6.1.0-57-amd64", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: directory + "/modules/6.1.0-57-amd64/modules.dep"))
        try Data(header()).write(to: URL(fileURLWithPath: directory + "/build/arch/x86/boot/bzImage"))
        try Data(header(version: "6.9.0-rc1+ #3 SMP")).write(to: URL(fileURLWithPath: directory + "/boot/vmlinuz-6.9.0-rc1+"))

        let built = try KernelImage.resolve(directory + "/build", bootDirectory: directory + "/boot", modulesRoot: directory + "/modules")
        XCTAssertEqual(built, KernelImage(path: directory + "/build/arch/x86/boot/bzImage", release: "6.1.0-57-amd64",
                                          modulesDirectory: directory + "/modules/6.1.0-57-amd64"))
        let installed = try KernelImage.resolve("6.9.0-rc1+", bootDirectory: directory + "/boot", modulesRoot: directory + "/modules")
        XCTAssertEqual(installed, KernelImage(path: directory + "/boot/vmlinuz-6.9.0-rc1+", release: "6.9.0-rc1+", modulesDirectory: nil))
        XCTAssertThrowsError(try KernelImage.resolve("5.0-none", bootDirectory: directory + "/boot")) { error in
            XCTAssertEqual(error as? KernelImage.Problem, .notFound("5.0-none"))
        }
        XCTAssertThrowsError(try KernelImage.resolve(directory + "/boot")) { error in
            XCTAssertEqual(error as? KernelImage.Problem, .noBzImage(directory + "/boot"))
        }
    }

    func testModulesLoadAfterWhatTheyNeedAndBuiltInOnesAreSkipped() {
        let modules = KernelModules(directory: "/m", modulesDep: """
        kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
        kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
        kernel/fs/netfs/netfs.ko:
        kernel/net/9p/9pnet.ko:
        kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
        kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
        kernel/drivers/virtio/virtio_ring.ko:
        kernel/drivers/md/dm-flakey.ko.xz: kernel/drivers/md/dm-mod.ko.xz
        kernel/drivers/md/dm-mod.ko.xz:
        """, modulesBuiltin: "kernel/drivers/virtio/virtio_pci.ko\n")
        let order = modules.loadOrder(["virtio_pci", "9pnet_virtio", "9p", "dm-flakey", "nosuch"])
        XCTAssertEqual(order.files, [
            "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko", "kernel/net/9p/9pnet.ko",
            "kernel/net/9p/9pnet_virtio.ko", "kernel/fs/netfs/netfs.ko", "kernel/fs/fscache/fscache.ko", "kernel/fs/9p/9p.ko",
            "kernel/drivers/md/dm-mod.ko.xz", "kernel/drivers/md/dm-flakey.ko.xz",
        ])
        XCTAssertEqual(order.missing, ["nosuch"])
    }

    func testTheInitramfsIsANewcArchive() throws {
        var archive = Initramfs()
        archive.directory("bin")
        archive.file("bin/hello", contents: Data("hi\n".utf8), executable: true)
        let data = archive.data()
        XCTAssertEqual(data.count % 4, 0)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("070701"))
        // bin/hello: mode 100755, 3 bytes, a name of 10 bytes with its NUL, then the data at a 4-byte boundary.
        let entry = try XCTUnwrap(text.range(of: "070701" + "00000002" + "000081ED"))
        let fields = text[entry.lowerBound...].prefix(110)
        XCTAssertEqual(fields.dropFirst(6 + 6 * 8).prefix(8), "00000003")
        XCTAssertEqual(fields.dropFirst(6 + 11 * 8).prefix(8), "0000000A")
        // 110 bytes of header and 10 of name: already a multiple of 4, so the data follows the NUL at once.
        XCTAssertTrue(text.contains("bin/hello\0hi\n\0"), text.debugDescription)
        XCTAssertTrue(text.contains("TRAILER!!!\0"))
    }

    func testTheGuestGetsTheHostsArgumentsLessWhatTheHostHandles() {
        let arguments = GuestArguments(
            executable: "/r/regress",
            runArguments: ["--kernel", "6.1", "-g", "quick", "--vm-timeout=600", "--results", "res", "-o", "out.tap",
                           "--format", "tap", "--report", "junit=j.xml", "--workdir=/w", "--timeout-scale", "3", "-j", "2",
                           "--", "--kernel"],
            output: "out.tap", reports: ["junit=j.xml"], resultsDirectory: "/abs/res", filesDirectory: "/c/files", timeoutScale: 5)
        XCTAssertEqual(arguments.arguments, [
            "/r/regress", "run", "-g", "quick", "--format", "tap", "-j", "2",
            "--results", "/abs/res", "--timeout-scale", "5", "--output", "/c/files/output", "--report", "junit=/c/files/report-1",
            "--", "--kernel",
        ])
        XCTAssertEqual(arguments.copies.map(\.guest), ["/c/files/output", "/c/files/report-1"])
        XCTAssertEqual(arguments.copies.map(\.host), ["out.tap", "j.xml"])
    }

    func testEveryEndingIsAStatusBisectCanRead() {
        var seen = GuestOutcome.Observation()
        seen.sawBoot = true
        seen.sawStart = true
        seen.guestStatus = 1
        XCTAssertEqual(GuestOutcome.decide(seen), GuestOutcome(status: 1, message: nil), "the guest's own verdict")
        seen.guestStatus = 139
        XCTAssertEqual(GuestOutcome.decide(seen).status, 1, "never above 127")

        seen.guestStatus = nil
        seen.consoleTail = ["[ 12.0] Kernel panic - not syncing: stack-protector", "[ 12.1] ---[ end Kernel panic ]---"]
        let panic = GuestOutcome.decide(seen)
        XCTAssertEqual(panic.status, 1, "a panic while regress ran fails the kernel")
        XCTAssertTrue(panic.message?.hasPrefix("the kernel panicked while regress ran; console's last lines:\n    [ 12.0] Kernel panic") == true, "\(panic)")
        seen.timedOut = 600
        XCTAssertEqual(GuestOutcome.decide(seen).status, 1, "a hang while regress ran fails the kernel")
        XCTAssertTrue(GuestOutcome.decide(seen).message?.hasPrefix("the VM did not finish within 600s") == true)

        var early = GuestOutcome.Observation()
        early.consoleTail = ["VFS: Cannot open root device \"/dev/root\" or unknown-block(0,0): error -6",
                             "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"]
        let unbootable = GuestOutcome.decide(early)
        XCTAssertEqual(unbootable.status, 125, "a kernel that never ran regress is skipped")
        XCTAssertTrue(unbootable.message?.contains("CONFIG_9P_FS") == true, "\(unbootable)")
        early.timedOut = 600
        XCTAssertEqual(GuestOutcome.decide(early).status, 125)

        var lacking = GuestOutcome.Observation()
        lacking.sawBoot = true
        lacking.missing = "overlayfs (CONFIG_OVERLAY_FS)"
        XCTAssertEqual(GuestOutcome.decide(lacking), GuestOutcome(status: 125, message: "the kernel cannot run regress: it lacks overlayfs (CONFIG_OVERLAY_FS)"))

        var qemu = GuestOutcome.Observation()
        qemu.qemuStatus = 1
        qemu.qemuFailed = "qemu-system-x86_64: linux kernel too old to load a ram disk"
        XCTAssertEqual(GuestOutcome.decide(qemu).status, 125)
    }

    func testTheHostRootIsSharedReadOnlyAndTheResultsWritable() {
        var machine = VirtualMachine(kernel: "/boot/k", initramfs: "/w/i.cpio", commandLine: "console=ttyS0")
        machine.shares = [VirtualMachine.Share(tag: "/dev/root", hostPath: "/", readOnly: true),
                          VirtualMachine.Share(tag: "regress-results", hostPath: "/r", readOnly: false)]
        let arguments = machine.arguments
        XCTAssertTrue(arguments.contains("local,id=share0,path=/,security_model=none,multidevs=remap,readonly=on"), "\(arguments)")
        XCTAssertTrue(arguments.contains("local,id=share1,path=/r,security_model=none,multidevs=remap"), "\(arguments)")
        XCTAssertTrue(arguments.contains("virtio-9p-pci,fsdev=share0,mount_tag=/dev/root"))
        XCTAssertEqual(arguments.firstIndex(of: "-no-reboot").map { _ in true }, true, "a panic (panic=-1) must end QEMU")
        XCTAssertEqual(arguments[arguments.firstIndex(of: "-accel")! + 1], "tcg")
    }

    /// --rootfs: the given root read-only under this VM's files and the overlay directory, stage 2 from there.
    func testAGivenRootFilesystemIsLaidUnderTheVMsFilesAndTheOverlay() {
        let script = GuestScript(busybox: "/.regress-vm/busybox", controlDirectory: "/w/control", resultsDirectory: "/r",
                                 stage2Path: "/.regress-vm/guest-init", root: .share, overlay: true)
        let stage1 = script.stage1(moduleFiles: ["/modules/loop.ko"])
        XCTAssertTrue(stage1.contains("mount -t 9p -o ro,cache=loose,trans=virtio,version=9p2000.L,msize=512000 '/dev/root' /lower"), stage1)
        XCTAssertTrue(stage1.contains("regress-own /own"), stage1)
        XCTAssertTrue(stage1.contains("regress-overlay /overlay"), stage1)
        XCTAssertTrue(stage1.contains("mount -t overlay -o ro,lowerdir=/own:/overlay:/lower overlay /newroot"), stage1)
        XCTAssertTrue(stage1.contains("exec $b switch_root /newroot '/.regress-vm/busybox' sh '/.regress-vm/guest-init'"), stage1)
        XCTAssertTrue(stage1.contains("insmod '/modules/loop.ko'"), stage1)
        let image = GuestScript(busybox: "/.regress-vm/busybox", controlDirectory: "/w/control", resultsDirectory: "/r",
                                stage2Path: "/.regress-vm/guest-init", root: .disk).stage1(moduleFiles: [])
        XCTAssertTrue(image.contains("mount -o ro /dev/vda /lower"), image)
        XCTAssertTrue(image.contains("lowerdir=/own:/lower "), image)
        // Stage 2 makes the shares' mount points, which a given rootfs does not have.
        XCTAssertTrue(script.stage2().contains("$b mkdir -p \"$root$control\" \"$root\"'/r'"), script.stage2())

        var machine = VirtualMachine(kernel: "/boot/k", initramfs: "/w/i.cpio", commandLine: "console=ttyS0")
        machine.readOnlyDisks = ["/images/a,b.ext4"]
        XCTAssertTrue(machine.arguments.contains("file=/images/a,,b.ext4,format=raw,if=virtio,readonly=on"), "\(machine.arguments)")

        let arguments = GuestArguments(executable: "regress", runArguments: ["--kernel", "6.1", "--rootfs", "/srv/debian",
                                                                             "--rootfs-overlay=/srv/package", "nocow-reflink"],
                                       output: nil, reports: [], resultsDirectory: "/abs/res", filesDirectory: "/c/files", timeoutScale: 5)
        XCTAssertEqual(arguments.arguments, ["regress", "run", "nocow-reflink", "--results", "/abs/res", "--timeout-scale", "5"])
    }

    func testOnlyAStaticBusyboxGoesIntoTheInitramfs() throws {
        // The test bundle itself is dynamically linked.
        let bundle = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        XCTAssertFalse(GuestRun.isStatic(bundle))
        XCTAssertFalse(GuestRun.isStatic("/etc/hostname"))
    }
}
