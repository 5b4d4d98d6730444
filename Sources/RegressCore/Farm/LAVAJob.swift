#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A LAVA job definition (YAML, as LAVA's lava_common.schemas validates it) that boots a kernel with QEMU
/// and runs regress in it through the test definition this repository ships (lava/regress.yaml), which
/// reports each case to LAVA with lava-test-case and puts the KTAP and KCIDB reports in the job log.
///
/// With a package (scripts/package's tarball), LAVA puts it over the rootfs image as an overlay, and the
/// test definition is inline and runs the package's own lava/regress-lava.sh: nothing on the device builds
/// regress, and the rootfs needs only the Debian packages of the package's manifest. Without one, the rootfs
/// must hold regress (a Debian image on which scripts/install ran), or a Swift toolchain for the git
/// definition's install step to build it. Everything that comes from the command line is written as a
/// double-quoted YAML scalar, so no value can add a key or an action.
public struct LAVAJob: Sendable {
    public var kernelURL: String
    public var rootfsURL: String?
    /// An initramfs for a kernel whose disk driver or root filesystem is a module (a distribution's kernel).
    public var initrdURL: String?
    /// What the shell prints when it waits for a command, and the login to answer on the console (none:
    /// the image starts a root shell itself).
    public var prompts = ["root@debian:~#", "/ #"]
    public var login: String? = "root"
    /// The kernel's command line: a console LAVA reads, and the rootfs (QEMU's first disk) as root.
    public var kernelArguments = "console=ttyS0,115200 root=/dev/sda rw"
    /// The lab's name for a QEMU device type (`qemu`, or its own such as `qemu-x86_64`): the boot is QEMU's.
    public var deviceType = "qemu"
    /// LAVA's `arch` context for QEMU: `amd64`, `arm64`…
    public var architecture = "amd64"
    /// The git repository LAVA clones the test definition (and regress's sources) from, and its revision;
    /// unused with a package.
    public var repository: String?
    public var revision: String?
    /// URL of regress-<version>-<arch>.tar.xz (scripts/package), extracted over the rootfs image's `/`.
    public var packageURL: String?
    public var shard: String?
    /// Test names; none means the group `group`.
    public var tests: [String] = []
    public var group = "auto"
    /// Minutes the test action may take; the job gets the boot's time on top.
    public var testMinutes = 60
    public var memoryMegabytes = 2048
    /// The regress that made the job, named in its metadata.
    public var regress: RegressVersion?

    public init(kernelURL: String, repository: String) {
        self.kernelURL = kernelURL
        self.repository = repository
    }

    /// A job that deploys the package over `rootfsURL` (an ext4 image, as the overlay needs).
    public init(kernelURL: String, rootfsURL: String, packageURL: String) {
        self.kernelURL = kernelURL
        self.rootfsURL = rootfsURL
        self.packageURL = packageURL
    }

    /// Where the package puts the test definition's script on the device.
    public static let packagedHelper = "/opt/regress/lava/regress-lava.sh"

    /// The path of the test definition in this repository.
    public static let definitionPath = "lava/regress.yaml"

    public var jobName: String {
        var name = "regress " + (tests.isEmpty ? "-g \(group)" : tests.joined(separator: " "))
        if let shard { name += " shard \(shard)" }
        name += " on " + (URL(string: kernelURL)?.lastPathComponent ?? kernelURL)
        return String(name.prefix(200))
    }

    public func render() -> String {
        var lines = [
            "# A LAVA job for regress, made by `regress lava`; submit it with `lavacli jobs submit FILE`.",
            "job_name: \(yamlString(jobName))",
            "device_type: \(yamlString(deviceType))",
            "priority: medium",
            "visibility: public",
            "timeouts:",
            "  job:",
            "    minutes: \(testMinutes + 20)",
            "  action:",
            "    minutes: \(min(15, testMinutes + 20))",
            "  connection:",
            "    minutes: 2",
            "context:",
            "  arch: \(yamlString(architecture))",
            "  memory: \(memoryMegabytes)",
            "  extra_options:",
            "  - \(yamlString("-smp 2"))",
            "metadata:",
            "  regress.tests: \(yamlString(tests.isEmpty ? "-g \(group)" : tests.joined(separator: " ")))",
        ]
        if let shard { lines.append("  regress.shard: \(yamlString(shard))") }
        if let regress {
            lines.append("  regress.version: \(yamlString(regress.version))")
            lines.append("  regress.commit: \(yamlString(regress.commit))")
        }
        lines += [
            "actions:",
            "- deploy:",
            "    timeout:",
            "      minutes: 10",
            "    to: tmpfs",
            "    os: debian",
            "    images:",
            "      kernel:",
            "        image_arg: \(yamlString("-kernel {kernel} -append \"\(kernelArguments)\""))",
            "        url: \(yamlString(kernelURL))",
        ]
        if let initrdURL {
            lines += [
                "      initrd:",
                "        image_arg: \(yamlString("-initrd {initrd}"))",
                "        url: \(yamlString(initrdURL))",
            ]
        }
        if let rootfsURL {
            lines += [
                "      rootfs:",
                "        image_arg: \(yamlString("-drive format=raw,file={rootfs}"))",
                "        url: \(yamlString(rootfsURL))",
            ]
            if let compression = Self.compression(of: rootfsURL) { lines.append("        compression: \(compression)") }
            if let packageURL {
                // LAVA writes the overlay into the image before the boot (its `overlays` need the image's format).
                lines += [
                    "        format: ext4",
                    "        overlays:",
                    "          regress:",
                    "            url: \(yamlString(packageURL))",
                    "            format: tar",
                    "            path: \(yamlString("/"))",
                ]
                if let compression = Self.compression(of: packageURL) { lines.append("            compression: \(compression)") }
            }
        }
        lines += [
            "- boot:",
            "    timeout:",
            "      minutes: 5",
            "    method: qemu",
            "    media: tmpfs",
            "    prompts:",
        ]
        lines += prompts.map { "    - \(yamlString($0))" }
        if let login {
            lines += [
                "    auto_login:",
                "      login_prompt: \(yamlString("login:"))",
                "      username: \(yamlString(login))",
            ]
        }
        lines += [
            "- test:",
            "    timeout:",
            "      minutes: \(testMinutes)",
            "    definitions:",
        ]
        lines += packageURL == nil ? gitDefinition() : inlineDefinition()
        return lines.joined(separator: "\n") + "\n"
    }

    /// lava/regress.yaml from the repository, which builds regress unless the image has it.
    private func gitDefinition() -> [String] {
        var lines = [
            "    - repository: \(yamlString(repository ?? ""))",
            "      from: git",
        ]
        if let revision { lines.append("      revision: \(yamlString(revision))") }
        lines += [
            "      path: \(Self.definitionPath)",
            "      name: regress",
            "      parameters:",
            "        TESTS: \(yamlString(tests.joined(separator: " ")))",
            "        GROUP: \(yamlString(group))",
            "        SHARD: \(yamlString(shard ?? ""))",
        ]
        return lines
    }

    /// The package's own helper, from the overlay: no clone, no build. The arguments are test, group and
    /// shard names the CLI has checked (letters, digits and `._+-@=,/`), so they need no shell quoting.
    private func inlineDefinition() -> [String] {
        let step = ([Self.packagedHelper, "run", shard ?? "''", group] + tests).joined(separator: " ")
        return [
            "    - repository:",
            "        metadata:",
            "          format: \(yamlString("Lava-Test Test Definition 1.0"))",
            "          name: regress",
            "          description: \(yamlString("regress from its package: Linux filesystem bug reproducers as regression tests"))",
            "        run:",
            "          steps:",
            "          - \(yamlString(step))",
            "      from: inline",
            "      path: inline/regress.yaml",
            "      name: regress",
        ]
    }

    /// LAVA decompresses an image it downloads when told how: by the URL's suffix.
    static func compression(of url: String) -> String? {
        let path = URL(string: url)?.path ?? url
        for (suffix, name) in [(".gz", "gz"), (".xz", "xz"), (".bz2", "bz2"), (".zst", "zstd"), (".zip", "zip")] where path.hasSuffix(suffix) {
            return name
        }
        return nil
    }
}

/// A YAML double-quoted scalar that is also a JSON string (YAML 1.1 and 1.2 read JSON's escapes alike):
/// quotes, backslashes and every control character escaped, so that the value stays one scalar.
func yamlString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
                  || scalar.value == 0xfeff || scalar.value >= 0xfffe && scalar.value <= 0xffff:
            out += "\\u" + hexDigits(scalar.value, width: 4)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
