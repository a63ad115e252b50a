/// The report in a sentence or two, for a chat webhook.
public enum ReportSummary {
    public static func text(_ report: DailyReport) -> String {
        let k = report.fourKeys.day
        func tier(_ t: Tier?) -> String { t.map { " (\($0.rawValue))" } ?? "" }
        var parts = ["\(MarkdownReport.count(k.deploymentFrequency.deploys, "deploy"))\(tier(k.deploymentFrequency.tier))"]
        parts.append("lead time \(k.leadTimeSeconds.median.map(MarkdownReport.duration) ?? "—")\(tier(k.leadTimeSeconds.tier))")
        parts.append("change failure rate \(k.changeFailureRate.value.map(MarkdownReport.percent) ?? "—")\(tier(k.changeFailureRate.tier))")
        parts.append("time to restore \(k.timeToRestoreSeconds.median.map(MarkdownReport.duration) ?? "—")\(tier(k.timeToRestoreSeconds.tier))")
        var text = "Retrospective for \(report.date) (\(report.timezone)): " + parts.joined(separator: ", ") + "."
        if !report.openIncidents.isEmpty {
            text += " \(MarkdownReport.count(report.openIncidents.count, "open incident")): "
                + report.openIncidents.map { "\($0.incidentID) on \($0.service)" }.joined(separator: ", ") + "."
        }
        for note in report.notes { text += " " + note }
        return text
    }
}
