import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import RegressRunner
import RegressCore

struct Lava: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a LAVA job that boots a kernel in QEMU and runs regress in it.",
        discussion: """
        The job deploys the kernel (and rootfs) to tmpfs, boots it with QEMU, runs regress with --format ktap \
        and reports every case with lava-test-case. With --package (the tarball scripts/package writes), LAVA \
        puts the package over the rootfs image as an overlay and runs the package's own lava/regress-lava.sh: \
        nothing on the device builds regress, and the rootfs needs only the packages of the package's \
        debian-packages manifest. Without it, the job runs lava/regress.yaml from --repository, and the rootfs \
        needs regress installed (scripts/install) or a Swift toolchain to build it.
        """
    )

    @Option(help: ArgumentHelp("URL of the kernel image to boot.", valueName: "url"))
    var kernel: String

    @Option(help: ArgumentHelp("URL of the root filesystem image (.gz, .xz, .zst are decompressed).", valueName: "url"))
    var rootfs: String?

    @Option(help: ArgumentHelp("URL of an initramfs, for a kernel that needs one to mount its root.", valueName: "url"))
    var initrd: String?

    @Option(help: ArgumentHelp("The kernel's command line.", valueName: "arguments"))
    var append = "console=ttyS0,115200 root=/dev/sda rw"

    @Option(help: ArgumentHelp("The shell prompt on the console (repeatable; default: root@debian:~# and / #).", valueName: "text"))
    var prompt: [String] = []

    @Flag(name: .customLong("no-login"), help: "The image starts a root shell on the console: no login to answer.")
    var noLogin = false

    @Option(name: .customLong("device-type"), help: ArgumentHelp("The lab's QEMU device type.", valueName: "name"))
    var deviceType = "qemu"

    @Option(help: ArgumentHelp("QEMU architecture, as LAVA names it (amd64, arm64…).", valueName: "arch"))
    var arch = "amd64"

    @Option(help: ArgumentHelp("Git repository LAVA clones lava/regress.yaml (and regress) from (not with --package).", valueName: "url"))
    var repository: String?

    @Option(help: ArgumentHelp("URL of regress-<version>-<arch>.tar.xz (scripts/package): deployed over --rootfs (an ext4 image) as an overlay.", valueName: "url"))
    var package: String?

    @Option(help: ArgumentHelp("Revision of --repository (a commit, tag or branch).", valueName: "rev"))
    var revision: String?

    @Option(help: ArgumentHelp("Run only shard I of N in the job.", valueName: "I/N"))
    var shard: String?

    @Option(name: .customShort("g"), help: ArgumentHelp("The group to run when no tests are named.", valueName: "group"))
    var group = "auto"

    @Option(help: ArgumentHelp("Minutes the tests may take.", valueName: "minutes"))
    var timeout = 60

    @Argument(help: "Tests to run (default: the group).")
    var tests: [String] = []

    func validate() throws {
        switch (package, repository) {
        case (nil, nil): throw ValidationError("give --repository (LAVA clones and builds regress) or --package (the tarball of scripts/package)")
        case (.some, .some): throw ValidationError("--package and --repository: the package brings its own test definition; give one of them")
        case (.some, nil) where rootfs == nil: throw ValidationError("--package needs --rootfs: LAVA puts the package over the rootfs image")
        default: break
        }
        if package == nil, revision != nil, repository == nil { throw ValidationError("--revision needs --repository") }
        for (flag, url) in [("--kernel", kernel), ("--rootfs", rootfs ?? "http://x/"), ("--initrd", initrd ?? "http://x/"),
                            ("--repository", repository ?? "http://x/"), ("--package", package ?? "http://x/")] {
            guard let parsed = URL(string: url), parsed.scheme != nil, parsed.host != nil || parsed.scheme == "file" else {
                throw ValidationError("\(flag) '\(url)': not a URL (http://, https://, file://)")
            }
        }
        if let shard, ShardSpec(shard) == nil { throw ValidationError("--shard takes I/N with 1 <= I <= N, e.g. 2/4") }
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 minute") }
        // The command line and prompts are quoted in the job; a double quote would end the -append argument.
        if append.contains("\"") || append.contains(where: \.isNewline) { throw ValidationError("--append: no quotes or line breaks in the kernel's command line") }
        if prompt.contains(where: \.isEmpty) { throw ValidationError("--prompt: a prompt cannot be empty") }
        // The names go to a shell in the job: only what a test name can be.
        for name in tests + [group, arch, deviceType] where name.isEmpty || name.contains(where: { !($0.isLetter || $0.isNumber || "._+-@=,".contains($0)) }) {
            throw ValidationError("'\(name)': not a test, group, architecture or device type name")
        }
    }

    func run() throws {
        var job: LAVAJob
        if let package, let rootfs {
            job = LAVAJob(kernelURL: kernel, rootfsURL: rootfs, packageURL: package)
        } else {
            job = LAVAJob(kernelURL: kernel, repository: repository ?? "")
            job.rootfsURL = rootfs
        }
        job.initrdURL = initrd
        job.kernelArguments = append
        if !prompt.isEmpty { job.prompts = prompt }
        if noLogin { job.login = nil }
        job.deviceType = deviceType
        job.architecture = arch
        job.revision = revision
        job.shard = shard
        job.tests = tests
        job.group = group
        job.testMinutes = timeout
        job.regress = .thisBuild
        StandardStream.output.write(Data(job.render().utf8))
    }
}

/// `I/N` with 1 <= I <= N.
struct ShardSpec {
    let index: Int, count: Int
    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        index = i; count = n
    }
}
