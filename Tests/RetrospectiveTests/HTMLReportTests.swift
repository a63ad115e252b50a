import Foundation
import Testing
@testable import Retrospective

@Suite("HTML report")
struct HTMLReportTests {
    func page() throws -> String {
        let day = try ReportDay("2026-11-20", timeZone: utc, now: reportNow)
        return HTMLReport.render(DailyReportBuilder(events: history).build(day: day, logLines: ["api": ["info": 120, "error": 3]], now: reportNow))
    }

    @Test func selfContainedWithNoRequest() throws {
        let html = try page()
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("url("), "the page must make no request")
        #expect(html.contains("<meta name=\"viewport\""))
        #expect(html.contains("@media print"))
    }

    @Test func theFourKeysAndTheirTiersAreInThePage() throws {
        let html = try page()
        #expect(html.contains("3 deploys <span class=\"tier high\">high</span>"))
        #expect(html.contains(">2 h <span class=\"tier elite\">elite</span>"))
        #expect(html.contains(">100% <span class=\"tier low\">low</span>"))
        #expect(html.contains(">1.50 h <span class=\"tier high\">high</span>"))
        #expect(html.contains("INC-2"))
    }

    @Test func everyChartHasACaptionAndATable() throws {
        let html = try page()
        let charts = html.components(separatedBy: "role=\"img\" aria-labelledby=").count - 1
        #expect(charts == 3)
        #expect(html.components(separatedBy: "<figcaption").count - 1 == 3)
        #expect(html.components(separatedBy: "<summary>The figures as a table</summary>").count - 1 == 3)
        // One sparkline per service, labelled.
        #expect(html.contains("aria-label=\"api: 3 deploys in 30 days\""))
    }

    /// Bars sit against local midnights of the report's zone: an incident opened at
    /// midnight in New York on the first of the 30 days starts the axis, and one opened
    /// at 23:00 on the last day sits an hour before its end (the autumn change makes the
    /// 30 days 721 hours).
    @Test func incidentBarsFollowTheReportsTimeZone() throws {
        let newYork = TimeZone(identifier: "America/New_York")!
        let events = [
            incident("INC-A", "api", .opened, "2026-10-22T04:00:00Z"),  // 00:00 EDT, the first day
            incident("INC-A", "api", .resolved, "2026-10-22T16:00:00Z"),
            incident("INC-B", "api", .opened, "2026-11-21T04:00:00Z"),
        ]
        let day = try ReportDay("2026-11-20", timeZone: newYork, now: reportNow)
        let report = DailyReportBuilder(events: events).build(day: day, now: reportNow)
        #expect(report.history.days.first?.date == "2026-10-22")
        let html = HTMLReport.render(report)
        // 12 h of a 721 h axis 600 units wide; the open one an hour before the axis ends.
        #expect(html.contains("<rect class=\"warn\" x=\"0.0\" y=\"4.0\" width=\"10.0\""))
        #expect(html.contains("<rect class=\"bad\" x=\"599.2\" y=\"26.0\" width=\"0.8\""))
    }

    @Test func textIsEscaped() {
        #expect(HTMLReport.escape("<b>\"x\" & y</b>") == "&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;")
    }
}
