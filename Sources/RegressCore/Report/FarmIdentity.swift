/// Which kernel checkout and build a run tested, and under which name its results are submitted: what a
/// farm's database (KCIDB) links results to. A farm passes the ids of its own checkout and build objects;
/// without them the KCIDB report makes placeholder objects of its own, named after the kernel release,
/// for the farm to fill in or replace.
public struct FarmIdentity: Sendable, Equatable {
    /// KCIDB's origin: the CI system submitting (`^[a-z0-9_]+$`), the prefix of every id it makes.
    public var origin = "regress"
    /// `origin:…` ids of the farm's checkout and build objects (KCIDB's `checkout_id`, `build_id`).
    public var checkoutID: String?
    public var buildID: String?
    public init() {}

    public enum Invalid: Error, CustomStringConvertible {
        case origin(String), id(flag: String, value: String)
        public var description: String {
            switch self {
            case .origin(let value): return "--kcidb-origin '\(value)': an origin is lower-case letters, digits and '_' (e.g. regress, my_lab)"
            case .id(let flag, let value): return "\(flag) '\(value)': a KCIDB id is ORIGIN:ID, ORIGIN of lower-case letters, digits and '_' (e.g. kernelci:6f3a…)"
            }
        }
    }

    /// Refuses what KCIDB's schema would refuse, before anything runs.
    public func validate() throws {
        guard Self.isOrigin(origin) else { throw Invalid.origin(origin) }
        if let checkoutID, !Self.isID(checkoutID) { throw Invalid.id(flag: "--kcidb-checkout-id", value: checkoutID) }
        if let buildID, !Self.isID(buildID) { throw Invalid.id(flag: "--kcidb-build-id", value: buildID) }
    }

    static func isOrigin<S: StringProtocol>(_ text: S) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isID(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        return isOrigin(text[..<colon]) && !text.contains("\0")
    }
}
