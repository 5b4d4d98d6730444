// FilesystemKind.swift, compiled into the fuzzer for its names and sizes, also probes the machine (runs
// mkfs.btrfs, reads /proc/filesystems) through System/ code that needs libmount. The parser never calls
// those probes; these stand-ins let the file compile alone, and trap if anything ever does call them.

enum FileSystemCalls {}

func readSmallFile(_ path: String) -> String? { fatalError("the parser read \(path)") }

struct Subprocess {
    struct Outcome { let output: String }
    static func run(_ arguments: [String]) throws -> Outcome { fatalError("the parser ran \(arguments)") }
}
