@testable import RegressCore

/// Results of each verdict for the farm reports' tests, built from the evidence that decides that verdict.
/// `detail` is the skip's, the error's or the known issue's reason, or the step of a failure.
func farmResult(_ test: String, _ filesystem: FilesystemKind?, _ verdict: Verdict, detail: String = "") -> TestResult {
    func failure(_ step: String) -> Evidence {
        .stepFailed(StepFailure(location: SourceLocation(file: "tests.d/\(test)", line: 3), step: step.isEmpty ? "fsync f" : step,
                                got: .ENOSPC, expected: "success"))
    }
    let evidence: [Evidence]
    switch verdict {
    case .pass: evidence = []
    case .fail: evidence = [failure(detail)]
    case .skip: evidence = [.notApplicable(detail.isEmpty ? "not applicable here" : detail)]
    case .error: evidence = [.environment(detail.isEmpty ? "mkfs failed" : detail)]
    case .xfail: evidence = [failure(""), .knownIssue(detail.isEmpty ? "a known bug" : detail)]
    }
    return TestResult(test: test, filesystem: filesystem, evidence: evidence)
}
