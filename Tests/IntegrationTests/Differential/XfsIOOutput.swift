import RegressCore

/// Reads what `xfs_io -c CMD` printed for one command. xfs_io 6.1 exits 0 when a command fails (it only
/// prints `perror()`'s line: `fallocate: Operation not supported`, `pwrite: No space left on device`), so
/// the errno comes from that text, matched against strerror(3)'s message for every errno the test language
/// names. Lines of a success (`wrote 4096/4096 bytes at offset 0`, the timing line) carry no errno; any
/// other line is reported as not understood, never guessed at.
enum XfsIOOutput {
    struct Reading: Equatable {
        var errno: Errno?
        /// Lines that are neither an error of a known errno nor a success report.
        var unrecognized: [String] = []
    }

    /// strerror's text of every errno the language names, longest first (no message is a suffix of
    /// another, but longest first makes that not matter).
    static let messages: [(String, Errno)] = {
        var seen: Set<Int32> = []
        return Errno.allNames.compactMap { Errno(name: $0) }.filter { seen.insert($0.rawValue).inserted }
            .map { ($0.message, $0) }.sorted { $0.0.count > $1.0.count }
    }()

    /// FIDEDUPERANGE's "ranges differ" status, which xfs_io prints in its own words and regress reports as EBADE.
    static let dedupeDiffers = "Extents did not match."

    static func read(_ output: String) -> Reading {
        var reading = Reading()
        for line in output.split(separator: "\n").map(String.init) where !line.isEmpty {
            if line.hasSuffix(": " + dedupeDiffers) {
                reading.errno = reading.errno ?? .EBADE
            } else if let (_, errno) = messages.first(where: { line.hasSuffix(": " + $0.0) }) {
                // The first error ends the command in xfs_io: later lines cannot carry another.
                reading.errno = reading.errno ?? errno
            } else if !isSuccessReport(line) {
                reading.unrecognized.append(line)
            }
        }
        return reading
    }

    /// `wrote 14336/6144 bytes at offset 0`, `linked 0/0 bytes at offset 0`, `deduped …`, the line of sizes
    /// and times under it (`14 KiB, 1 ops; 0.0000 sec (…)`), and -C's condensed line of numbers
    /// (`4096,1,0:00:00.00,157538461.538,38461.538`; rates of nothing done are `-nan`).
    static func isSuccessReport(_ line: String) -> Bool {
        for verb in ["wrote", "read", "linked", "deduped"] where line.hasPrefix(verb + " ") { return true }
        if line.contains(" ops; ") { return true }
        return line.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { field in
            ["nan", "-nan", "inf", "-inf"].contains(field) || (!field.isEmpty && field.allSatisfy { $0.isNumber || ".:".contains($0) })
        }
    }
}
