import RegressCore

/// `verify`: opens each file beneath the mount and has the oracle compare it with what the model says it
/// must hold. After a power cut the model allows each block to be old or new; the verifier returns what it
/// found as `adopt` changes, so that the model knows the file from then on.
struct Verifier {
    let session: TestSession
    let oracle = Oracle()

    func verify(_ files: [String], model: ContentModel, at location: SourceLocation,
                implicit: Bool) -> (results: [VerifyResult], changes: [ModelChange], log: [String]) {
        var results: [VerifyResult] = [], changes: [ModelChange] = [], log: [String] = []
        // A renamed file's old and new names are checked together: it must be under one of them.
        let renames = model.renamesInFlux.filter { !Set($0.names).isDisjoint(with: files) }
        var toCheck = files
        for name in renames.flatMap(\.names) where !toCheck.contains(name) { toCheck.append(name) }
        var shown: [String: ContentModel.Expected] = [:], gone: Set<String> = []
        let what = implicit ? "verify (after power cut)" : "verify"
        for file in toCheck {
            guard let expected = model.expected(for: file) else { continue }
            let flux = model.namesInFlux[file]
            do {
                let (result, adoption, matched) = try verifyOne(file, expected, flux)
                if let adoption { changes.append(adoption) }
                if let matched { shown[file] = matched }
                if adoption == .adopt(file: file, content: nil) { gone.insert(file) }
                log.append("\(location) \(what) \(file): " + (gone.contains(file) ? "gone (allowed)" : result.passed ? "ok"
                                                                 : "\(result.mismatches.count + result.unlistedMismatches) bad ranges"))
                results.append(result)
            } catch {
                var failed = VerifyResult(file: file, expectedSize: expected.newest.size, foundSize: nil)
                failed.readError = (error as? Errno) ?? .EIO
                log.append("\(location) verify \(file): cannot read: \(error)")
                results.append(failed)
            }
        }
        // Each name may be gone on its own; not both. (A name that shows the file with the wrong content
        // has its own failure already; one that shows another file does not count.)
        for rename in renames where rename.isLost(shown: shown, gone: gone) {
            let (new, old) = (rename.names[0], rename.names[1])
            log.append("\(location) \(what) \(new): renamed from \(old) before the power cut, found under neither name")
            results.append(VerifyResult(file: new, expectedSize: rename.expected.newest.size, foundSize: nil))
        }
        return (results, changes, log)
    }

    /// The result, what the model should adopt after a power cut (an `adopt` change), and which expectation
    /// the file met (nil when it met none, or is gone).
    private func verifyOne(_ file: String, _ expected: ContentModel.Expected, _ flux: ContentModel.NameInFlux?)
        throws -> (VerifyResult, ModelChange?, ContentModel.Expected?) {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(beneath: session.requireRoot(), file, .readOnly)
        } catch let error as Errno where error == .ENOENT {
            switch expected {
            case _ where flux?.mayBeMissing == true, .either(nil, _):
                // Never made durable, or a name the cut may not have kept: it may well be gone.
                let size = expected.newest.size
                return (VerifyResult(file: file, expectedSize: size, foundSize: 0, allowedSizes: 0...size), .adopt(file: file, content: nil), nil)
            case .exact(let map), .either(_, let map):
                return (VerifyResult(file: file, expectedSize: map.size, foundSize: nil), nil, nil)
            }
        }
        defer { fd.close() }
        var first: (VerifyResult, ModelChange?)?
        for candidate in [expected] + (flux?.alternatives ?? []) {
            let (result, found) = try check(fd, file, candidate)
            // A name in flux is resolved by what it showed, even when that was exactly what was expected.
            let adoption: ModelChange? = candidate.isExact && flux == nil ? nil : .adopt(file: file, content: found)
            if result.passed { return (result, adoption, candidate) }
            if first == nil { first = (result, nil) }
        }
        return (first!.0, first!.1, nil)
    }

    private func check(_ fd: FileDescriptor, _ file: String, _ expected: ContentModel.Expected) throws -> (VerifyResult, ExtentMap) {
        switch expected {
        case .exact(let map):
            return (try oracle.verify(fd, file: file, against: map), map)
        case .either(let old, let new):
            return try oracle.verifyAfterPowerCut(fd, file: file, old: old, new: new)
        }
    }
}

extension ContentModel.Expected {
    var isExact: Bool { if case .exact = self { return true } else { return false } }

    /// The latest content the file was given.
    var newest: ExtentMap {
        switch self {
        case .exact(let map), .either(_, let map): return map
        }
    }
}
