import Foundation
import Logging
import LogStorage
import Prometheus
import Retrospective
import TallyTestKit
import TelemetryModel
import Testing
import TimeSeriesStorage
@testable import TallyApp

@Suite("Daily report schedule", .serialized)
struct ReportScheduleTests {
    @Test func theNextRunFollowsTheLocalClock() {
        let utc = TimeZone(identifier: "UTC")!
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let at = { (text: String) in (try? parseRFC3339(text)) ?? 0 }
        #expect(ReportConfig.nextRun(after: at("2026-11-20T06:00:00Z"), minutes: 7 * 60, timeZone: utc) == at("2026-11-20T07:00:00Z"))
        #expect(ReportConfig.nextRun(after: at("2026-11-20T07:00:00Z"), minutes: 7 * 60, timeZone: utc) == at("2026-11-21T07:00:00Z"))
        #expect(ReportConfig.nextRun(after: at("2026-11-20T06:30:00Z"), minutes: 7 * 60, timeZone: berlin) == at("2026-11-21T06:00:00Z"))
        // The night the clocks go back in Berlin (25 October 2026): 07:00 local is 06:00 UTC.
        #expect(ReportConfig.nextRun(after: at("2026-10-25T00:00:00Z"), minutes: 7 * 60, timeZone: berlin) == at("2026-10-25T06:00:00Z"))
    }

    @Test func aDeliveredReportIsWrittenAndSentAfterRetries() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let now = SystemClock().nowNanos()
        let logs = try LogStore(directory: dir.path + "/logs", now: now)
        let metrics = try TSDB(directory: dir.path + "/metrics")
        let sink = try await WebhookSink(failures: 2)
        var config = ReportConfig()
        config.webhookURL = "http://127.0.0.1:\(sink.port)/hook"
        config.webhookFormat = "text"
        let service = ReportScheduleService(
            maker: DailyReportMaker(store: logs, querier: metrics, config: config), config: config, dataDirectory: dir.path,
            clock: SystemClock(), registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"))
        let day = ReportDay(yesterdayOf: SystemClock().nowMillis(), timeZone: config.timeZone)
        let paths = await service.deliver(day: day)
        #expect(paths.map { URL(fileURLWithPath: $0).lastPathComponent } == ["\(day.text).json", "\(day.text).md", "\(day.text).html"])
        let markdown = try String(contentsOfFile: dir.path + "/reports/\(day.text).md", encoding: .utf8)
        #expect(markdown.contains("No deployments or incidents were reported on \(day.text)."))
        // Two 503s, then taken: three attempts, one body (after 1 s and 2 s of backoff).
        #expect(sink.attempts == 3)
        #expect(sink.bodies.count == 1)
        #expect(sink.bodies.first?.contains(#""text":"Retrospective for \#(day.text) (UTC): 0 deploys"#) == true, "\(sink.bodies)")
        await sink.close()
    }
}
