import XCTest
@testable import RegressCore

/// What a step promises, said once (StepPromise), and the views derived from it: explore's workload state
/// and the crash-state reproducer ask it, and the model keeps a power cut's uncertainty through the steps
/// after it until a step's outcome depends on it (PowerCutResolution).
final class StepPromiseTests: XCTestCase {
    func steps(_ body: String) throws -> [Step] {
        try TestParser(path: "t", name: "t").parse("summary: s\nsteps:\n" + body).steps
    }

    func testDurabilityIsWhatTheKernelPromises() throws {
        let s = try steps("""
            f: pwrite 0 4k
            f: fsync
            f: fdatasync
            f: -s pwrite 0 4k
            f: pwrite -D 0 4k
            f: pwrite -W 0 4k
            f: mmap 0 8k
            f: msync -s
            f: msync -a 0 4k
            drop-caches
            sync
            remount
            f: close
            f: sync_range 0 4k
            """)
        let durable = StepPromise.promises(of: s).map { $0.makesDurable("f") }
        XCTAssertEqual(durable, [false, true, true, true, true, true, false, true, false, false, true, true, false, false])
        XCTAssertFalse(StepPromise.promises(of: s)[1].makesDurable("g"), "an fsync of f promises nothing of g")
    }

    func testMsyncWithoutARangeSyncsTheWholeMappingInWholePages() throws {
        let s = try steps("f: pwrite 0 16k\nf: mmap 4k 6k\nf: msync -s")
        XCTAssertEqual(StepPromise.promises(of: s)[2].changes, [.makeRangeDurable(file: "f", range: ByteRange(offset: 4096, length: 8192))])
    }

    func testAStoreThroughAMappingEndsAtTheEndOfFile() throws {
        let s = try steps("f: pwrite 0 6k\nf: mmap 0 8k\nf: mwrite -S 0x41")
        let promise = StepPromise(s[2], StepPromise.Context(mappedRange: ByteRange(offset: 0, length: 8192), fileSize: 6144))
        XCTAssertEqual(promise.changes, [.write(file: "f", byte: 0x41, range: ByteRange(offset: 0, length: 6144), durable: false)])
    }

    func testAWriteThatEndedShortPromisesWhatItWrote() throws {
        let write = try steps("f: pwrite -b 1m 0 4m")[0]
        let short = StepPromise(write, StepPromise.Context(written: [ByteRange(offset: 0, length: 1 << 20), ByteRange(offset: 1 << 20, length: 4096)]))
        XCTAssertEqual(short.changes, [.create(file: "f"), .write(file: "f", byte: 0xcd, range: ByteRange(offset: 0, length: 1 << 20), durable: false),
                                       .write(file: "f", byte: 0xcd, range: ByteRange(offset: 1 << 20, length: 4096), durable: false)])
    }

    func testDropCachesSyncsNothing() throws {
        XCTAssertEqual(StepPromise(try steps("f: pwrite 0 4k\ndrop-caches")[1]).changes, [])
    }

    /// Explore's operations are syntax: their meaning is the parsed line's promise, so the two must agree.
    func testEveryWorkloadStepMeansWhatItsLineParsesTo() throws {
        for fs in FilesystemKind.allCases {
            for fault in [nil] + InjectedFault.allCases {
                let generator = WorkloadGenerator(filesystem: fs, seed: 77, operations: 24)
                for index in 0..<60 {
                    var workload = generator.workload(index)
                    if let fault { workload = fault.inject(into: workload) }
                    let parsed = try workload.parse().steps
                    for (step, parsedStep) in zip(workload.steps, parsed) {
                        let (command, file, openFlags) = step.command
                        XCTAssertEqual(command, parsedStep.command, step.line)
                        XCTAssertEqual(file, parsedStep.file, step.line)
                        XCTAssertEqual(openFlags, parsedStep.openFlags, step.line)
                    }
                }
            }
        }
    }

    // MARK: after a power cut

    func model(_ body: String) throws -> (ContentModel, [Step]) {
        var model = ContentModel()
        let all = try steps(body)
        for step in all {
            for change in StepPromise(step).changes { model.apply(change) }
        }
        return (model, all)
    }

    func testAWriteAfterTheCutKeepsTheUncertaintyInBothVersions() throws {
        var (model, _) = try self.model("f: pwrite -S 1 0 8k\nf: fsync\nf: pwrite -S 2 0 8k\npower-cut")
        let write = try steps("f: pwrite -S 1 0 8k\nf: pwrite -S 3 0 4k")[1]
        XCTAssertEqual(model.unresolved(before: write, promising: StepPromise(write)), [], "a write applies to old and new alike")
        for change in StepPromise(write).changes { model.apply(change) }
        guard case .either(let old?, let new) = model.expected(for: "f") else { return XCTFail("f must stay uncertain") }
        XCTAssertEqual(old.byte(at: 0), 3)
        XCTAssertEqual(new.byte(at: 0), 3)
        XCTAssertEqual(old.byte(at: 4096), 1, "the durable block stays old in the old version")
        XCTAssertEqual(new.byte(at: 4096), 2)
    }

    func testStepsWhoseOutcomeDependsOnTheCutReadFirst() throws {
        let (model, _) = try self.model("f: pwrite -S 1 0 8k\nf: fsync\nf: pwrite -S 2 0 8k\ng: pwrite 0 4k\npower-cut")
        let later = try steps("f: pwrite 0 8k\ng: pwrite 0 4k\nf: fsync\nsync\nf: fcollapse 0 4k\ng: pread 0 4k\nf: pread 0 4k\npower-cut")
        func needed(_ index: Int) -> [String] { model.unresolved(before: later[index], promising: StepPromise(later[index])) }
        XCTAssertEqual(needed(2), ["f"], "an fsync makes durable whichever version the disk kept")
        XCTAssertEqual(needed(3), ["f", "g"], "so does a sync, of every file")
        XCTAssertEqual(needed(4), ["f"], "collapse refuses a range past the end of file: old and new sizes differ")
        XCTAssertEqual(needed(5), ["g"], "g was never durable: it may be gone")
        XCTAssertEqual(needed(6), [], "a read of a file that exists changes nothing in the model")
        XCTAssertEqual(needed(7), ["f", "g"], "a second cut starts from what the first left")
    }

    func testACloneFromAnUncertainSourceMakesTheDestinationAsUncertain() throws {
        var (model, _) = try self.model("s: pwrite -S 1 0 4k\nd: pwrite -S 9 0 4k\nsync\ns: pwrite -S 2 0 4k\npower-cut")
        let clone = try steps("s: pwrite 0 4k\nd: pwrite 0 4k\nd: reflink s 0 0 4k")[2]
        XCTAssertEqual(model.unresolved(before: clone, promising: StepPromise(clone)), [])
        for change in StepPromise(clone).changes { model.apply(change) }
        func map(_ byte: UInt8) -> ExtentMap { var map = ExtentMap(); map.write(byte, over: 0..<4096); return map }
        XCTAssertEqual(model.expected(for: "d"), .either(old: map(1), new: map(2)))
    }
}
