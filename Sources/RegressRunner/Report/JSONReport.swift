public struct JSONReport {
    public init() {}
    public func render(_ run: RunSummary) -> String { TAPReport().render(run) }
}
