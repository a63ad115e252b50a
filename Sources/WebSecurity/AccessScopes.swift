/// What a credential may do. A request needs one scope (or none, for
/// `/healthz` and `/readyz`); a credential carries a set of them.
public struct AccessScopes: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Queries, the report, label and series lookups, log tail, the UI, `/metrics` unless open.
    public static let read = AccessScopes(rawValue: 1)
    /// Pushes: Loki push, events, OTLP, remote_write and aggregate receive.
    public static let write = AccessScopes(rawValue: 2)
    /// Operations that change the server itself: reload (and, as they land, deletes and snapshots).
    public static let admin = AccessScopes(rawValue: 4)
    public static let all: AccessScopes = [.read, .write, .admin]

    /// The name of each scope as the web config spells it.
    public static let names: [(String, AccessScopes)] = [("read", .read), ("write", .write), ("admin", .admin)]

    /// The scope a web config names, or nil for an unknown name.
    public init?(name: String) {
        guard let match = Self.names.first(where: { $0.0 == name }) else { return nil }
        self = match.1
    }

    public var description: String {
        Self.names.filter { contains($0.1) }.map(\.0).joined(separator: ",")
    }
}
