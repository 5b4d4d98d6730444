import XCTest
@testable import RegressCore

/// `regress explore`'s generator: what it writes is always a test the real parser takes, valid by the
/// workload's own rules, the same for the same seed, and only what each filesystem can do.
final class WorkloadGeneratorTests: XCTestCase {
    func testEveryWorkloadParsesAndKeepsTheRules() throws {
        for fs in FilesystemKind.allCases {
            let generator = WorkloadGenerator(filesystem: fs, seed: 0x5eed, operations: 24)
            for index in 0..<200 {
                let workload = generator.workload(index)
                XCTAssertNil(workload.problem, "\(fs) workload \(index)")
                let test: TestDefinition
                do { test = try workload.parse() } catch {
                    XCTFail("\(fs) workload \(index) does not parse: \(error)\n\(workload.text())")
                    continue
                }
                XCTAssertEqual(test.steps.count, workload.steps.count)
                XCTAssertEqual(test.filesystems, [fs])
                XCTAssertEqual(test.steps.suffix(2).map(\.name), ["power-cut", "verify"])
                // Each step's text is the line the workload wrote: nothing lost between the two.
                XCTAssertEqual(test.steps.map(\.text), workload.steps.map(\.line))
            }
        }
    }

    func testTheSameSeedGivesTheSameWorkloadByteForByte() {
        let a = WorkloadGenerator(filesystem: .btrfs, seed: 1, operations: 20)
        let b = WorkloadGenerator(filesystem: .btrfs, seed: 1, operations: 20)
        for index in [0, 1, 7, 99] { XCTAssertEqual(a.workload(index).text(), b.workload(index).text()) }
        // Workloads differ from one another and from another seed's.
        let texts = Set((0..<20).map { a.workload($0).text() })
        XCTAssertEqual(texts.count, 20)
        XCTAssertNotEqual(a.workload(0).text(), WorkloadGenerator(filesystem: .btrfs, seed: 2, operations: 20).workload(0).text())
        // Pinned: a change of the generator changes what every seed means, so it must be deliberate.
        XCTAssertEqual(a.workload(0).steps.first?.line, pinnedFirstStep, a.workload(0).text())
    }

    /// The first step of seed 1's workload 0 on btrfs (update it, and say so, when the generator changes).
    let pinnedFirstStep = "d: pwrite -S 0x7e 845141 12747"

    func testEachFilesystemGetsOnlyWhatItCanDo() throws {
        var seen: [FilesystemKind: Set<String>] = [:]
        for fs in FilesystemKind.allCases {
            let generator = WorkloadGenerator(filesystem: fs, seed: 42, operations: 30)
            for index in 0..<120 {
                let test = try generator.workload(index).parse()
                for step in test.steps { seen[fs, default: []].insert(step.name) }
                XCTAssertTrue(test.requires.isSubset(of: fs.features), "\(fs): requires \(test.requires)")
                // What it requires is what a plan on this filesystem runs, not skips.
                XCTAssertTrue(test.requires.subtracting(fs.features).isEmpty)
            }
        }
        XCTAssertTrue(seen[.btrfs]!.isSuperset(of: ["reflink", "dedupe"]))
        XCTAssertTrue(seen[.btrfs]!.isDisjoint(with: ["fcollapse", "finsert"]))
        XCTAssertTrue(seen[.xfs]!.isSuperset(of: ["reflink", "dedupe", "fcollapse", "finsert"]))
        XCTAssertTrue(seen[.ext4]!.isSuperset(of: ["fcollapse", "finsert"]))
        XCTAssertTrue(seen[.ext4]!.isDisjoint(with: ["reflink", "dedupe"]))
        for fs in FilesystemKind.allCases {
            XCTAssertTrue(seen[fs]!.isSuperset(of: ["pwrite", "truncate", "falloc", "fpunch", "fzero", "fsync", "fdatasync", "sync",
                                                    "syncfs", "rename", "link", "unlink", "mkdir", "power-cut", "verify"]), "\(fs): \(seen[fs]!.sorted())")
        }
    }

    func testSomeWorkloadsFillTheFilesystemAndAllowENOSPCOnlyWhileFull() throws {
        var fills = 0
        for index in 0..<300 {
            let workload = WorkloadGenerator(filesystem: .xfs, seed: 9, operations: 20).workload(index)
            guard let fill = workload.steps.firstIndex(where: { if case .fill = $0.operation { return true } else { return false } }) else {
                XCTAssertFalse(workload.steps.contains { $0.mayRunOutOfSpace }, "allow ENOSPC without a fill: \(workload.text())")
                continue
            }
            fills += 1
            let test = try workload.parse()
            XCTAssertEqual(test.steps[fill].expectation, .allow([.ENOSPC]))
            let unlink = try XCTUnwrap(workload.steps.firstIndex { if case .unlink(let name) = $0.operation { return name.hasPrefix("pad") } else { return false } })
            XCTAssertEqual(workload.steps[unlink + 1].operation, .sync, "the unlink's blocks come back at the sync")
            for (index, step) in workload.steps.enumerated() where step.operation != .sync {
                XCTAssertEqual(step.mayRunOutOfSpace, index > fill && index < unlink, step.line)
            }
        }
        XCTAssertGreaterThan(fills, 10, "about one workload in eight fills the filesystem")
        XCTAssertLessThan(fills, 80)
    }

    func testBlockAlignmentWhereTheKernelNeedsIt() {
        var unalignedWrites = 0, alignedWrites = 0
        for fs in FilesystemKind.allCases {
            for index in 0..<100 {
                for step in WorkloadGenerator(filesystem: fs, seed: 3, operations: 30).workload(index).steps {
                    switch step.operation {
                    case .collapse(_, let offset, let length), .insert(_, let offset, let length):
                        XCTAssertTrue(offset % 4096 == 0 && length % 4096 == 0 && length > 0, step.line)
                    case .reflink(_, _, let sourceOffset, let offset, let length), .dedupe(_, _, let sourceOffset, let offset, let length, _):
                        XCTAssertTrue(sourceOffset % 4096 == 0 && offset % 4096 == 0 && length % 4096 == 0 && length > 0, step.line)
                    case .write(_, let offset, let length, _, let direct):
                        if direct { XCTAssertTrue(offset % 4096 == 0 && length % 4096 == 0, step.line) }
                        if offset % 4096 == 0 && length % 4096 == 0 { alignedWrites += 1 } else { unalignedWrites += 1 }
                    default: break
                    }
                }
            }
        }
        XCTAssertGreaterThan(alignedWrites, 100)
        XCTAssertGreaterThan(unalignedWrites, 100)
    }

    func testTheRulesRefuseWhatWouldFailAnotherWay() {
        func problem(_ fs: FilesystemKind, _ operations: [WorkloadOperation]) -> String? {
            Workload(filesystem: fs, seed: 0, index: 0, steps: operations.map { WorkloadStep($0) } + [WorkloadStep(.powerCut), WorkloadStep(.verify(nil))]).problem
        }
        let write = WorkloadOperation.write(file: "a", offset: 0, length: 16384, pattern: 1, direct: false)
        XCTAssertNil(problem(.xfs, [write, .fsync("a"), .collapse(file: "a", offset: 4096, length: 8192)]))
        XCTAssertNotNil(problem(.xfs, [write, .collapse(file: "a", offset: 4096, length: 12288)]), "a collapse must end before EOF")
        XCTAssertNotNil(problem(.xfs, [write, .collapse(file: "a", offset: 100, length: 4096)]), "a collapse needs whole blocks")
        XCTAssertNotNil(problem(.btrfs, [write, .collapse(file: "a", offset: 0, length: 4096)]), "btrfs has no collapse")
        XCTAssertNotNil(problem(.ext4, [write, .reflink(file: "b", source: "a", sourceOffset: 0, offset: 0, length: 4096)]), "ext4 has no reflink")
        XCTAssertNotNil(problem(.btrfs, [.fsync("a")]), "fsync of a file nothing made")
        XCTAssertNotNil(problem(.btrfs, [write, .reflink(file: "a", source: "a", sourceOffset: 0, offset: 4096, length: 8192)]), "overlapping clone")
        XCTAssertNotNil(problem(.btrfs, [write, .reflink(file: "b", source: "a", sourceOffset: 8192, offset: 0, length: 12288)]), "beyond the source's end")
        // dedupe's expectation follows the bytes.
        let copy = WorkloadOperation.reflink(file: "b", source: "a", sourceOffset: 0, offset: 0, length: 8192)
        XCTAssertNil(problem(.btrfs, [write, copy, .dedupe(file: "b", source: "a", sourceOffset: 0, offset: 0, length: 8192, differs: false)]))
        XCTAssertNotNil(problem(.btrfs, [write, copy, .dedupe(file: "b", source: "a", sourceOffset: 0, offset: 0, length: 8192, differs: true)]))
        XCTAssertNil(problem(.btrfs, [write, copy, .dedupe(file: "a", source: "b", sourceOffset: 0, offset: 8192, length: 8192, differs: false)]),
                     "b[0,8k) holds 0x01, a[8k,16k) too: the same bytes")
        let other = WorkloadOperation.write(file: "c", offset: 0, length: 8192, pattern: 2, direct: false)
        XCTAssertNil(problem(.btrfs, [write, other, .dedupe(file: "c", source: "a", sourceOffset: 0, offset: 0, length: 8192, differs: true)]),
                     "different bytes: EBADE is the right expectation")
        XCTAssertNotNil(problem(.btrfs, [write, copy, .dedupe(file: "a", source: "b", sourceOffset: 0, offset: 12288, length: 8192, differs: true)]),
                        "beyond the destination's end")
        // rename(2) between two names of one file keeps both: the model would not, so it is never drawn.
        XCTAssertNotNil(problem(.ext4, [write, .link(from: "a", to: "b"), .rename(from: "a", to: "b")]))
        // A name in flux is not reused until a sync settles it: a crash may still show the old file there.
        XCTAssertNotNil(problem(.btrfs, [write, .sync, .write(file: "b", offset: 0, length: 1, pattern: 2, direct: false), .rename(from: "b", to: "a"), .fsync("a")]),
                        "a rename over an existing file")
        XCTAssertNotNil(problem(.btrfs, [write, .sync, .unlink("a"), .write(file: "a", offset: 0, length: 1, pattern: 2, direct: false), .fsync("a")]),
                        "a new file under a name just unlinked")
        XCTAssertNil(problem(.btrfs, [write, .sync, .unlink("a"), .sync, .write(file: "a", offset: 0, length: 1, pattern: 2, direct: false), .fsync("a")]))
        // The power cut waits for names not durable yet: the model takes names to be as durable as their files.
        XCTAssertNotNil(problem(.xfs, [write, .fsync("a"), .rename(from: "a", to: "b")]), "the renamed file must be fsynced before the cut")
        XCTAssertNil(problem(.xfs, [write, .fsync("a"), .rename(from: "a", to: "b"), .fsync("b")]))
        XCTAssertNotNil(problem(.ext4, [write, .fdatasync("a"), .rename(from: "a", to: "b"), .fdatasync("b")]),
                        "explore's ext4 finding: fdatasync need not persist a rename")
        // On a full filesystem a step may fail before its open made the file: it must not be what creates it.
        let full = [WorkloadStep(write), WorkloadStep(.fsync("a")), WorkloadStep(.fill(file: "pad", size: 300 << 20)),
                    WorkloadStep(.write(file: "e", offset: 0, length: 1, pattern: 2, direct: false), mayRunOutOfSpace: true)]
        XCTAssertNotNil(Workload(filesystem: .xfs, seed: 0, index: 0, steps: full).problem, "explore's xfs finding: fsync e got ENOENT")
        // A full filesystem: only steps that allow ENOSPC, until the padding's unlink is synced.
        let fill = WorkloadStep(.fill(file: "pad", size: 64 << 20))
        let steps = [WorkloadStep(write), fill, WorkloadStep(.truncate(file: "a", size: 0))]
        XCTAssertNotNil(Workload(filesystem: .ext4, seed: 0, index: 0, steps: steps).problem)
        let allowed = [WorkloadStep(write), WorkloadStep(.fsync("a")), fill, WorkloadStep(.truncate(file: "a", size: 0), mayRunOutOfSpace: true),
                       WorkloadStep(.unlink("pad")), WorkloadStep(.sync), WorkloadStep(write), WorkloadStep(.powerCut), WorkloadStep(.verify(nil))]
        XCTAssertNil(Workload(filesystem: .ext4, seed: 0, index: 0, steps: allowed).problem)
        var unsynced = allowed
        unsynced.remove(at: 5)
        XCTAssertNotNil(Workload(filesystem: .ext4, seed: 0, index: 0, steps: unsynced).problem, "freed blocks come back at the sync")
        // A file a full filesystem may have cut short has no known size: no collapse on it.
        let uncertain = [WorkloadStep(write), fill, WorkloadStep(write, mayRunOutOfSpace: true), WorkloadStep(.unlink("pad")),
                         WorkloadStep(.sync), WorkloadStep(.collapse(file: "a", offset: 0, length: 4096))]
        XCTAssertNotNil(Workload(filesystem: .ext4, seed: 0, index: 0, steps: uncertain + [WorkloadStep(.powerCut), WorkloadStep(.verify(nil))]).problem)
    }

    /// A power cut (or a crash state) may show each block's durable or newest version, nothing in between:
    /// no block changes twice between two durability points of its file, and sizes do not go back and forth.
    func testNoVersionBetweenTheDurableAndTheNewest() {
        func problem(_ operations: [WorkloadOperation]) -> String? {
            Workload(filesystem: .xfs, seed: 0, index: 0, steps: operations.map { WorkloadStep($0) } + [WorkloadStep(.powerCut), WorkloadStep(.verify(nil))]).problem
        }
        func write(_ offset: UInt64, _ length: UInt64, _ pattern: UInt8) -> WorkloadOperation {
            .write(file: "a", offset: offset, length: length, pattern: pattern, direct: false)
        }
        XCTAssertNil(problem([write(0, 4096, 1), write(4096, 4096, 2)]), "other blocks, a size that only grows")
        XCTAssertNotNil(problem([write(0, 4096, 1), write(0, 4096, 2)]), "block 0 would have three versions")
        XCTAssertNil(problem([write(0, 4096, 1), write(0, 4096, 1)]), "the same bytes again change nothing")
        XCTAssertNil(problem([write(0, 4096, 1), .fsync("a"), write(0, 4096, 2)]))
        XCTAssertNil(problem([write(0, 4096, 1), .sync, write(100, 1, 2)]))
        XCTAssertNotNil(problem([write(0, 16384, 1), .truncate(file: "a", size: 8192)]), "16k then 8k: the size went back")
        XCTAssertNotNil(problem([.truncate(file: "a", size: 1), .truncate(file: "a", size: 0)]),
                        "explore's first xfs finding: the 1-byte size reached the disk with another file's fdatasync")
        XCTAssertNil(problem([write(0, 8192, 1), .fdatasync("a"), .truncate(file: "a", size: 4096)]))
        XCTAssertNil(problem([write(0, 4096, 1), .link(from: "a", to: "b"), .fsync("b"), write(0, 4096, 2), .fsync("b")]),
                     "an fsync through another name makes the same file durable")
        // The generator puts the durability point in itself.
        for index in 0..<50 {
            XCTAssertNil(WorkloadGenerator(filesystem: .ext4, seed: 11, operations: 30).workload(index).problem)
        }
    }

    func testTheInjectedLieSitsAroundOneFsyncWithSomethingToLose() throws {
        for index in 0..<100 {
            let workload = InjectedFault.lyingFsync.inject(into: WorkloadGenerator(filesystem: .btrfs, seed: 5, operations: 12).workload(index))
            XCTAssertNil(workload.problem, workload.text())
            _ = try workload.parse()
            let on = try XCTUnwrap(workload.steps.firstIndex { $0.operation == .lyingCache(true) })
            XCTAssertEqual(workload.steps[on + 2].operation, .lyingCache(false))
            switch workload.steps[on + 1].operation {
            case .fsync(let name), .fdatasync(let name): XCTAssertFalse(name.contains("/"))
            default: XCTFail("the lie must surround an fsync: \(workload.text())")
            }
            XCTAssertEqual(workload.steps.filter { $0.operation == .lyingCache(true) }.count, 1)
        }
        let dropped = InjectedFault.droppedFsync.inject(into: WorkloadGenerator(filesystem: .ext4, seed: 5, operations: 12).workload(0))
        let drop = try XCTUnwrap(dropped.steps.firstIndex { $0.operation == .dropWrites })
        XCTAssertEqual(dropped.steps[drop + 2].line, "clear-faults")
        XCTAssertEqual(dropped.steps[drop].line, "drop-writes 0 0")
        _ = try dropped.parse()
    }
}
