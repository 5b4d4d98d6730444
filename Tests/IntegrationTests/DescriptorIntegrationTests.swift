import Foundation
import XCTest
import RegressCore
import RegressRunner

/// The calls regress makes around a file's steps, as strace sees them: one open for a file's steps (as
/// `xfs_io -c … -c … -c … F` makes), another only after `close`, and no sync a script would not make.
final class DescriptorIntegrationTests: IntegrationTestCase {
    /// The test run under `strace -ff` (one trace a process, so that no call is split across lines by
    /// another process's), and the traced calls of the process that ran the steps: the one that opened
    /// `file` read-write.
    func trace(_ name: String, file: String, _ text: String) throws -> [String] {
        _ = try define(name, text)
        let prefix = directory + "/\(name).strace"
        let binary = try XCTUnwrap(Self.regressExecutable)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        process.arguments = ["-ff", "-qq", "-e", "trace=openat,openat2,close,sync,syncfs,fsync,fdatasync", "-o", prefix,
                             binary, "run", "--tests-dir", testsDirectory, "--results", directory + "/results", name]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "regress run \(name) under strace")
        let traces = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("\(name).strace.") }
        for trace in traces {
            let lines = try String(contentsOfFile: directory + "/" + trace, encoding: .utf8).split(separator: "\n").map(String.init)
            if !stepOpens(of: file, in: lines).isEmpty { return lines }
        }
        XCTFail("no traced process opened \(file)")
        return []
    }

    /// The opens of `file` that a step made: read-write, as xfs_io opens its file (verify's reads are
    /// read-only opens of regress's own check).
    func stepOpens(of file: String, in trace: [String]) -> [Int] {
        trace.indices.filter { trace[$0].contains("openat2(") && trace[$0].contains("\"\(file)\"") && trace[$0].contains("O_RDWR") }
    }


    func testThreeStepsOnOneFileOpenItOnceAndDropCachesSyncsNothing() throws {
        let trace = try trace("three-steps", file: "held", """
        summary: three steps on one file and no close, then drop-caches
        filesystems: ext4
        steps:
        held: pwrite 0 8k
        held: pwrite 8k 8k
        held: pread 0 16k
        drop-caches
        verify
        """)
        let opens = stepOpens(of: "held", in: trace)
        XCTAssertEqual(opens.count, 1, trace.filter { $0.contains("held") }.joined(separator: "\n"))
        XCTAssertTrue(trace.contains { $0.contains("/proc/sys/vm/drop_caches") }, "the trace must see drop-caches")
        // (The case process fsyncs its own result file at the end: not the test's descriptor.)
        let fd = try XCTUnwrap(opens.first.flatMap { trace[$0].split(separator: "=").last?.trimmingCharacters(in: .whitespaces) })
        let syncs = trace.filter { line in
            ["sync(", "syncfs(", "fsync(\(fd))", "fdatasync(\(fd))"].contains { line.hasPrefix($0) }
        }
        XCTAssertEqual(syncs, [], "no step asked for a sync")
    }

    func testCloseEndsTheDescriptorAndTheNextStepOpensAgain() throws {
        let trace = try trace("close-reopen", file: "f", """
        summary: a close between two steps, as two xfs_io invocations
        filesystems: ext4
        steps:
        f: pwrite 0 4k
        f: close
        f: fsync
        verify
        """)
        let opens = stepOpens(of: "f", in: trace)
        XCTAssertEqual(opens.count, 2, trace.filter { $0.contains("\"f\"") }.joined(separator: "\n"))
        guard opens.count == 2 else { return }
        // The first descriptor is closed before the second open.
        let fd = try XCTUnwrap(trace[opens[0]].split(separator: "=").last?.trimmingCharacters(in: .whitespaces))
        XCTAssertTrue(trace[opens[0]..<opens[1]].contains { $0.hasPrefix("close(\(fd))") }, "close(\(fd)) before the reopen")
    }
}
