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
    /// The most services the report details (the busiest: events, then log
    /// lines); the overall keys count every service.
    public var maxServices = 1_000
    /// When the previous day's report is written each day, as minutes after
    /// local midnight (`report.daily.at`); nil: never.
    public var dailyAtMinutes: Int?
    /// Where the written report's JSON (or its summary) is also POSTed, if anywhere.
    public var webhookURL: String?
    /// `json` (the report) or `text` (`{"text": "…"}`, the summary chat tools take).
    public var webhookFormat = "json"
    /// Attempts at the webhook before giving up (backoff doubles from 1 s, up to 5 min).
    public var webhookAttempts = 6

    /// The output names (with `$service` standing for any service) of the
    /// summary families whose sketches the report reads for its p99s: the
    /// latency metric of every service whose p99 is not PromQL.
    public var sketchFamilies: [String] {
        var names = health.p99Latency == nil ? [health.latencyMetric] : []
        for (service, queries) in serviceHealth.sorted(by: { $0.key < $1.key }) where queries.p99Latency == nil {
            names.append(queries.forService(service).latencyMetric)
        }
        return names
    }

    /// The next time (ms) after `now` at which the clock in `timeZone` reads `minutes` past midnight.
    public static func nextRun(after now: Int64, minutes: Int, timeZone: TimeZone) -> Int64 {
        var day = ReportDay.localDay(of: now, timeZone)
        while true {
            let midnight = ReportDay.midnight(day, timeZone)
            var candidate = midnight + Int64(minutes) * 60_000
            // A daylight-saving change between midnight and then moves the wall clock.
            let before = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(midnight) / 1000))
            let after = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(candidate) / 1000))
            candidate += Int64(before - after) * 1000
            if candidate > now { return candidate }
            day += 1
        }
    }

    public init() {}

    /// How far back the report reads events: 30 days, the 30 before them, and a day of slack (ms).
    public static let historyMillis: Int64 = 61 * 86_400_000
}
