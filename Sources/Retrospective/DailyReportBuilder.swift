import Foundation
import TelemetryModel

/// Builds the daily report from the delivery events and the day's log
/// volume. Pure: the caller reads the stores.
public struct DailyReportBuilder: Sendable {
    public let calculator: FourKeysCalculator

    public init(events: [DeliveryEvent], failureWindowMillis: Int64 = 86_400_000) {
        calculator = FourKeysCalculator(events: events, failureWindowMillis: failureWindowMillis)
    }

    /// The report for `day`; `logLines` is the day's log lines by service and level; `now` ages open incidents (ms).
    public func build(day: ReportDay, logLines: [String: [String: Int]] = [:], refusedEvents: Int = 0, now: Int64) -> DailyReport {
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
        var services = Set(calculator.deployments.filter { $0.time >= horizon && $0.time < end }.map(\.service))
        services.formUnion(calculator.incidents.filter { $0.time >= horizon && $0.time < end }.map(\.service))
        services.formUnion(logLines.keys)
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
            perService[service] = DailyReport.ServiceReport(
                fourKeys: report(service), health: DailyReport.Health(logLinesByLevel: logLines[service] ?? [:]),
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
        if refusedEvents > 0 { notes.append("\(refusedEvents) stored events were left out because a field was missing or malformed.") }
        return DailyReport(
            date: day.text, timezone: day.timeZoneName,
            events: DailyReport.EventCounts(deployments: deploysToday, incidents: incidentsToday),
            fourKeys: report(nil), services: perService, openIncidents: open, notes: notes, history: history)
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
