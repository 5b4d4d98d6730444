/// Which regress made a result: its version and the git commit it was built from, so that a farm's
/// results (KCIDB, LAVA) and every report can be traced to the code that produced them. The package's
/// version (scripts/package names its tarball after it) is `number`.
public struct RegressVersion: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The release this source tree is: bumped by hand when a release is cut.
    public static let number = "0.1.0"

    public var version: String
    /// The full commit hash, `-dirty` after it when tracked files differed from it at build time, or
    /// "unknown" for a build outside a git clone.
    public var commit: String

    public init(version: String = RegressVersion.number, commit: String) {
        self.version = version
        self.commit = commit
    }

    /// `080a94f` (`080a94f-dirty`): the commit as a human report prints it.
    public var shortCommit: String {
        guard commit != "unknown" else { return commit }
        let dirty = commit.hasSuffix("-dirty")
        let hash = dirty ? String(commit.dropLast("-dirty".count)) : commit
        return String(hash.prefix(12)) + (dirty ? "-dirty" : "")
    }

    /// `regress 0.1.0 (commit 080a94f…)`: what `regress --version` prints.
    public var description: String { "regress \(version) (commit \(commit))" }
}
