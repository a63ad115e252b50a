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
        #expect(html.contains("3 deploys <span class=\"tier elite\">elite</span>"))
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

    @Test func textIsEscaped() {
        #expect(HTMLReport.escape("<b>\"x\" & y</b>") == "&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;")
    }
}
