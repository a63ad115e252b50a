import Foundation
import TelemetryModel

/// Builds the daily report from the delivery events and the day's log
/// volume. Pure: the caller reads the stores.
public struct DailyReportBuilder: Sendable {
    public let calculator: FourKeysCalculator

    public init(events: [DeliveryEvent], failureWindowMillis: Int64 = 86_400_000) {
        calculator = FourKeysCalculator(events: events, failureWindowMillis: failureWindowMillis)
    }

    /// What the stores say of one service's health, today and the day before.
    public struct ServiceSignals: Sendable {
        public var logLines: [String: Int] = [:]
        public var previousLogLines: [String: Int] = [:]
        public var errorTemplates: [LogTemplate] = []
        public var requestRate: Double?
        public var errorRatio: Double?
        public var p99Latency: Double?
        public var previousRequestRate: Double?
        public var previousErrorRatio: Double?
        public var previousP99Latency: Double?
        /// An availability objective (`report.slo`), such as 0.999.
        public var sloObjective: Double?
        /// The health queries the figures came from (`report.health` or the service's own).
        public var queries = HealthQueries()

        public init() {}
    }

    /// The report for `day` with only log volumes as health (tests, and a store without metrics).
    public func build(day: ReportDay, logLines: [String: [String: Int]] = [:], refusedEvents: [RefusedEvent] = [], now: Int64) -> DailyReport {
        var signals: [String: ServiceSignals] = [:]
        for (service, lines) in logLines {
            var s = ServiceSignals()
            s.logLines = lines
            signals[service] = s
        }
        return build(day: day, signals: signals, refusedEvents: refusedEvents, now: now)
    }

    /// The report for `day`; `signals` are each service's health figures; `now` ages open incidents (ms).
    public func build(
        day: ReportDay, signals: [String: ServiceSignals], refusedEvents: [RefusedEvent] = [], maxServices: Int = .max, now: Int64
    ) -> DailyReport {
        let logLines = signals.mapValues(\.logLines)
        let zone = day.timeZone
        let dayOf: (Int64) -> Int = { ReportDay.localDay(of: $0, zone) }
        let start = day.start
        let end = day.end
        func period(_ days: Int64, service: String?) -> PeriodKeys {
            // Windows are whole local days ending with the report's day.
            let windowStart = days == 1 ? start : ReportDay.midnight(dayOf(start) - Int(days) + 1, zone)
            let previousStart = ReportDay.midnight(dayOf(windowStart) - Int(days), zone)
            let span: Int64? = days == 1 ? 7 * 86_400_000 : nil
            let keys = calculator.keys(start: windowStart, end: end, service: service, deployDaysSpan: span, dayOf: dayOf)
            let previous = calculator.keys(start: previousStart, end: windowStart, service: service, deployDaysSpan: span, dayOf: dayOf)
            return PeriodKeys(keys, previous: previous)
        }
        func report(_ service: String?) -> KeysReport {
            KeysReport(day: period(1, service: service), last7Days: period(7, service: service), last30Days: period(30, service: service))
        }
        let horizon = ReportDay.midnight(dayOf(start) - 59, zone)
        var activity: [String: Int] = logLines.mapValues { $0.values.reduce(0, +) }
        for deploy in calculator.deployments where deploy.time >= horizon && deploy.time < end { activity[deploy.service, default: 0] += Self.eventWeight }
        for incident in calculator.incidents where incident.time >= horizon && incident.time < end { activity[incident.service, default: 0] += Self.eventWeight }
        let services = Self.busiest(activity, limit: maxServices)
        // The 30 days ending with the report's day, for the charts.
        let lastDay = dayOf(start)
        let firstDay = lastDay - 29
        let windowStart = ReportDay.midnight(firstDay, zone)
        let recent = calculator.deployments.filter { $0.isProduction && $0.time >= windowStart && $0.time < end }
        func perDay(_ deploys: [Deployment], failedOnly: Bool = false) -> [Int] {
            var counts = [Int](repeating: 0, count: 30)
            for deploy in deploys {
                let index = dayOf(deploy.time) - firstDay
                guard (0..<30).contains(index) else { continue }
                if failedOnly ? calculator.failed(deploy) : deploy.status == .success { counts[index] += 1 }
            }
            return counts
        }
        var perService: [String: DailyReport.ServiceReport] = [:]
        for service in services {
            let signal = signals[service] ?? ServiceSignals()
            let slo = signal.sloObjective.flatMap { objective -> DailyReport.SLOBurn? in
                guard let ratio = signal.errorRatio, objective < 1 else { return nil }
                let burn = ratio / (1 - objective)
                return DailyReport.SLOBurn(objective: objective, burnRate: (burn * 1000).rounded() / 1000, status: burn <= 1 ? "within budget" : "burning")
            }
            perService[service] = DailyReport.ServiceReport(
                fourKeys: report(service),
                health: DailyReport.Health(
                    logLinesByLevel: logLines[service] ?? [:], requestRate: signal.requestRate, errorRatio: signal.errorRatio,
                    p99LatencySeconds: signal.p99Latency, errorTemplates: signal.errorTemplates, slo: slo,
                    queries: DailyReport.Queries(signal.queries.forService(service))),
                deploysPerDay: perDay(recent.filter { $0.service == service }))
        }
        let successes = perDay(recent)
        let failures = perDay(recent, failedOnly: true)
        let days = (0..<30).map { index in
            let (y, m, d) = civilFromDays(firstDay + index)
            return DailyReport.Day(date: String(format: "%04d-%02d-%02d", y, m, d), deploys: successes[index], failed: failures[index])
        }
        var resolvedAt: [String: Int64] = [:]
        for incident in calculator.incidents where incident.state == .resolved && incident.time < end {
            resolvedAt[incident.id] = resolvedAt[incident.id] ?? incident.time
        }
        var seen = Set<String>()
        let spans = calculator.incidents.filter { incident in
            incident.state == .opened && incident.time < end && seen.insert(incident.id).inserted
                && (incident.time >= windowStart || (resolvedAt[incident.id].map { $0 >= windowStart } ?? true))
        }.map { incident in
            let resolved = resolvedAt[incident.id]
            return DailyReport.IncidentSpan(
                incidentID: incident.id, service: incident.service, openedAt: formatRFC3339(incident.time),
                resolvedAt: resolved.map(formatRFC3339), durationSeconds: resolved.map { ($0 - incident.time) / 1000 })
        }
        let history = DailyReport.History(
            days: days,
            leadTimesSeconds: recent.filter { $0.status == .success }.map { Double($0.time - $0.commitTime) / 1000 },
            incidents: spans)
        let deploysToday = calculator.deployments.filter { $0.time >= start && $0.time < end }.count
        let incidentsToday = calculator.incidents.filter { $0.time >= start && $0.time < end }.count
        let open = calculator.openIncidents(at: end).map { incident in
            DailyReport.OpenIncident(
                incidentID: incident.id, service: incident.service, severity: incident.severity,
                openedAt: formatRFC3339(incident.time), ageSeconds: max(0, (min(now, end) - incident.time) / 1000))
        }
        var notes: [String] = []
        if deploysToday == 0 && incidentsToday == 0 { notes.append("No deployments or incidents were reported on \(day.text).") }
        let refusedToday = refusedEvents.filter { $0.time >= start && $0.time < end }.sorted { $0.time < $1.time }
        if !refusedToday.isEmpty {
            notes.append("\(MarkdownReport.count(refusedToday.count, "stored event")) of the day \(refusedToday.count == 1 ? "was" : "were") left out because a field was missing or malformed (listed under data quality).")
        }
        let quality = DailyReport.DataQuality(
            refusedEvents: refusedToday.count,
            refused: refusedToday.prefix(DailyReport.DataQuality.listed).map {
                DailyReport.DataQuality.Refused(time: formatRFC3339($0.time), service: $0.service, event: $0.event, problems: $0.problems)
            })
        if activity.count > services.count {
            let left = activity.count - services.count
            notes.append("\(MarkdownReport.count(left, "quieter service")) \(left == 1 ? "is" : "are") not detailed (report.max_services is \(maxServices)); the overall keys count them.")
        }
        return DailyReport(
            date: day.text, timezone: day.timeZoneName,
            events: DailyReport.EventCounts(deployments: deploysToday, incidents: incidentsToday),
            fourKeys: report(nil), services: perService, openIncidents: open, notes: notes, history: history,
            movers: Self.movers(signals), dataQuality: quality)
    }
}

extension DailyReportBuilder {
    /// An event outweighs any number of log lines when services are ranked.
    static let eventWeight = 1 << 40

    /// The `limit` services with the most activity (ties by name), all when there are no more.
    public static func busiest(_ activity: [String: Int], limit: Int) -> Set<String> {
        guard activity.count > limit else { return Set(activity.keys) }
        return Set(activity.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(limit).map(\.key))
    }

    /// The five largest relative moves against the day before; small
    /// counts (under 10 lines either day) are left out as noise.
    static func movers(_ signals: [String: ServiceSignals]) -> [DailyReport.Mover] {
        var moves: [DailyReport.Mover] = []
        func consider(_ service: String, _ measure: String, _ today: Double?, _ yesterday: Double?, floor: Double) {
            guard let today, let yesterday, max(today, yesterday) >= floor, today != yesterday else { return }
            let change = yesterday == 0 ? nil : ((today - yesterday) / yesterday * 1000).rounded() / 10
            moves.append(DailyReport.Mover(service: service, measure: measure, today: today, yesterday: yesterday, changePercent: change))
        }
        for (service, s) in signals {
            let errors = { (lines: [String: Int]) in Double((lines["error"] ?? 0) + (lines["critical"] ?? 0)) }
            consider(service, "error log lines", errors(s.logLines), errors(s.previousLogLines), floor: 10)
            consider(service, "log lines", Double(s.logLines.values.reduce(0, +)), Double(s.previousLogLines.values.reduce(0, +)), floor: 10)
            consider(service, "request rate", s.requestRate, s.previousRequestRate, floor: 0)
            consider(service, "error ratio", s.errorRatio, s.previousErrorRatio, floor: 0)
            consider(service, "p99 latency (s)", s.p99Latency, s.previousP99Latency, floor: 0)
        }
        // A move from nothing ranks first; then by the size of the relative change.
        return moves.sorted {
            let a = $0.changePercent.map(abs) ?? .infinity, b = $1.changePercent.map(abs) ?? .infinity
            return a != b ? a > b : ($0.service, $0.measure) < ($1.service, $1.measure)
        }.prefix(5).map { $0 }
    }
}

extension DailyReport {
    /// The report as JSON, keys sorted (stable, for files and golden tests).
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Every field is a plain value: encoding cannot fail.
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }
}
