/// Every workload of N core operations, each followed by a persistence point, then a power cut: the bounded
/// and systematic search of CrashMonkey's ACE (Mohan et al., OSDI 2018: "seq-1" and "seq-2" found 24 of 26
/// known crash-consistency bugs) over regress's own language, checked by its content model and crash
/// states instead of ACE's oracle.
///
/// Like ACE, the space is small on purpose: two files and a directory, a few ranges chosen to hit the
/// boundaries bugs live at (a block's middle, the end of file, past it), the core operations, and three
/// persistence points (fsync and fdatasync of the file touched, sync). Each workload starts from one of the
/// initial states (`Shape`), among them the full filesystem the seed's bug needed: a preallocated file,
/// the rest of the space filled to ENOSPC, and what follows allowed to run out of space.
public struct BoundedWorkloads: Sendable {
    /// The initial state a workload's operations start from.
    public enum Shape: String, CaseIterable, Sendable {
        /// `foo` (64 KiB) and `bar` (16 KiB) written and synced, a directory `A`.
        case files
        /// As `files`, with 256 KiB preallocated past `foo`'s end of file and the rest of the filesystem
        /// filled: every operation may get ENOSPC.
        case full
    }

    public let filesystem: FilesystemKind
    public let length: Int
    /// The workloads the rules accept, in a fixed order: the space's size is `workloads.count`.
    public let workloads: [Workload]
    /// Sequences the workload rules refuse (an operation the filesystem lacks, a name that does not exist
    /// after an unlink, a collapse past the end of file).
    public let refused: Int

    /// The seed a bounded workload names in its header: none is drawn, so it is 0 for every workload.
    public static let seed: UInt64 = 0

    public init(filesystem: FilesystemKind, length: Int) {
        precondition(length >= 1)
        self.filesystem = filesystem
        self.length = length
        var accepted: [Workload] = [], refused = 0
        for shape in Shape.allCases {
            let setup = BoundedWorkloads.setup(shape, filesystem)
            let pairs = BoundedWorkloads.operations(filesystem).flatMap { operation in
                BoundedWorkloads.persistence(after: operation).map { [operation, $0] }
            }
            var sequences: [[WorkloadOperation]] = [[]]
            for _ in 0..<length { sequences = sequences.flatMap { prefix in pairs.map { prefix + $0 } } }
            for sequence in sequences {
                let body = sequence.map { WorkloadStep($0, mayRunOutOfSpace: shape == .full && !WorkloadState.runsOnAFullFilesystem($0)) }
                let steps = setup + body + [WorkloadStep(.powerCut), WorkloadStep(.verify(nil))]
                let workload = Workload(filesystem: filesystem, seed: BoundedWorkloads.seed, index: accepted.count, steps: steps)
                if workload.problem == nil { accepted.append(workload) } else { refused += 1 }
            }
        }
        workloads = accepted
        self.refused = refused
    }

    static let foo = "foo", bar = "bar", directory = "A"

    /// The steps that make a shape's initial state, ending with a sync: the search starts from durable files.
    static func setup(_ shape: Shape, _ fs: FilesystemKind) -> [WorkloadStep] {
        var steps = [
            WorkloadStep(.mkdir(directory)),
            WorkloadStep(.write(file: foo, offset: 0, length: 64 << 10, pattern: 0x11, direct: false)),
            WorkloadStep(.write(file: bar, offset: 0, length: 16 << 10, pattern: 0x22, direct: false)),
        ]
        if shape == .full {
            steps.append(WorkloadStep(.allocate(file: foo, offset: 64 << 10, length: 256 << 10, keepSize: true)))
            steps.append(WorkloadStep(.sync))
            steps.append(WorkloadStep(.fill(file: "padding", size: Workload.imageSize(fs))))
        }
        steps.append(WorkloadStep(.sync))
        return steps
    }

    /// The core operations, each on `foo` unless it names another file: overwrites inside a block and
    /// across blocks, an append, a direct write, truncates down and up, fallocate past the end of file with
    /// and without KEEP_SIZE, punch and zero, collapse and insert, reflinks, a new file, rename, link, unlink.
    static func operations(_ fs: FilesystemKind) -> [WorkloadOperation] {
        var operations: [WorkloadOperation] = [
            .write(file: foo, offset: 4 << 10, length: 8 << 10, pattern: 0x33, direct: false),
            .write(file: foo, offset: 1000, length: 5000, pattern: 0x44, direct: false),
            .write(file: foo, offset: 64 << 10, length: 8 << 10, pattern: 0x55, direct: false),
            .write(file: foo, offset: 16 << 10, length: 16 << 10, pattern: 0x66, direct: true),
            .truncate(file: foo, size: 20000),
            .truncate(file: foo, size: 200 << 10),
            .allocate(file: foo, offset: 48 << 10, length: 64 << 10, keepSize: false),
            .allocate(file: foo, offset: 64 << 10, length: 64 << 10, keepSize: true),
            .punch(file: foo, offset: 8 << 10, length: 16 << 10),
            .zero(file: foo, offset: 6000, length: 20000, keepSize: false),
            .write(file: "baz", offset: 0, length: 12 << 10, pattern: 0x77, direct: false),
            .rename(from: foo, to: directory + "/foo2"),
            .link(from: foo, to: directory + "/link"),
            .unlink(bar),
        ]
        let features = fs.features
        if features.contains(.collapse) { operations.append(.collapse(file: foo, offset: 16 << 10, length: 16 << 10)) }
        if features.contains(.insert) { operations.append(.insert(file: foo, offset: 16 << 10, length: 16 << 10)) }
        if features.contains(.reflink) {
            operations.append(.reflink(file: bar, source: foo, sourceOffset: 0, offset: 4 << 10, length: 8 << 10))
            operations.append(.reflink(file: foo, source: foo, sourceOffset: 0, offset: 32 << 10, length: 16 << 10))
        }
        return operations
    }

    /// The persistence points after an operation: an fsync and an fdatasync of what it touched (for a name
    /// operation, the file under its new name, or the directory it left), and a sync.
    static func persistence(after operation: WorkloadOperation) -> [WorkloadOperation] {
        let touched: String
        switch operation {
        case .rename(_, let to), .link(_, let to): touched = to
        case .unlink: return [.fsync(directory), .sync]
        default: touched = WorkloadStep(operation).file ?? foo
        }
        return [.fsync(touched), .fdatasync(touched), .sync]
    }
}
