import Foundation
import TelemetryModel

/// The daily report as one self-contained HTML page: inline CSS and inline
/// SVG charts, no script and no request of any kind. It reflows to a narrow
/// window, prints cleanly, and every chart has a caption and a table.
public enum HTMLReport {
    public static func render(_ report: DailyReport) -> String {
        var html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Retrospective \(escape(report.date))</title>
            <style>\(css)</style>
            </head>
            <body>
            <header><h1>Retrospective for \(escape(report.date))</h1>
            <p class="sub">Days in \(escape(report.timezone)) · \(report.events.deployments) deployments and \(report.events.incidents) incident events reported that day</p></header>

            """
        for note in report.notes { html += "<p class=\"note\">\(escape(note))</p>\n" }
        html += "<section class=\"cards\" aria-label=\"The four key metrics\">\n"
        let k = report.fourKeys
        html += card("Deployment frequency", id: "deployment-frequency",
                     value: MarkdownReport.count(k.day.deploymentFrequency.deploys, "deploy"), detail: "\(number(k.day.deploymentFrequency.deployDaysPerWeek)) deploy days a week",
                     tier: k.day.deploymentFrequency.tier, trend: k.day.trend.deploymentFrequency,
                     windows: [("7 days", MarkdownReport.count(k.last7Days.deploymentFrequency.deploys, "deploy"), k.last7Days.deploymentFrequency.tier),
                               ("30 days", MarkdownReport.count(k.last30Days.deploymentFrequency.deploys, "deploy"), k.last30Days.deploymentFrequency.tier)])
        html += card("Lead time for changes", id: "lead-time",
                     value: optional(k.day.leadTimeSeconds.median.map(MarkdownReport.duration)), detail: "median; p90 \(optional(k.day.leadTimeSeconds.p90.map(MarkdownReport.duration)))",
                     tier: k.day.leadTimeSeconds.tier, trend: k.day.trend.leadTime,
                     windows: [("7 days", optional(k.last7Days.leadTimeSeconds.median.map(MarkdownReport.duration)), k.last7Days.leadTimeSeconds.tier),
                               ("30 days", optional(k.last30Days.leadTimeSeconds.median.map(MarkdownReport.duration)), k.last30Days.leadTimeSeconds.tier)])
        html += card("Change failure rate", id: "change-failure-rate",
                     value: optional(k.day.changeFailureRate.value.map(MarkdownReport.percent)),
                     detail: "\(k.day.changeFailureRate.failed) of \(k.day.changeFailureRate.deploys) deploys failed",
                     tier: k.day.changeFailureRate.tier, trend: k.day.trend.changeFailureRate,
                     windows: [("7 days", optional(k.last7Days.changeFailureRate.value.map(MarkdownReport.percent)), k.last7Days.changeFailureRate.tier),
                               ("30 days", optional(k.last30Days.changeFailureRate.value.map(MarkdownReport.percent)), k.last30Days.changeFailureRate.tier)])
        html += card("Time to restore service", id: "time-to-restore",
                     value: optional(k.day.timeToRestoreSeconds.median.map(MarkdownReport.duration)),
                     detail: "median of \(k.day.timeToRestoreSeconds.resolved) resolved; \(k.day.timeToRestoreSeconds.open) open",
                     tier: k.day.timeToRestoreSeconds.tier, trend: k.day.trend.timeToRestore,
                     windows: [("7 days", optional(k.last7Days.timeToRestoreSeconds.median.map(MarkdownReport.duration)), k.last7Days.timeToRestoreSeconds.tier),
                               ("30 days", optional(k.last30Days.timeToRestoreSeconds.median.map(MarkdownReport.duration)), k.last30Days.timeToRestoreSeconds.tier)])
        html += "</section>\n"
        html += deploysChart(report.history.days)
        html += leadTimeChart(report.history.leadTimesSeconds)
        html += incidentTimeline(report.history.incidents, days: report.history.days, timeZone: report.timezone)
        html += servicesTable(report)
        html += openIncidents(report.openIncidents)
        html += dataQuality(report.dataQuality)
        html += "<footer>tally · the four keys as defined in docs/retrospective.md (DORA); tiers of the State of DevOps Report 2023.</footer>\n</body>\n</html>\n"
        return html
    }

    // MARK: Pieces

    private static func card(
        _ title: String, id: String, value: String, detail: String, tier: Tier?, trend: Trend.Direction?,
        windows: [(String, String, Tier?)]
    ) -> String {
        var html = "<article class=\"card\" id=\"\(id)\"><h2>\(escape(title))</h2>"
        html += "<p class=\"value\">\(escape(value)) \(badge(tier))</p><p class=\"detail\">\(escape(detail))\(trendText(trend))</p><dl>"
        for (label, text, tier) in windows { html += "<dt>\(escape(label))</dt><dd>\(escape(text)) \(badge(tier))</dd>" }
        return html + "</dl></article>\n"
    }

    private static func badge(_ tier: Tier?) -> String {
        guard let tier else { return "" }
        return "<span class=\"tier \(tier.rawValue)\">\(tier.rawValue)</span>"
    }

    private static func trendText(_ direction: Trend.Direction?) -> String {
        switch direction {
        case .better?: " · <span class=\"better\">better than the day before</span>"
        case .worse?: " · <span class=\"worse\">worse than the day before</span>"
        case .same?: " · same as the day before"
        case nil: ""
        }
    }

    private static func deploysChart(_ days: [DailyReport.Day]) -> String {
        let width = 600.0, height = 160.0, bar = width / Double(max(days.count, 1))
        let top = Double(max(days.map { $0.deploys + $0.failed }.max() ?? 0, 1))
        var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height) + 20)\" role=\"img\" aria-labelledby=\"deploys-caption\">"
        for (i, day) in days.enumerated() {
            let x = Double(i) * bar
            let ok = Double(day.deploys) / top * height
            let bad = Double(day.failed) / top * height
            svg += "<rect class=\"ok\" x=\"\(fmt(x + 1))\" y=\"\(fmt(height - ok))\" width=\"\(fmt(bar - 2))\" height=\"\(fmt(ok))\"><title>\(day.date): \(MarkdownReport.count(day.deploys, "deploy")), \(day.failed) failed</title></rect>"
            if day.failed > 0 {
                svg += "<rect class=\"bad\" x=\"\(fmt(x + bar * 0.3))\" y=\"\(fmt(height - bad))\" width=\"\(fmt(bar * 0.4))\" height=\"\(fmt(bad))\"/>"
            }
        }
        if let first = days.first, let last = days.last {
            svg += "<text x=\"0\" y=\"\(Int(height) + 16)\">\(escape(first.date))</text><text x=\"\(Int(width))\" y=\"\(Int(height) + 16)\" text-anchor=\"end\">\(escape(last.date))</text>"
        }
        svg += "</svg>"
        let total = days.reduce(0) { $0 + $1.deploys }
        var table = "<table><thead><tr><th>day</th><th>successful deploys</th><th>failed deploys</th></tr></thead><tbody>"
        for day in days { table += "<tr><td>\(escape(day.date))</td><td>\(day.deploys)</td><td>\(day.failed)</td></tr>" }
        table += "</tbody></table>"
        return figure(
            "Deploys per day, last 30 days", svg, caption: "deploys-caption",
            text: "\(MarkdownReport.count(total, "successful production deploy")) in 30 days; failed deploys are drawn in the narrow dark bars.", table: table)
    }

    private static func leadTimeChart(_ leadTimes: [Double]) -> String {
        let buckets: [(String, Double)] = [("< 1 h", 3_600), ("1–4 h", 14_400), ("4–24 h", 86_400), ("1–7 d", 604_800), ("≥ 7 d", .infinity)]
        var counts = [Int](repeating: 0, count: buckets.count)
        for value in leadTimes { counts[buckets.firstIndex { value < $0.1 } ?? buckets.count - 1] += 1 }
        let top = Double(max(counts.max() ?? 0, 1)), width = 600.0, rowHeight = 26.0
        var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(rowHeight * Double(buckets.count)))\" role=\"img\" aria-labelledby=\"lead-caption\">"
        for (i, (label, _)) in buckets.enumerated() {
            let y = Double(i) * rowHeight
            let w = Double(counts[i]) / top * (width - 140)
            svg += "<text x=\"0\" y=\"\(fmt(y + 17))\">\(escape(label))</text><rect class=\"ok\" x=\"80\" y=\"\(fmt(y + 4))\" width=\"\(fmt(w))\" height=\"\(fmt(rowHeight - 8))\"/>"
            svg += "<text x=\"\(fmt(86 + w))\" y=\"\(fmt(y + 17))\">\(counts[i])</text>"
        }
        svg += "</svg>"
        var table = "<table><thead><tr><th>lead time</th><th>deploys</th></tr></thead><tbody>"
        for (i, (label, _)) in buckets.enumerated() { table += "<tr><td>\(escape(label))</td><td>\(counts[i])</td></tr>" }
        table += "</tbody></table>"
        return figure(
            "Lead time for changes, last 30 days", svg, caption: "lead-caption",
            text: "\(MarkdownReport.count(leadTimes.count, "successful production deploy")) by the time from commit to production.", table: table)
    }

    private static func incidentTimeline(_ incidents: [DailyReport.IncidentSpan], days: [DailyReport.Day], timeZone: String) -> String {
        // The axis runs from the first day's local midnight to the end of the last, in the
        // report's zone (days of 23 or 25 hours included), as the day columns do.
        guard let zone = TimeZone(identifier: timeZone), let firstDay = days.first?.date, let lastDay = days.last?.date,
            let first = try? ReportDay(firstDay, timeZone: zone, now: .max), let last = try? ReportDay(lastDay, timeZone: zone, now: .max)
        else { return "" }
        let start = first.start
        let span = Double(max(last.end - start, 1)), width = 600.0, rowHeight = 22.0
        let rows = max(incidents.count, 1)
        var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(rowHeight * Double(rows)))\" role=\"img\" aria-labelledby=\"incident-caption\">"
        for (i, incident) in incidents.enumerated() {
            let opened = (try? parseRFC3339(incident.openedAt)) ?? start
            let closed = incident.resolvedAt.flatMap { try? parseRFC3339($0) } ?? (start + Int64(span))
            let x = max(0, Double(opened - start) / span * width)
            let w = max(3, Double(closed - max(opened, start)) / span * width)
            let y = Double(i) * rowHeight
            svg += "<rect class=\"\(incident.resolvedAt == nil ? "bad" : "warn")\" x=\"\(fmt(x))\" y=\"\(fmt(y + 4))\" width=\"\(fmt(min(w, width - x)))\" height=\"\(fmt(rowHeight - 8))\"><title>\(escape(incident.incidentID)) on \(escape(incident.service))</title></rect>"
        }
        if incidents.isEmpty { svg += "<text x=\"0\" y=\"16\">no incidents</text>" }
        svg += "</svg>"
        var table = "<table><thead><tr><th>incident</th><th>service</th><th>opened</th><th>resolved</th><th>duration</th></tr></thead><tbody>"
        for incident in incidents {
            table += "<tr><td>\(escape(incident.incidentID))</td><td>\(escape(incident.service))</td><td>\(escape(incident.openedAt))</td>"
            table += "<td>\(escape(incident.resolvedAt ?? "open"))</td><td>\(escape(incident.durationSeconds.map { MarkdownReport.duration(Double($0)) } ?? "—"))</td></tr>"
        }
        table += "</tbody></table>"
        return figure(
            "Incidents, last 30 days", svg, caption: "incident-caption",
            text: "\(MarkdownReport.count(incidents.count, "incident")); each bar runs from opening to resolution, open ones to the end of the day.", table: table)
    }

    private static func servicesTable(_ report: DailyReport) -> String {
        guard !report.services.isEmpty else { return "" }
        var html = "<section><h2>Services</h2><div class=\"scroll\"><table class=\"services\"><thead><tr><th>service</th><th>deploys, 30 days</th>"
        html += "<th>deploys</th><th>lead time</th><th>failure rate</th><th>restore</th><th>req/s</th><th>error ratio</th><th>p99</th>"
        html += "<th>SLO</th><th>log lines</th><th>errors</th></tr></thead><tbody>"
        for (name, service) in report.services.sorted(by: { $0.key < $1.key }) {
            let day = service.fourKeys.day
            let lines = service.health.logLinesByLevel.values.reduce(0, +)
            let errors = (service.health.logLinesByLevel["error"] ?? 0) + (service.health.logLinesByLevel["critical"] ?? 0)
            let total = service.deploysPerDay.reduce(0, +)
            html += "<tr><th scope=\"row\">\(escape(name))</th><td>\(sparkline(service.deploysPerDay, label: "\(name): \(MarkdownReport.count(total, "deploy")) in 30 days")) \(total)</td>"
            html += "<td>\(day.deploymentFrequency.deploys)</td><td>\(escape(optional(day.leadTimeSeconds.median.map(MarkdownReport.duration))))</td>"
            html += "<td>\(escape(optional(day.changeFailureRate.value.map(MarkdownReport.percent))))</td>"
            html += "<td>\(escape(optional(day.timeToRestoreSeconds.median.map(MarkdownReport.duration))))</td>"
            let health = service.health
            html += "<td>\(escape(optional(health.requestRate.map(number))))</td><td>\(escape(optional(health.errorRatio.map(MarkdownReport.percent))))</td>"
            html += "<td>\(escape(optional(health.p99LatencySeconds.map { MarkdownReport.duration($0) })))</td>"
            html += "<td>\(escape(optional(health.slo.map { "\(MarkdownReport.percent($0.objective)) \($0.status), burn \(number($0.burnRate))×" })))</td>"
            html += "<td>\(lines)</td><td>\(errors)</td></tr>"
        }
        html += "</tbody></table></div></section>\n"
        let templated = report.services.sorted(by: { $0.key < $1.key }).filter { !$0.value.health.errorTemplates.isEmpty }
        if !templated.isEmpty {
            html += "<section><h2>Top error templates</h2>"
            for (name, service) in templated {
                html += "<h3>\(escape(name))</h3><ul class=\"templates\">"
                for template in service.health.errorTemplates.prefix(5) {
                    html += "<li><strong>\(template.count) ×</strong> <code>\(escape(template.template))</code><br><small>e.g. \(escape(String(template.example.prefix(200))))</small></li>"
                }
                html += "</ul>"
            }
            html += "</section>\n"
        }
        if !report.movers.isEmpty {
            html += "<section><h2>Biggest movers since the day before</h2><ul>"
            for move in report.movers {
                let change = move.changePercent.map { ($0 >= 0 ? "+" : "") + number($0) + "%" } ?? "new"
                html += "<li>\(escape(move.service)), \(escape(move.measure)): \(number(move.yesterday)) → \(number(move.today)) (\(escape(change)))</li>"
            }
            html += "</ul></section>\n"
        }
        return html
    }

    private static func sparkline(_ values: [Int], label: String) -> String {
        let top = Double(max(values.max() ?? 0, 1)), width = 90.0, height = 20.0
        let step = width / Double(max(values.count - 1, 1))
        let points = values.enumerated().map { "\(fmt(Double($0.offset) * step)),\(fmt(height - Double($0.element) / top * (height - 2) - 1))" }
        return "<svg class=\"spark\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(label))\"><polyline points=\"\(points.joined(separator: " "))\"/></svg>"
    }

    private static func openIncidents(_ incidents: [DailyReport.OpenIncident]) -> String {
        var html = "<section><h2>Open incidents</h2>"
        if incidents.isEmpty { return html + "<p>None.</p></section>\n" }
        html += "<ul>"
        for incident in incidents {
            let severity = incident.severity.map { " (\(escape($0)))" } ?? ""
            html += "<li><strong>\(escape(incident.incidentID))</strong> on \(escape(incident.service))\(severity), open since \(escape(incident.openedAt)), \(escape(MarkdownReport.duration(Double(incident.ageSeconds))))</li>"
        }
        return html + "</ul></section>\n"
    }

    /// The day's records filed as events that did not check out, each with every problem.
    private static func dataQuality(_ quality: DailyReport.DataQuality) -> String {
        guard quality.refusedEvents > 0 else { return "" }
        let verb = quality.refusedEvents == 1 ? "was" : "were"
        var html = "<section id=\"data-quality\"><h2>Data quality</h2><p>\(escape(MarkdownReport.count(quality.refusedEvents, "record"))) of the day filed as an event did not check out and \(verb) left out of the keys.</p><ul>"
        for refused in quality.refused {
            html += "<li>\(escape(refused.time)) <strong>\(escape(refused.service.isEmpty ? "(no service)" : refused.service))</strong> \(escape(refused.event)): \(escape(refused.problems))</li>"
        }
        if quality.refusedEvents > quality.refused.count { html += "<li>… and \(quality.refusedEvents - quality.refused.count) more</li>" }
        return html + "</ul></section>\n"
    }

    private static func figure(_ title: String, _ svg: String, caption: String, text: String, table: String) -> String {
        "<section><h2>\(escape(title))</h2><figure>\(svg)<figcaption id=\"\(caption)\">\(escape(text))</figcaption>"
            + "<details><summary>The figures as a table</summary><div class=\"scroll\">\(table)</div></details></figure></section>\n"
    }

    // MARK: Text

    private static func optional(_ text: String?) -> String { text ?? "—" }
    private static func number(_ value: Double) -> String { MarkdownReport.number(value) }
    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    private static let css = """
        :root{--fg:#1d2330;--muted:#5b6475;--ok:#2f7d4f;--bad:#b3261e;--warn:#b26a00;--line:#d9dde5;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg)}
        body{max-width:72rem;margin:0 auto;padding:1rem 1.25rem;line-height:1.4}
        h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}.sub,.detail,figcaption,footer{color:var(--muted)}
        .note{background:#fff6d6;border-left:4px solid var(--warn);padding:.4rem .7rem}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.8rem}
        .card{border:1px solid var(--line);border-radius:.5rem;padding:.7rem .9rem}.card h2{margin:0 0 .3rem;font-size:1rem}
        .value{font-size:1.5rem;font-weight:600;margin:.1rem 0}.card dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem .6rem;margin:.4rem 0 0}
        .card dt{color:var(--muted)}.card dd{margin:0}
        .tier{display:inline-block;font-size:.75rem;font-weight:600;padding:.05rem .45rem;border-radius:1rem;vertical-align:middle;color:#fff}
        .tier.elite{background:#1b6e3c}.tier.high{background:#3f8f5a}.tier.medium{background:#b26a00}.tier.low{background:#b3261e}
        .better{color:var(--ok)}.worse{color:var(--bad)}
        figure{margin:0}svg{width:100%;height:auto;max-height:14rem}svg text{font-size:11px;fill:var(--muted)}
        rect.ok{fill:var(--ok)}rect.bad{fill:var(--bad)}rect.warn{fill:var(--warn)}
        svg.spark{width:90px;height:20px;vertical-align:middle}svg.spark polyline{fill:none;stroke:var(--ok);stroke-width:1.5}
        table{border-collapse:collapse;font-size:.9rem}th,td{border-bottom:1px solid var(--line);padding:.25rem .6rem;text-align:left}
        .scroll{overflow-x:auto}details{margin:.4rem 0}footer{margin-top:2rem;font-size:.85rem}
        h3{font-size:1rem;margin:.8rem 0 .2rem}.templates li{margin:.25rem 0}code{font-size:.85rem;background:#f2f4f7;padding:0 .2rem}
        @media print{body{max-width:none;padding:0}details{display:none}section,article,figure{break-inside:avoid}.tier{border:1px solid #000;color:#000;background:none!important}}
        """
}
