import XCTest
@testable import RegressCore

/// Durability as POSIX promises it: which content a power cut must leave, and which it may.
final class ContentModelTests: XCTestCase {
    private func map(_ writes: (UInt8, Range<UInt64>)..., size: UInt64? = nil) -> ExtentMap {
        var map = ExtentMap()
        for (byte, range) in writes { map.write(byte, over: range) }
        if let size { map.resize(to: size) }
        return map
    }

    func testUpdateCreatesTheFileAndVerifyExpectsItExactly() {
        var model = ContentModel()
        XCTAssertNil(model.expected(for: "f"))
        model.update("f") { $0.write(0xaa, over: 0..<4096) }
        XCTAssertEqual(model.fileNames, ["f"])
        XCTAssertEqual(model.content(of: "f"), map((0xaa, 0..<4096)))
        XCTAssertEqual(model.expected(for: "f"), .exact(map((0xaa, 0..<4096))))
    }

    func testFsyncedContentSurvivesAPowerCut() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<4096) }
        model.makeDurable("f")
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, [], "nothing is uncertain: the file was durable as it is")
        XCTAssertEqual(model.expected(for: "f"), .exact(map((0xaa, 0..<4096))))
    }

    func testWritesAfterTheFsyncAreOldOrNew() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<8192) }
        model.makeDurable("f")
        model.update("f") { $0.write(0xbb, over: 4096..<12288) }
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, ["f"])
        XCTAssertEqual(model.expected(for: "f"),
                       .either(old: map((0xaa, 0..<8192)), new: map((0xaa, 0..<4096), (0xbb, 4096..<12288))))
    }

    func testAFileNeverMadeDurableMayBeMissing() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<4096) }
        model.powerCut()
        XCTAssertEqual(model.expected(for: "f"), .either(old: nil, new: map((0xaa, 0..<4096))))
    }

    func testSyncMakesEveryFileDurable() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<4096) }
        model.update("g") { $0.write(0xbb, over: 0..<4096) }
        model.makeAllDurable()
        model.update("h") { $0.write(0xcc, over: 0..<4096) }
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, ["h"], "only the file written after the sync is uncertain")
    }

    func testFsyncOfOneFileLeavesTheOthersUncertain() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<4096) }
        model.update("g") { $0.write(0xbb, over: 0..<4096) }
        model.makeDurable("g")
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, ["f"])
    }

    func testDataSyncWriteMakesOnlyItsOwnBytesDurable() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<8192) }        // buffered, not durable
        model.writeDurably("f", 0xbb, over: 8192..<12288)             // O_DSYNC
        XCTAssertEqual(model.content(of: "f"), map((0xaa, 0..<8192), (0xbb, 8192..<12288)))
        model.powerCut()
        // The buffered bytes before it may be lost; the O_DSYNC bytes, and the size they need, may not.
        XCTAssertEqual(model.expected(for: "f"),
                       .either(old: map((0xbb, 8192..<12288)), new: map((0xaa, 0..<8192), (0xbb, 8192..<12288))))
    }

    func testDataSyncWriteOverADurableFileKeepsTheOldDurableBytes() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<8192) }
        model.makeDurable("f")
        model.writeDurably("f", 0xbb, over: 4096..<8192)
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, [], "content and durable content are the same")
        XCTAssertEqual(model.expected(for: "f"), .exact(map((0xaa, 0..<4096), (0xbb, 4096..<8192))))
    }

    func testResolveAdoptsWhatVerifyFound() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<8192) }
        model.makeDurable("f")
        model.update("f") { $0.write(0xbb, over: 0..<4096) }
        model.update("g") { $0.write(0xcc, over: 0..<4096) }
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, ["f", "g"])
        let found = map((0xaa, 0..<8192))
        model.resolve("f", to: found)
        model.resolve("g", to: nil)
        XCTAssertEqual(model.unresolvedAfterPowerCut, [])
        XCTAssertEqual(model.expected(for: "f"), .exact(found))
        XCTAssertNil(model.expected(for: "g"), "a file the cut took is gone from the model")
        XCTAssertEqual(model.fileNames, ["f"])
        // What was found is on disk: a second power cut must keep it.
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, [])
    }

    func testFsyncBeforeVerifyDoesNotSettleAnUncertainFile() {
        // The file's content after the cut is unknown until verify reads it; an fsync cannot make the
        // model's guess durable.
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<4096) }
        model.powerCut()
        model.makeDurable("f")
        model.makeAllDurable()
        XCTAssertEqual(model.unresolvedAfterPowerCut, ["f"])
    }

    func testRenameAndRemove() {
        var model = ContentModel()
        model.update("f") { $0.write(0xaa, over: 0..<4096) }
        model.makeDurable("f")
        model.rename("f", to: "d/g")
        XCTAssertEqual(model.fileNames, ["d/g"])
        XCTAssertEqual(model.expected(for: "d/g"), .exact(map((0xaa, 0..<4096))))
        model.rename("nosuch", to: "x")
        XCTAssertEqual(model.fileNames, ["d/g"])
        model.remove("d/g")
        XCTAssertEqual(model.fileNames, [])
    }

    func testRenamingADirectoryMovesTheFilesBeneathIt() {
        var model = ContentModel()
        for name in ["d/f", "d/sub/g", "dx/h"] { model.update(name) { $0.write(0xaa, over: 0..<4096) } }
        model.makeDurable("d/f")
        model.rename("d", to: "e")
        XCTAssertEqual(model.fileNames, ["dx/h", "e/f", "e/sub/g"], "'dx' only shares a prefix with 'd'")
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, ["dx/h", "e/sub/g"], "durability moves with the file")
    }

    func testHardLinksShareContentAndDurability() {
        var model = ContentModel()
        model.update("a") { $0.write(0x11, over: 0..<8192) }
        model.link("a", to: "b")
        model.update("b") { $0.write(0x22, over: 4096..<8192) }
        XCTAssertEqual(model.content(of: "a"), model.content(of: "b"), "a write through one name is seen through the other")
        XCTAssertEqual(model.content(of: "a")?.byte(at: 5000), 0x22)

        model.makeDurable("b")
        model.powerCut()
        XCTAssertEqual(model.unresolvedAfterPowerCut, [], "fsync through one name made the file durable")

        model.remove("a")
        XCTAssertEqual(model.fileNames, ["b"])
        XCTAssertEqual(model.content(of: "b")?.byte(at: 0), 0x11, "the file lives on under its other name")
        model.remove("b")
        XCTAssertEqual(model.files.count, 0)
    }

    func testRenameOverAnExistingNameReplacesIt() {
        var model = ContentModel()
        model.update("a") { $0.write(0x11, over: 0..<10) }
        model.update("b") { $0.write(0x22, over: 0..<20) }
        model.rename("a", to: "b")
        XCTAssertEqual(model.fileNames, ["b"])
        XCTAssertEqual(model.content(of: "b")?.size, 10)
    }
}
