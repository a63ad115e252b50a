import Foundation
import TelemetryModel

/// The daily retrospective, as `/api/v1/report/daily` gives it in JSON
/// (docs/retrospective.md documents every field).
public struct DailyReport: Sendable, Codable, Equatable {
    public var date: String
    public var timezone: String
    /// Deployments and incident events on the day (after duplicates are dropped).
    public var events: EventCounts
    public var fourKeys: KeysReport
    public var services: [String: ServiceReport]
    public var openIncidents: [OpenIncident]
    /// What the reader should know: a day without events, events refused.
    public var notes: [String]
    /// The series the HTML page draws, over the 30 days ending with the report's day.
    public var history: History
    /// The largest moves against the day before: error lines, log lines, request rate, error ratio, p99.
    public var movers: [Mover]
    /// Records of the day filed as deployments or incidents that are not valid events.
    public var dataQuality: DataQuality

    enum CodingKeys: String, CodingKey {
        case date, timezone, events, services, notes, history, movers
        case fourKeys = "four_keys"
        case openIncidents = "open_incidents"
        case dataQuality = "data_quality"
    }

    /// What the day's keys could not use, so that a sender can fix it.
    public struct DataQuality: Sendable, Codable, Equatable {
        /// Records of the day filed as events (`event: deployment|incident`) that did not check out.
        public var refusedEvents: Int
        /// The first of them (at most `listed`), oldest first, each with every problem.
        public var refused: [Refused]

        public static let listed = 20

        public struct Refused: Sendable, Codable, Equatable {
            public var time: String
            public var service: String
            public var event: String
            public var problems: String
        }

        enum CodingKeys: String, CodingKey {
            case refused
            case refusedEvents = "refused_events"
        }
    }

    /// The last 30 days, day by day.
    public struct History: Sendable, Codable, Equatable {
        /// Production deploys per day, oldest first.
        public var days: [Day]
        /// Lead times (seconds) of the successful production deploys, in deploy order.
        public var leadTimesSeconds: [Double]
        /// Incidents opened in the 30 days (or still open), oldest first.
        public var incidents: [IncidentSpan]

        enum CodingKeys: String, CodingKey {
            case days, incidents
            case leadTimesSeconds = "lead_times_seconds"
        }
    }

    public struct Day: Sendable, Codable, Equatable {
        public var date: String
        public var deploys: Int
        public var failed: Int
    }

    public struct IncidentSpan: Sendable, Codable, Equatable {
        public var incidentID: String
        public var service: String
        public var openedAt: String
        /// Nil while it is open.
        @NullEncoded public var resolvedAt: String?
        @NullEncoded public var durationSeconds: Int64?

        enum CodingKeys: String, CodingKey {
            case service
            case incidentID = "incident_id"
            case openedAt = "opened_at"
            case resolvedAt = "resolved_at"
            case durationSeconds = "duration_seconds"
        }
    }

    public struct EventCounts: Sendable, Codable, Equatable {
        public var deployments: Int
        public var incidents: Int
    }

    public struct ServiceReport: Sendable, Codable, Equatable {
        public var fourKeys: KeysReport
        public var health: Health
        /// Successful production deploys per day over the last 30 days (the sparkline).
        public var deploysPerDay: [Int]

        enum CodingKeys: String, CodingKey {
            case health
            case fourKeys = "four_keys"
            case deploysPerDay = "deploys_per_day"
        }
    }

    /// A service's health for the day.
    public struct Health: Sendable, Codable, Equatable {
        /// Log lines by normalised level.
        public var logLinesByLevel: [String: Int]
        /// Requests per second over the day, from `report.health.request_rate`.
        @NullEncoded public var requestRate: Double?
        /// Failed ÷ all requests over the day, from `report.health.error_ratio`.
        @NullEncoded public var errorRatio: Double?
        /// The 99th percentile latency in seconds, from `report.health.p99_latency`.
        @NullEncoded public var p99LatencySeconds: Double?
        /// The day's error lines clustered into templates, largest first.
        public var errorTemplates: [LogTemplate]
        /// The error budget spent, where an objective is configured.
        @NullEncoded public var slo: SLOBurn?
        /// What gave the figures, so that a reader (the /report page) can open each one's query.
        public var queries: Queries

        public init(
            logLinesByLevel: [String: Int], requestRate: Double? = nil, errorRatio: Double? = nil, p99LatencySeconds: Double? = nil,
            errorTemplates: [LogTemplate] = [], slo: SLOBurn? = nil, queries: Queries
        ) {
            self.logLinesByLevel = logLinesByLevel
            self.requestRate = requestRate
            self.errorRatio = errorRatio
            self.p99LatencySeconds = p99LatencySeconds
            self.errorTemplates = errorTemplates
            self.slo = slo
            self.queries = queries
        }

        enum CodingKeys: String, CodingKey {
            case slo, queries
            case logLinesByLevel = "log_lines_by_level"
            case requestRate = "request_rate"
            case errorRatio = "error_ratio"
            case p99LatencySeconds = "p99_latency_seconds"
            case errorTemplates = "error_templates"
        }
    }

    /// A service's health queries with its name filled in (`report.health`).
    public struct Queries: Sendable, Codable, Equatable {
        /// PromQL of the request rate and the error ratio.
        public var requestRate: String
        public var errorRatio: String
        /// PromQL of the p99 latency when configured; nil: the day's sketches of `latencyMetric` give it.
        @NullEncoded public var p99Latency: String?
        /// The timer (summary family) whose sketches give the p99.
        public var latencyMetric: String

        public init(_ queries: HealthQueries) {
            requestRate = queries.requestRate
            errorRatio = queries.errorRatio
            p99Latency = queries.p99Latency
            latencyMetric = queries.latencyMetric
        }

        enum CodingKeys: String, CodingKey {
            case requestRate = "request_rate"
            case errorRatio = "error_ratio"
            case p99Latency = "p99_latency"
            case latencyMetric = "latency_metric"
        }
    }

    /// An availability objective and how much of its error budget the day spent.
    public struct SLOBurn: Sendable, Codable, Equatable {
        /// The objective, such as 0.999.
        public var objective: Double
        /// The day's error ratio ÷ the budget (1 − objective): above 1, the budget burns faster than it allows.
        public var burnRate: Double
        public var status: String

        enum CodingKeys: String, CodingKey {
            case objective, status
            case burnRate = "burn_rate"
        }
    }

    /// A service whose figure moved most against the day before.
    public struct Mover: Sendable, Codable, Equatable {
        public var service: String
        public var measure: String
        public var today: Double
        public var yesterday: Double
        /// (today − yesterday) ÷ yesterday × 100; nil when yesterday was 0.
        @NullEncoded public var changePercent: Double?

        enum CodingKeys: String, CodingKey {
            case service, measure, today, yesterday
            case changePercent = "change_percent"
        }
    }

    public struct OpenIncident: Sendable, Codable, Equatable {
        public var incidentID: String
        public var service: String
        @NullEncoded public var severity: String?
        public var openedAt: String
        public var ageSeconds: Int64

        enum CodingKeys: String, CodingKey {
            case service, severity
            case incidentID = "incident_id"
            case openedAt = "opened_at"
            case ageSeconds = "age_seconds"
        }
    }
}

/// The four keys of one period with its previous period and the trend;
/// the day's, plus the rolling 7 and 30 days.
public struct PeriodKeys: Sendable, Codable, Equatable {
    public var deploymentFrequency: FourKeys.DeploymentFrequency
    public var leadTimeSeconds: FourKeys.LeadTime
    public var changeFailureRate: FourKeys.ChangeFailureRate
    public var timeToRestoreSeconds: FourKeys.TimeToRestore
    /// The same keys over the period just before.
    public var previous: FourKeys
    public var trend: Trend

    init(_ keys: FourKeys, previous: FourKeys) {
        deploymentFrequency = keys.deploymentFrequency
        leadTimeSeconds = keys.leadTimeSeconds
        changeFailureRate = keys.changeFailureRate
        timeToRestoreSeconds = keys.timeToRestoreSeconds
        self.previous = previous
        trend = Trend(keys, previous)
    }

    enum CodingKeys: String, CodingKey {
        case previous, trend
        case deploymentFrequency = "deployment_frequency"
        case leadTimeSeconds = "lead_time_seconds"
        case changeFailureRate = "change_failure_rate"
        case timeToRestoreSeconds = "time_to_restore_seconds"
    }
}

/// The day's keys (at the top, in the shape the report promises), then the rolling windows.
public struct KeysReport: Sendable, Codable, Equatable {
    public var day: PeriodKeys
    public var last7Days: PeriodKeys
    public var last30Days: PeriodKeys

    enum CodingKeys: String, CodingKey {
        case deploymentFrequency = "deployment_frequency"
        case leadTimeSeconds = "lead_time_seconds"
        case changeFailureRate = "change_failure_rate"
        case timeToRestoreSeconds = "time_to_restore_seconds"
        case previousDay = "previous_day"
        case trend
        case last7Days = "last_7_days"
        case last30Days = "last_30_days"
    }

    init(day: PeriodKeys, last7Days: PeriodKeys, last30Days: PeriodKeys) {
        self.day = day
        self.last7Days = last7Days
        self.last30Days = last30Days
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(day.deploymentFrequency, forKey: .deploymentFrequency)
        try c.encode(day.leadTimeSeconds, forKey: .leadTimeSeconds)
        try c.encode(day.changeFailureRate, forKey: .changeFailureRate)
        try c.encode(day.timeToRestoreSeconds, forKey: .timeToRestoreSeconds)
        try c.encode(day.previous, forKey: .previousDay)
        try c.encode(day.trend, forKey: .trend)
        try c.encode(last7Days, forKey: .last7Days)
        try c.encode(last30Days, forKey: .last30Days)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let keys = FourKeys(
            deploymentFrequency: try c.decode(FourKeys.DeploymentFrequency.self, forKey: .deploymentFrequency),
            leadTimeSeconds: try c.decode(FourKeys.LeadTime.self, forKey: .leadTimeSeconds),
            changeFailureRate: try c.decode(FourKeys.ChangeFailureRate.self, forKey: .changeFailureRate),
            timeToRestoreSeconds: try c.decode(FourKeys.TimeToRestore.self, forKey: .timeToRestoreSeconds))
        day = PeriodKeys(keys, previous: try c.decode(FourKeys.self, forKey: .previousDay))
        last7Days = try c.decode(PeriodKeys.self, forKey: .last7Days)
        last30Days = try c.decode(PeriodKeys.self, forKey: .last30Days)
    }
}

/// Whether each key got better or worse than in the previous period (nil when either has no value).
public struct Trend: Sendable, Codable, Equatable {
    public enum Direction: String, Sendable, Codable {
        case better, worse, same
    }

    @NullEncoded public var deploymentFrequency: Direction?
    @NullEncoded public var leadTime: Direction?
    @NullEncoded public var changeFailureRate: Direction?
    @NullEncoded public var timeToRestore: Direction?

    enum CodingKeys: String, CodingKey {
        case deploymentFrequency = "deployment_frequency"
        case leadTime = "lead_time"
        case changeFailureRate = "change_failure_rate"
        case timeToRestore = "time_to_restore"
    }

    init(_ now: FourKeys, _ before: FourKeys) {
        func compare(_ a: Double?, _ b: Double?, higherIsBetter: Bool) -> Direction? {
            guard let a, let b else { return nil }
            if a == b { return .same }
            return (a > b) == higherIsBetter ? .better : .worse
        }
        deploymentFrequency = compare(Double(now.deploymentFrequency.deploys), Double(before.deploymentFrequency.deploys), higherIsBetter: true)
        leadTime = compare(now.leadTimeSeconds.median, before.leadTimeSeconds.median, higherIsBetter: false)
        changeFailureRate = compare(now.changeFailureRate.value, before.changeFailureRate.value, higherIsBetter: false)
        timeToRestore = compare(now.timeToRestoreSeconds.median, before.timeToRestoreSeconds.median, higherIsBetter: false)
    }
}

/// Why a report cannot be made for a date.
public struct ReportDateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

/// A calendar day in a time zone.
public struct ReportDay: Sendable, Equatable {
    public let year: Int
    public let month: Int
    public let day: Int
    public let timeZone: TimeZone

    /// Parses `YYYY-MM-DD`; refuses malformed dates and days that have not begun at `now` (ms).
    public init(_ text: String, timeZone: TimeZone, now: Int64) throws(ReportDateError) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), (1...31).contains(d)
        else { throw ReportDateError(description: "date must be YYYY-MM-DD, got \"\(text)\"") }
        let back = civilFromDays(daysFromCivil(year: y, month: m, day: d))
        guard back.year == y, back.month == m, back.day == d else { throw ReportDateError(description: "no such date: \(text)") }
        year = y
        month = m
        day = d
        self.timeZone = timeZone
        // Times are nanoseconds in the log store, which end in 2262; nothing was recorded before 1970.
        guard y >= 1970 else { throw ReportDateError(description: "\(text) is before 1970, when no event can have been recorded") }
        guard start <= now else { throw ReportDateError(description: "\(text) is in the future") }
    }

    /// The day before the one holding `now` (ms): the report a morning run makes.
    public init(yesterdayOf now: Int64, timeZone: TimeZone) {
        let local = Self.localDay(of: now, timeZone) - 1
        let (y, m, d) = civilFromDays(local)
        year = y
        month = m
        day = d
        self.timeZone = timeZone
    }

    /// The zone's name as configured (`UTC` rather than Foundation's `GMT`).
    public var timeZoneName: String {
        timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier
    }

    public var text: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// Local midnight as milliseconds since the epoch.
    public var start: Int64 { Self.midnight(daysFromCivil(year: year, month: month, day: day), timeZone) }
    /// The next local midnight.
    public var end: Int64 { Self.midnight(daysFromCivil(year: year, month: month, day: day) + 1, timeZone) }

    /// The local calendar day (days since 1970-01-01) of a time (ms).
    public static func localDay(of millis: Int64, _ timeZone: TimeZone) -> Int {
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(millis) / 1000))
        return Int(floorDivide(millis / 1000 + Int64(offset), 86_400))
    }

    /// Local midnight starting a day (days since 1970-01-01), in ms.
    static func midnight(_ day: Int, _ timeZone: TimeZone) -> Int64 {
        let utc = Int64(day) * 86_400
        // The offset in force at local midnight: try the offset at the UTC guess, then settle.
        var offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc))))
        offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc - offset))))
        return (utc - offset) * 1000
    }
}
