public struct KTAPReport {
    public init() {}
    public func render(_ run: RunSummary) -> String { TAPReport().render(run) }
}
