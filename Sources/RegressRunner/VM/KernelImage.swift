#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The kernel `regress run --kernel` boots: a bzImage, the release it says it is (from its own header), and
/// the installed modules of that release, if any. Resolved and checked on the host, before anything boots,
/// so that a wrong argument is a usage error (exit 2) and not a kernel that "failed to boot" (125).
public struct KernelImage: Equatable, Sendable {
    /// The bzImage QEMU loads with -kernel.
    public let path: String
    /// The first word of the version string in the bzImage header (`6.1.0-57-amd64`), as `uname -r` will say.
    public let release: String?
    /// /lib/modules/<release>, when that release's modules are installed there (with a modules.dep).
    public let modulesDirectory: String?

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case notFound(String)
        case noBzImage(String)
        case notAKernel(String, String)

        public var description: String {
            switch self {
            case .notFound(let spec):
                return "\(spec): no such kernel image, kernel build directory or installed kernel (/boot/vmlinuz-\(spec))"
            case .noBzImage(let directory):
                return "\(directory): a directory without arch/x86/boot/bzImage (build the kernel first: make bzImage)"
            case .notAKernel(let path, let why):
                return "\(path): not a kernel image: \(why)"
            }
        }
    }

    public init(path: String, release: String?, modulesDirectory: String?) {
        self.path = path
        self.release = release
        self.modulesDirectory = modulesDirectory
    }

    /// `spec` is a bzImage's path, a kernel build directory (its arch/x86/boot/bzImage) or an installed
    /// version (/boot/vmlinuz-VERSION). `modulesRoot` is where installed modules live (/lib/modules).
    public static func resolve(_ spec: String, bootDirectory: String = "/boot", modulesRoot: String = "/lib/modules") throws -> KernelImage {
        let path: String
        if let kind = fileKind(spec) {
            if kind == .directory {
                path = spec + "/arch/x86/boot/bzImage"
                guard FileManager.default.fileExists(atPath: path) else { throw Problem.noBzImage(spec) }
            } else {
                path = spec
            }
        } else if !spec.contains("/"), FileManager.default.fileExists(atPath: "\(bootDirectory)/vmlinuz-\(spec)") {
            path = "\(bootDirectory)/vmlinuz-\(spec)"
        } else {
            throw Problem.notFound(spec)
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        // The real-mode header and the version string it points to lie in the first 64 KiB.
        guard let header = readPrefix(of: absolute, count: 65536) else { throw Problem.notAKernel(absolute, "cannot read it") }
        let release = try releaseFromHeader(header, path: absolute)
        var modules: String?
        if let release, FileManager.default.fileExists(atPath: "\(modulesRoot)/\(release)/modules.dep") {
            modules = "\(modulesRoot)/\(release)"
        }
        return KernelImage(path: absolute, release: release, modulesDirectory: modules)
    }

    /// Checks the x86 boot protocol's header (Documentation/arch/x86/boot.rst): "HdrS" at 0x202, then the
    /// version string at 0x200 + kernel_version (0x20E). Returns the release, or nil if the header has none.
    static func releaseFromHeader(_ bytes: [UInt8], path: String) throws -> String? {
        if bytes.count >= 4, bytes[0..<4] == [0x7f, 0x45, 0x4c, 0x46] {
            throw Problem.notAKernel(path, "an ELF file (vmlinux?); give the bzImage, arch/x86/boot/bzImage")
        }
        guard bytes.count > 0x210, bytes[0x202..<0x206] == Array("HdrS".utf8)[...] else {
            throw Problem.notAKernel(path, "no x86 boot header (\"HdrS\" at 0x202), so not a bzImage")
        }
        let versionOffset = Int(bytes[0x20E]) | Int(bytes[0x20F]) << 8
        guard versionOffset != 0, 0x200 + versionOffset < bytes.count else { return nil }
        let text = bytes[(0x200 + versionOffset)...].prefix { $0 != 0 }.prefix(256)
        return String(decoding: text, as: UTF8.self).split(separator: " ").first.map(String.init)
    }
}
