import Foundation

/// The daily report as Markdown, fit to paste into a chat or a wiki: the
/// four keys with tiers and trends, open incidents, and a line per service.
public enum MarkdownReport {
    public static func render(_ report: DailyReport) -> String {
        var out = "# Retrospective for \(report.date) (\(report.timezone))\n\n"
        for note in report.notes { out += "> \(note)\n" }
        if !report.notes.isEmpty { out += "\n" }
        out += "| key | \(report.date) | last 7 days | last 30 days |\n| --- | --- | --- | --- |\n"
        let k = report.fourKeys
        out += "| Deployment frequency | \(frequency(k.day)) | \(frequency(k.last7Days)) | \(frequency(k.last30Days)) |\n"
        out += "| Lead time for changes (median) | \(lead(k.day)) | \(lead(k.last7Days)) | \(lead(k.last30Days)) |\n"
        out += "| Change failure rate | \(failure(k.day)) | \(failure(k.last7Days)) | \(failure(k.last30Days)) |\n"
        out += "| Time to restore (median) | \(restore(k.day)) | \(restore(k.last7Days)) | \(restore(k.last30Days)) |\n\n"
        out += "Deployments reported: \(report.events.deployments); incident events: \(report.events.incidents).\n\n"
        if report.openIncidents.isEmpty {
            out += "No open incidents.\n\n"
        } else {
            out += "## Open incidents\n\n"
            for incident in report.openIncidents {
                let severity = incident.severity.map { " (\($0))" } ?? ""
                out += "- **\(incident.incidentID)** on \(incident.service)\(severity), open since \(incident.openedAt) (\(duration(Double(incident.ageSeconds))))\n"
            }
            out += "\n"
        }
        if !report.services.isEmpty {
            out += "## Services\n\n| service | deploys | lead time | failure rate | restore | req/s | error ratio | p99 | log lines (errors) | SLO |\n"
            out += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
            for (name, service) in report.services.sorted(by: { $0.key < $1.key }) {
                let day = service.fourKeys.day
                let health = service.health
                let lines = health.logLinesByLevel.values.reduce(0, +)
                let errors = (health.logLinesByLevel["error"] ?? 0) + (health.logLinesByLevel["critical"] ?? 0)
                out += "| \(name) | \(day.deploymentFrequency.deploys) | \(value(day.leadTimeSeconds.median.map(duration))) "
                out += "| \(value(day.changeFailureRate.value.map(percent))) | \(value(day.timeToRestoreSeconds.median.map(duration))) "
                out += "| \(value(health.requestRate.map(number))) | \(value(health.errorRatio.map(percent))) "
                out += "| \(value(health.p99LatencySeconds.map { duration($0) })) | \(lines) (\(errors)) "
                out += "| \(value(health.slo.map { "\(percent($0.objective)): \($0.status), burn \(number($0.burnRate))×" })) |\n"
            }
            let templated = report.services.sorted(by: { $0.key < $1.key }).filter { !$0.value.health.errorTemplates.isEmpty }
            if !templated.isEmpty {
                out += "\n## Top error templates\n\n"
                for (name, service) in templated {
                    out += "**\(name)**\n\n"
                    for template in service.health.errorTemplates.prefix(3) {
                        out += "- \(template.count) × `\(template.template)` — e.g. `\(template.example.prefix(160))`\n"
                    }
                    out += "\n"
                }
            }
        }
        if !report.movers.isEmpty {
            out += "\n## Biggest movers since the day before\n\n"
            for move in report.movers {
                let change = move.changePercent.map { ($0 >= 0 ? "+" : "") + number($0) + "%" } ?? "new"
                out += "- \(move.service), \(move.measure): \(number(move.yesterday)) → \(number(move.today)) (\(change))\n"
            }
        }
        let quality = report.dataQuality
        if quality.refusedEvents > 0 {
            let verb = quality.refusedEvents == 1 ? "was" : "were"
            out += "\n## Data quality\n\n\(count(quality.refusedEvents, "record")) of the day filed as an event did not check out and \(verb) left out of the keys:\n\n"
            for refused in quality.refused {
                out += "- \(refused.time) \(refused.service.isEmpty ? "(no service)" : refused.service) \(refused.event): \(refused.problems)\n"
            }
            if quality.refusedEvents > quality.refused.count { out += "- … and \(quality.refusedEvents - quality.refused.count) more\n" }
        }
        return out
    }

    private static func frequency(_ p: PeriodKeys) -> String {
        "\(count(p.deploymentFrequency.deploys, "deploy")), \(number(p.deploymentFrequency.deployDaysPerWeek)) days/week\(tier(p.deploymentFrequency.tier))\(arrow(p.trend.deploymentFrequency))"
    }

    private static func lead(_ p: PeriodKeys) -> String {
        value(p.leadTimeSeconds.median.map(duration)) + tier(p.leadTimeSeconds.tier) + arrow(p.trend.leadTime)
    }

    private static func failure(_ p: PeriodKeys) -> String {
        let rate = p.changeFailureRate
        guard let v = rate.value else { return "—" }
        return "\(percent(v)) (\(rate.failed)/\(rate.deploys))\(tier(rate.tier))\(arrow(p.trend.changeFailureRate))"
    }

    private static func restore(_ p: PeriodKeys) -> String {
        let r = p.timeToRestoreSeconds
        return value(r.median.map(duration)) + tier(r.tier) + arrow(p.trend.timeToRestore) + (r.open > 0 ? ", \(r.open) open" : "")
    }

    private static func value(_ text: String?) -> String { text ?? "—" }
    private static func tier(_ tier: Tier?) -> String { tier.map { " · \($0.rawValue)" } ?? "" }

    private static func arrow(_ direction: Trend.Direction?) -> String {
        switch direction {
        case .better?: " ↑ better"
        case .worse?: " ↓ worse"
        case .same?: " = same"
        case nil: ""
        }
    }

    static func percent(_ value: Double) -> String { "\(number(value * 100))%" }

    /// `1 deploy`, `3 deploys`: a count and its noun.
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// `120 ms`, `45 s`, `12 min`, `3.5 h`, `2.1 d`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(number((seconds * 1000).rounded())) ms" }
        if seconds < 60 { return "\(number(seconds.rounded())) s" }
        if seconds < 3_600 { return "\(number((seconds / 60).rounded())) min" }
        if seconds < 86_400 { return "\(number((seconds / 360).rounded() / 10)) h" }
        return "\(number((seconds / 8_640).rounded() / 10)) d"
    }
}
