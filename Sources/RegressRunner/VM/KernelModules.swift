#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The modules of one installed kernel release, read from its modules.dep and modules.builtin (what
/// depmod wrote): which files a module needs, dependencies first, and which modules are built in.
public struct KernelModules: Sendable {
    /// module name (`9pnet_virtio`) -> its file, relative to the modules directory
    let files: [String: String]
    /// module name -> names of the modules it needs, as modules.dep lists them
    let dependencies: [String: [String]]
    let builtIn: Set<String>
    public let directory: String

    /// What a module name is in depmod's files: the file name without .ko[.xz|.zst|.gz], '-' spelled '_'.
    static func moduleName(_ file: Substring) -> String {
        var name = String(file.split(separator: "/").last ?? file)
        if let range = name.firstRange(of: ".ko") { name = String(name[..<range.lowerBound]) }
        return name.replacing("-", with: "_")
    }

    public init(directory: String) throws {
        let dep = try String(contentsOfFile: directory + "/modules.dep", encoding: .utf8)
        let builtin = (try? String(contentsOfFile: directory + "/modules.builtin", encoding: .utf8)) ?? ""
        self.init(directory: directory, modulesDep: dep, modulesBuiltin: builtin)
    }

    public init(directory: String, modulesDep: String, modulesBuiltin: String) {
        var files: [String: String] = [:]
        var dependencies: [String: [String]] = [:]
        for line in modulesDep.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = KernelModules.moduleName(line[..<colon])
            files[name] = String(line[..<colon])
            dependencies[name] = line[line.index(after: colon)...].split(separator: " ").map(KernelModules.moduleName)
        }
        self.directory = directory
        self.files = files
        self.dependencies = dependencies
        self.builtIn = Set(modulesBuiltin.split(separator: "\n").map(KernelModules.moduleName))
    }

    /// The files to load, in an order insmod accepts (every module after what it needs), for `names`;
    /// built-in modules need nothing. Names this kernel has neither as a module nor built in are `missing`.
    public func loadOrder(_ names: [String]) -> (files: [String], missing: [String]) {
        var order: [String] = []
        var visited: Set<String> = []
        var missing: [String] = []
        func visit(_ name: String) {
            guard !visited.contains(name) else { return }
            visited.insert(name)
            guard let file = files[name] else {
                if !builtIn.contains(name) { missing.append(name) }
                return
            }
            // modules.dep lists the dependencies of the dependencies too, the deepest last.
            for dependency in (dependencies[name] ?? []).reversed() { visit(dependency) }
            order.append(file)
        }
        names.map { $0.replacing("-", with: "_") }.forEach(visit)
        return (order, missing)
    }
}
