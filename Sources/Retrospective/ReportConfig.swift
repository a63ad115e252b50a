import Foundation

/// The `report:` section of tally.yaml.
public struct ReportConfig: Sendable {
    /// The time zone whose midnights bound the report's days.
    public var timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current
    /// An incident opening on a service within this long after a deploy fails that deploy (ms).
    public var failureWindowMillis: Int64 = 86_400_000
    /// The PromQL behind request rate, error ratio and p99 latency.
    public var health = HealthQueries()
    /// Per-service replacements of those queries.
    public var serviceHealth: [String: HealthQueries] = [:]
    /// Availability objectives by service (0.999 = 99.9% of requests succeed).
    public var sloObjectives: [String: Double] = [:]

    public init() {}

    /// How far back the report reads events: 30 days, the 30 before them, and a day of slack (ms).
    public static let historyMillis: Int64 = 61 * 86_400_000
}
