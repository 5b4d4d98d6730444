#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A KCIDB document (the Linux kernel CI database's I/O schema, version 5.3, as the `kcidb-io` package
/// validates it), for a farm to submit with `kcidb-submit`: one `tests` object a test and filesystem, linked
/// to the farm's build (`--kcidb-build-id`) or to placeholder checkout and build objects made from the kernel
/// release and architecture, for the farm to fill in.
///
/// Statuses: pass PASS, fail FAIL, skip SKIP, error ERROR (the harness broke: mkfs or mount failed, so the
/// kernel's state is unknown, which is what KCIDB's ERROR means). A known failure (`xfail`) is FAIL, since
/// the kernel did fail the test: KCIDB has no "expected failure" status, and PASS would report faulty code as
/// correct. What makes it known is said the KCIDB way, as an `issues` object (the known-issues entry) and an
/// `incidents` object linking the test to it; `misc.regress_verdict` keeps regress's own word. A case that
/// searched crash states has the number checked as its `number` and every count in `misc.crash_states`.
///
///     {"version": {"major": 5, "minor": 3},
///      "checkouts": [{"id": "regress:linux-6.18.44", "origin": "regress", …}],
///      "builds": [{"id": "regress:linux-6.18.44-x86_64", "checkout_id": "regress:linux-6.18.44", …}],
///      "tests": [{"id": "regress:2026-12-02T03:54:46.123Z/nocow-reflink.btrfs", "path": "regress.nocow-reflink.btrfs",
///                 "status": "PASS", "duration": 9.1, "start_time": "…", "log_excerpt": "…",
///                 "environment": {"misc": {"kernel_release": "6.18.44", "filesystem": "btrfs", …}}, …}]}
public struct KCIDBReport {
    public static let schemaVersion = (major: 5, minor: 3)
    /// The schema's maxLength for `log_excerpt`, in characters (Unicode code points, as JSON Schema counts).
    public static let logExcerptLimit = 16384

    public init() {}

    public func render(_ run: RunSummary) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(document(run))) ?? Data("{\"version\": {\"major\": 5, \"minor\": 3}}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    func document(_ run: RunSummary) -> JSONValue {
        let origin = run.farm.origin
        var checkouts: [String: JSONValue] = [:], builds: [String: JSONValue] = [:]
        var tests: [JSONValue] = [], issues: [String: JSONValue] = [:], incidents: [JSONValue] = []
        // Ids that stay unique across runs of the same build: the run's first start time is in every test id.
        let runStamp = run.results.compactMap(\.startTime).min() ?? "run"
        var seen: [String: Int] = [:]

        for result in run.results {
            let kernel = result.origin?.kernel ?? run.kernel
            let architecture = kcidbArchitecture(result.origin?.architecture)
            let buildID: String
            if let given = run.farm.buildID {
                buildID = given
            } else {
                let checkoutID = run.farm.checkoutID ?? "\(origin):\(slug(kernel))"
                if run.farm.checkoutID == nil, checkouts[checkoutID] == nil {
                    checkouts[checkoutID] = .object([
                        "id": .string(checkoutID), "origin": .string(origin),
                        "comment": .string(safe("placeholder for the checkout of \(kernel): pass --kcidb-checkout-id to link the farm's own")),
                        "misc": .object(["kernel_release": .string(safe(release(kernel)))]),
                    ])
                }
                buildID = "\(origin):\(slug(kernel))-\(architecture.isEmpty ? "unknown" : architecture)"
                if builds[buildID] == nil {
                    var build: [String: JSONValue] = [
                        "id": .string(buildID), "checkout_id": .string(checkoutID), "origin": .string(origin),
                        "comment": .string(safe("placeholder for the build of \(kernel): pass --kcidb-build-id to link the farm's own")),
                        "misc": .object(["kernel_release": .string(safe(release(kernel)))]),
                    ]
                    if !architecture.isEmpty { build["architecture"] = .string(architecture) }
                    builds[buildID] = .object(build)
                }
            }

            // The same case twice in one run (-I N) is two tests: the second gets `#2`.
            seen[result.id, default: 0] += 1
            let repeatSuffix = seen[result.id]! > 1 ? "#\(seen[result.id]!)" : ""
            let testID = "\(origin):\(runStamp)/\(result.id)\(repeatSuffix)"
            var test: [String: JSONValue] = [
                "id": .string(safe(testID)), "build_id": .string(buildID), "origin": .string(origin),
                "path": .string(path(result)), "status": .string(status(result.verdict)),
                "environment": .object(["misc": .object(environment(result, kernel: kernel))]),
                "misc": .object(misc(result, regress: result.origin?.regress ?? run.regress)),
            ]
            if !result.summary.isEmpty { test["comment"] = .string(safe(result.summary)) }
            if result.seconds.isFinite, result.seconds >= 0, result.verdict != .skip { test["duration"] = .number(result.seconds) }
            if let start = result.startTime { test["start_time"] = .string(start) }
            // The schema's place for a test's numeric output besides its status (with FAIL, ERROR and PASS; a
            // SKIP has none): the states checked. Every count is in misc.crash_states.
            if let summary = result.crashStates, result.verdict != .skip {
                test["number"] = .object(["value": .integer(summary.checked), "unit": .string("crash states")])
            }
            let excerpt = logExcerpt(result)
            if !excerpt.isEmpty { test["log_excerpt"] = .string(excerpt) }
            tests.append(.object(test))

            if result.verdict == .xfail {
                let known = result.reasons.first ?? "known issue"
                let issueID = "\(origin):known-\(fnv1a(known))"
                issues[issueID] = .object([
                    "id": .string(issueID), "origin": .string(origin), "version": .integer(0),
                    "comment": .string(safe(known)), "culprit": .object(["code": .bool(true)]),
                ])
                incidents.append(.object([
                    "id": .string(safe("\(testID)/known-\(fnv1a(known))")), "origin": .string(origin),
                    "issue_id": .string(issueID), "issue_version": .integer(0),
                    "test_id": .string(safe(testID)), "present": .bool(true),
                ]))
            }
        }

        var document: [String: JSONValue] = [
            "version": .object(["major": .integer(Self.schemaVersion.major), "minor": .integer(Self.schemaVersion.minor)]),
            "tests": .array(tests),
        ]
        // Sorted by id, so that the same results give the same document however they were gathered.
        if !checkouts.isEmpty { document["checkouts"] = .array(checkouts.keys.sorted().map { checkouts[$0]! }) }
        if !builds.isEmpty { document["builds"] = .array(builds.keys.sorted().map { builds[$0]! }) }
        if !issues.isEmpty { document["issues"] = .array(issues.keys.sorted().map { issues[$0]! }) }
        if !incidents.isEmpty { document["incidents"] = .array(incidents) }
        return .object(document)
    }

    func status(_ verdict: Verdict) -> String {
        switch verdict {
        case .pass: return "PASS"
        case .fail, .xfail: return "FAIL"
        case .skip: return "SKIP"
        case .error: return "ERROR"
        }
    }

    /// `regress.nocow-reflink.btrfs`: KCIDB's test path is dot-separated parts of `[a-zA-Z0-9_-]`, so any other
    /// character of a test's name (a dot among them, which would add a level) becomes `_`.
    func path(_ result: TestResult) -> String {
        var parts = ["regress", pathPart(result.test)]
        if let filesystem = result.filesystem { parts.append(filesystem.rawValue) }
        return parts.joined(separator: ".")
    }

    private func pathPart(_ text: String) -> String {
        let part = String(text.unicodeScalars.map { scalar -> Character in
            let allowed = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
            return allowed ? Character(scalar) : "_"
        })
        return part.isEmpty ? "_" : part
    }

    private func environment(_ result: TestResult, kernel: String) -> [String: JSONValue] {
        var misc: [String: JSONValue] = ["kernel_release": .string(safe(release(kernel)))]
        if let filesystem = result.filesystem { misc["filesystem"] = .string(filesystem.rawValue) }
        if let origin = result.origin {
            misc["hostname"] = .string(safe(origin.hostname))
            misc["architecture"] = .string(safe(origin.architecture))
            if let shard = origin.shard { misc["shard"] = .string(safe(shard)) }
            // The tools that made and checked this result's filesystem; a result without one gets them all.
            let tools = origin.toolVersions.filter { result.filesystem == nil || $0.key == result.filesystem!.mkfsTool }
            if !tools.isEmpty { misc["tools"] = .object(tools.mapValues { .string(safe($0)) }) }
        }
        return misc
    }

    private func misc(_ result: TestResult, regress: RegressVersion) -> [String: JSONValue] {
        var misc: [String: JSONValue] = ["regress_verdict": .string(result.verdict.rawValue), "regress_id": .string(safe(result.id)),
                                         "regress_version": .string(safe(regress.version)), "regress_commit": .string(safe(regress.commit))]
        if !result.reasons.isEmpty { misc["reasons"] = .array(result.reasons.map { .string(safe($0)) }) }
        if let summary = result.crashStates {
            misc["crash_states"] = .object([
                "planned": .integer(summary.planned), "checked": .integer(summary.checked),
                "identical": .integer(summary.identical), "skipped": .integer(summary.skipped), "failed": .integer(summary.failed),
            ])
        }
        return misc
    }

    /// The reasons, then as much of the step log as fits, its end rather than its start (a log ends where
    /// things went wrong), within the schema's limit.
    func logExcerpt(_ result: TestResult) -> String {
        var head = ""
        if !result.reasons.isEmpty { head = result.reasons.map { "- " + $0 }.joined(separator: "\n") + "\n" }
        head = safe(head)
        let limit = Self.logExcerptLimit
        if head.unicodeScalars.count > limit / 2 && !result.log.isEmpty || head.unicodeScalars.count > limit {
            head = cut(head, to: (result.log.isEmpty ? limit : limit / 2) - 40) + "\n… reasons cut\n"
        }
        let lines = result.log.map(safe)
        guard !lines.isEmpty else { return head }
        let separator = head.isEmpty ? "" : "\n"
        var budget = limit - head.unicodeScalars.count - separator.unicodeScalars.count
        var kept: [String] = []
        for line in lines.reversed() {
            let cost = line.unicodeScalars.count + 1
            // Room is kept for the line that says how much was cut.
            if cost > budget - 64 { break }
            kept.append(line)
            budget -= cost
        }
        kept.reverse()
        var log = kept.joined(separator: "\n")
        if kept.count < lines.count {
            let note = "… \(lines.count - kept.count) earlier log lines cut"
            log = kept.isEmpty ? note + "\n" + cut(lines.last!, to: budget - note.unicodeScalars.count - 2) : note + "\n" + log
        }
        return head + separator + log
    }

    private func cut(_ text: String, to count: Int) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: text.unicodeScalars.prefix(max(0, count)))
        return String(out)
    }

    /// KCIDB strings may hold anything but NUL.
    private func safe(_ text: String) -> String { text.replacing("\0", with: "\\x00") }

    /// `Linux 6.18.44` → `6.18.44`.
    private func release(_ kernel: String) -> String {
        kernel.hasPrefix("Linux ") ? String(kernel.dropFirst("Linux ".count)) : kernel
    }

    /// `Linux 6.18.44-amd64` → `linux-6.18.44-amd64`: an id part that reads well in a URL.
    private func slug(_ kernel: String) -> String {
        let lowered = kernel.lowercased().unicodeScalars.map { scalar -> Character in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "." || scalar == "-" || scalar == "_" ? Character(scalar) : "-"
        }
        return String(lowered)
    }

    /// KCIDB's architecture is `^[a-z0-9_]*$`: x86_64 and aarch64 as uname says them, anything else folded.
    private func kcidbArchitecture(_ machine: String?) -> String {
        guard let machine else { return "" }
        return String(machine.lowercased().unicodeScalars.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" })
    }

    private func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return String(hash, radix: 16)
    }
}
