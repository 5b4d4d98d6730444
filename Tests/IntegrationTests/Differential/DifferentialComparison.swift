import RegressCore

/// Where regress and xfs_io parted ways on one sequence: each step whose errno differs, each file whose
/// existence, size or bytes differ (the first differing byte range, with both sides' bytes there), and the
/// first file operation of the strace traces that differs. Traces that differ only in their opens and
/// closes are told apart (`openCloseOnly`): a descriptor opened or closed elsewhere than xfs_io holds it.
struct DifferentialComparison {
    let sequence: StepSequence
    let filesystem: FilesystemKind
    var findings: [String] = []
    /// The first difference of the strace traces, apart from the steps' and files' findings.
    var traceFinding: String?
    /// The traces differ, and would not without their open and close calls.
    var openCloseOnly = false

    init(_ sequence: StepSequence, on filesystem: FilesystemKind, xfsIO: SideOutcome, regress: SideOutcome) {
        self.sequence = sequence
        self.filesystem = filesystem
        for (index, step) in sequence.steps.enumerated() {
            if let problem = xfsIO.problems[index] { findings.append("step \(index) (\(step.regressLine)): \(problem)") }
            let expected = index < xfsIO.errnos.count ? xfsIO.errnos[index] : nil
            let got = index < regress.errnos.count ? regress.errnos[index] : nil
            if expected != got {
                findings.append("step \(index) (\(step.regressLine)): xfs_io \(expected?.name ?? "ok"), regress \(got?.name ?? "ok")")
            }
        }
        for file in sequence.files {
            let theirs = xfsIO.files[file] ?? nil, ours = regress.files[file] ?? nil
            switch (theirs, ours) {
            case (nil, nil):
                continue
            case (nil, .some(let bytes)):
                findings.append("\(file): absent after xfs_io, \(bytes.count) bytes after regress")
            case (.some(let bytes), nil):
                findings.append("\(file): \(bytes.count) bytes after xfs_io, absent after regress")
            case (.some(let a), .some(let b)):
                if a.count != b.count { findings.append("\(file): size \(a.count) after xfs_io, \(b.count) after regress") }
                if let range = Self.firstDifference(a, b) {
                    let theirByte = range.lowerBound < a.count ? hex(a[range.lowerBound]) : "EOF"
                    let ourByte = range.lowerBound < b.count ? hex(b[range.lowerBound]) : "EOF"
                    findings.append("\(file): bytes \(range.lowerBound)..<\(range.upperBound) differ: xfs_io \(theirByte), regress \(ourByte)")
                }
            }
        }
        compare(xfsIO.operations, regress.operations)
    }

    var agreed: Bool { findings.isEmpty && traceFinding == nil }


    /// The first difference of the two traces, with a few calls of context on each side.
    mutating func compare(_ theirs: FileOperations, _ ours: FileOperations) {
        guard theirs != ours else { return }
        func withoutDescriptors(_ calls: [String]) -> [String] { calls.filter { !$0.hasPrefix("open(") && !$0.hasPrefix("close(") } }
        openCloseOnly = withoutDescriptors(theirs.calls) == withoutDescriptors(ours.calls)
        // Where the opens and closes differ, the first other difference says more.
        let descriptorsDiffer = !openCloseOnly && theirs.calls.filter { $0.hasPrefix("open(") || $0.hasPrefix("close(") }
            != ours.calls.filter { $0.hasPrefix("open(") || $0.hasPrefix("close(") }
        let a = descriptorsDiffer ? withoutDescriptors(theirs.calls) : theirs.calls
        let b = descriptorsDiffer ? withoutDescriptors(ours.calls) : ours.calls
        var first = 0
        while first < a.count && first < b.count && a[first] == b[first] { first += 1 }
        let context = max(0, first - 2)
        func excerpt(_ calls: [String]) -> String {
            calls[min(context, calls.count)..<min(first + 4, calls.count)].enumerated()
                .map { "      \(context + $0.offset): \($0.element)" }.joined(separator: "\n")
        }
        traceFinding = ("""
            strace: \(openCloseOnly ? "only the opens and closes differ" : descriptorsDiffer ? "the file operations differ (also in opens and closes, left out here)" : "the file operations differ"), first at call \(first) (xfs_io \(a.count) calls, regress \(b.count)):
              xfs_io:
            \(excerpt(a))
              regress:
            \(excerpt(b))
            """)
    }

    /// Everything needed to replay the disagreement, the sequence in both spellings.
    var report: String {
        """
        \(sequence.name) on \(filesystem.rawValue) (replay: REGRESS_DIFF_SEED=0x\(String(sequence.seed, radix: 16)) REGRESS_DIFF_ONLY=\(sequence.index)):
        \((findings + (traceFinding.map { [$0] } ?? [])).map { "  - " + $0 }.joined(separator: "\n"))
          steps:
        \(sequence.listing)
        """
    }

    /// The first run of positions (within the common length) where the bytes differ; past the shorter
    /// file's end, the rest of the longer one.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Range<Int>? {
        let common = min(a.count, b.count)
        var start = 0
        while start < common && a[start] == b[start] { start += 1 }
        if start == common { return a.count == b.count ? nil : common..<max(a.count, b.count) }
        var end = start
        while end < common && a[end] != b[end] { end += 1 }
        return start..<end
    }
}

private func hex(_ byte: UInt8) -> String { "0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16) }
