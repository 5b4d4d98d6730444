/// The arguments the guest's regress gets (`regress run` or `regress explore`): the host's, less what only
/// the host can act on (the VM's own options, and the paths it writes: results, reports, the output
/// directory, the work directory), plus the guest's replacements. Everything else (test names, -g, --fs,
/// -j, --timeout, --tests-dir, -E, --seed, --bounded …) passes through unchanged, and means the same
/// inside, since the guest sees the host's files at the same paths.
public struct GuestArguments: Equatable, Sendable {
    /// The commands that run in a VM.
    public enum Subcommand: String, Sendable { case run, explore }

    /// The arguments for the guest's `regress` (its binary first).
    public let arguments: [String]
    /// Report files the guest writes to the control share, and where the host copies each one.
    public let copies: [(guest: String, host: String)]
    /// Directories the guest fills in the control share (explore's found tests), and the host directory
    /// each one's files are copied into (beside what it holds already).
    public let directoryCopies: [(guest: String, host: String)]

    public static func == (a: GuestArguments, b: GuestArguments) -> Bool {
        a.arguments == b.arguments && a.copies.map(\.guest) == b.copies.map(\.guest) && a.copies.map(\.host) == b.copies.map(\.host)
            && a.directoryCopies.map(\.guest) == b.directoryCopies.map(\.guest) && a.directoryCopies.map(\.host) == b.directoryCopies.map(\.host)
    }

    /// Options (each with a value) that the host handles and the guest must not see as given.
    static let hostOnly: Set<String> = ["--kernel", "--vm-memory", "--vm-cpus", "--vm-timeout", "--vm-accel",
                                        "--timeout-scale", "--results", "--workdir", "--output", "-o", "--report",
                                        "--rootfs", "--rootfs-overlay"]

    /// - Parameters:
    ///   - runArguments: what followed `run` on the host's command line.
    ///   - output/reports: the parsed `--output FILE` and `--report FORMAT=FILE` values.
    ///   - filesDirectory: a directory of the control share, where the guest writes those reports.
    ///   - subcommand: for `explore`, `output` is its output directory and there are neither reports nor results.
    public init(executable: String, subcommand: Subcommand = .run, runArguments: [String], output: String?, reports: [String],
                resultsDirectory: String, filesDirectory: String, timeoutScale: Double) {
        var kept: [String] = []
        var index = 0
        while index < runArguments.count {
            let argument = runArguments[index]
            if argument == "--" {
                kept += runArguments[index...]
                break
            }
            if GuestArguments.hostOnly.contains(argument) {
                index += 2   // the option and its value
                continue
            }
            if let equals = argument.firstIndex(of: "="), GuestArguments.hostOnly.contains(String(argument[..<equals])) {
                index += 1
                continue
            }
            kept.append(argument)
            index += 1
        }
        var added = ["--timeout-scale", GuestArguments.format(timeoutScale)]
        var copies: [(guest: String, host: String)] = []
        var directoryCopies: [(guest: String, host: String)] = []
        if subcommand == .explore {
            // explore's found test goes to the control share; the host copies it into its --output.
            let found = filesDirectory + "/found"
            added += ["--output", found]
            directoryCopies.append((found, output ?? Self.exploreDefaultOutput))
        } else {
            added = ["--results", resultsDirectory] + added
        }
        if subcommand == .run, let output {
            copies.append((filesDirectory + "/output", output))
            added += ["--output", filesDirectory + "/output"]
        }
        for (number, report) in reports.enumerated() where subcommand == .run {
            let parts = report.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let guestFile = filesDirectory + "/report-\(number + 1)"
            copies.append((guestFile, parts[1]))
            added += ["--report", parts[0] + "=" + guestFile]
        }
        // Before any "--": after it, everything is a test name.
        let separator = kept.firstIndex(of: "--") ?? kept.endIndex
        kept.insert(contentsOf: added, at: separator)
        arguments = [executable, subcommand.rawValue] + kept
        self.copies = copies
        self.directoryCopies = directoryCopies
    }

    /// `regress explore`'s default `--output`, relative to where it runs.
    public static let exploreDefaultOutput = "explore-found"

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
