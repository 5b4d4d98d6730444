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
        for file in files {
            guard let expected = model.expected(for: file) else { continue }
            do {
                let (result, adoption) = try verifyOne(file, expected)
                if let adoption { changes.append(adoption) }
                let what = implicit ? "verify (after power cut)" : "verify"
                log.append("\(location) \(what) \(file): " + (result.passed ? "ok" : "\(result.mismatches.count + result.unlistedMismatches) bad ranges"))
                results.append(result)
            } catch {
                var failed = VerifyResult(file: file, expectedSize: expected.newest.size, foundSize: nil)
                failed.readError = (error as? Errno) ?? .EIO
                log.append("\(location) verify \(file): cannot read: \(error)")
                results.append(failed)
            }
        }
        return (results, changes, log)
    }

    /// The result, and after a power cut what the model should adopt (an `adopt` change).
    private func verifyOne(_ file: String, _ expected: ContentModel.Expected) throws -> (VerifyResult, ModelChange?) {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(beneath: session.requireRoot(), file, .readOnly)
        } catch let error as Errno where error == .ENOENT {
            switch expected {
            case .either(nil, let new):
                // Never made durable: it may well be gone.
                return (VerifyResult(file: file, expectedSize: new.size, foundSize: 0, allowedSizes: 0...new.size), .adopt(file: file, content: nil))
            case .exact(let map), .either(_, let map):
                return (VerifyResult(file: file, expectedSize: map.size, foundSize: nil), nil)
            }
        }
        defer { fd.close() }
        switch expected {
        case .exact(let map):
            return (try oracle.verify(fd, file: file, against: map), nil)
        case .either(let old, let new):
            let (result, found) = try oracle.verifyAfterPowerCut(fd, file: file, old: old, new: new)
            return (result, .adopt(file: file, content: found))
        }
    }
}

extension ContentModel.Expected {
    /// The latest content the file was given.
    var newest: ExtentMap {
        switch self {
        case .exact(let map), .either(_, let map): return map
        }
    }
}
