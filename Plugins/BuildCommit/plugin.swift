import PackagePlugin

/// Embeds the git commit the binary is built from, so that `regress --version` and every report can say
/// which regress made them. A prebuild command runs at every build (a commit or a checkout changes nothing
/// SwiftPM tracks), and rewrites the generated file only when the commit changed, so an unchanged tree
/// recompiles nothing. Outside a git clone of this package (a source tarball, no git) the commit is
/// "unknown": the build never fails for want of git.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectory.appending("generated")
        return [.prebuildCommand(
            displayName: "Recording the git commit of \(context.package.directory.lastComponent)",
            executable: Path("/bin/sh"),
            arguments: ["-c", Self.script, "build-commit", context.package.directory.string, output.appending("BuildCommit.swift").string],
            outputFilesDirectory: output
        )]
    }

    /// `$1` the package directory, `$2` the file to write. The commit counts only if the package directory is
    /// the top of its work tree (a tarball unpacked inside some other repository is not that repository's
    /// commit); `-dirty` when tracked files differ from it.
    static let script = #"""
        top=$(git -C "$1" rev-parse --show-toplevel 2>/dev/null)
        commit=unknown
        if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$1" && pwd -P)" ]; then
            commit=$(git -C "$1" rev-parse HEAD 2>/dev/null) || commit=unknown
            if [ "$commit" != unknown ] && [ -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                commit="$commit-dirty"
            fi
        fi
        text="/// Generated at build time by Plugins/BuildCommit: the git commit this binary was built from.
        let buildCommit = \"$commit\""
        mkdir -p "$(dirname "$2")"
        [ "$(cat "$2" 2>/dev/null)" = "$text" ] || printf '%s\n' "$text" > "$2"
        """#
}
