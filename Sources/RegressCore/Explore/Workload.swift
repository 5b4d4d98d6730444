/// A generated workload: steps on one filesystem, ending with a power cut and a verify of every file,
/// written as a tests.d file that `regress run` (and the real `TestParser`) reads like a human's.
public struct Workload: Equatable, Sendable {
    public var filesystem: FilesystemKind
    public var seed: UInt64
    public var index: Int
    public var steps: [WorkloadStep]

    public init(filesystem: FilesystemKind, seed: UInt64, index: Int, steps: [WorkloadStep]) {
        self.filesystem = filesystem
        self.seed = seed
        self.index = index
        self.steps = steps
    }

    /// `explore-btrfs-1-17`: a test name (lowercase words and `-`).
    public var name: String { "explore-\(filesystem.rawValue)-\(seed)-\(index)" }

    /// Small images: mkfs and the crash-state search cost less, and filling one to ENOSPC takes a moment.
    public static func imageSize(_ filesystem: FilesystemKind) -> UInt64 {
        switch filesystem {
        case .btrfs: return 256 << 20
        case .xfs: return 300 << 20
        case .ext4: return 64 << 20
        }
    }

    /// The operations the filesystem must have, for the `requires:` line.
    public var requirements: [FilesystemKind.Feature] {
        var needed: Set<FilesystemKind.Feature> = []
        for step in steps {
            switch step.operation {
            case .reflink: needed.insert(.reflink)
            case .dedupe: needed.insert(.dedupe)
            case .collapse: needed.insert(.collapse)
            case .insert: needed.insert(.insert)
            default: break
            }
        }
        return FilesystemKind.Feature.allCases.filter(needed.contains)
    }

    /// The tests.d text; `comment` lines go first, as `# …`.
    public func text(comment: [String] = []) -> String {
        var lines = comment.map { $0.isEmpty ? "#" : "# " + $0 }
        lines += [
            "summary: workload \(index) of regress explore's seed \(seed) on \(filesystem.rawValue) must keep what it fsynced through a power cut",
            "groups: explore power-cut",
            "filesystems: \(filesystem.rawValue)",
            "size: \(Size.format(Workload.imageSize(filesystem)))",
        ]
        // mke2fs makes 1 KiB blocks below 512 MiB; the model's crash promises are per 4 KiB block.
        if filesystem == .ext4 { lines.append("mkfs.ext4: -b 4096") }
        if !requirements.isEmpty { lines.append("requires: " + requirements.map(\.rawValue).joined(separator: " ")) }
        lines.append("")
        lines.append("steps:")
        lines += steps.map(\.line)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The test as `regress run` would read it from `path`.
    public func parse(path: String? = nil) throws -> TestDefinition {
        try TestParser(path: path ?? name, name: name).parse(text())
    }

    /// Nil when every step may run where it stands with the expectation it carries (`WorkloadState`'s rules)
    /// and the workload ends with its power cut and verify; otherwise the first step that may not, and why.
    public var problem: String? {
        var state = WorkloadState(filesystem: filesystem)
        for (index, step) in steps.enumerated() {
            if let problem = state.problem(with: step) { return "step \(index + 1) '\(step.line)': \(problem)" }
            state.apply(step)
        }
        guard steps.suffix(2).map(\.operation) == [.powerCut, .verify(nil)] else { return "the workload must end with 'power-cut' and 'verify'" }
        return nil
    }

    /// The framing every workload keeps while it is shrunk: the power cut and the verify of every file after it.
    public static func isFraming(_ step: WorkloadStep) -> Bool {
        step.operation == .powerCut || step.operation == .verify(nil)
    }
}
