import AsyncHTTPClient
import Foundation
import Logging
import LogStorage
import NIOCore
import NIOPosix
import Prometheus
import Retrospective
import ServiceLifecycle
import TelemetryModel

/// Writes the previous day's report each day at `report.daily.at` (local
/// time in `report.timezone`) to `DATA/reports/YYYY-MM-DD.{html,md,json}`,
/// and POSTs it to `report.daily.webhook` when one is set, retrying with a
/// doubling backoff.
public final class ReportScheduleService: Service {
    let maker: DailyReportMaker
    let config: ReportConfig
    let directory: String
    let clock: any WallClock
    let logger: Logger
    let written: Counter
    let webhookFailures: Counter
    let failures: Counter

    public init(maker: DailyReportMaker, config: ReportConfig, dataDirectory: String, clock: any WallClock,
                registry: PrometheusCollectorRegistry, logger: Logger) {
        self.maker = maker
        self.config = config
        directory = dataDirectory + "/reports"
        self.clock = clock
        self.logger = logger
        written = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_reports_written", unitName: "total", helpText: "Daily reports written by the schedule."))
        webhookFailures = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_report_webhook_failures", unitName: "total",
            helpText: "Daily reports the webhook did not take after every retry."))
        failures = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_report_failures", unitName: "total",
            helpText: "Daily reports the schedule could not make (damaged data, a store shut down); the error is logged."))
    }

    public func run() async throws {
        guard let minutes = config.dailyAtMinutes else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let now = self.clock.nowMillis()
                let next = ReportConfig.nextRun(after: now, minutes: minutes, timeZone: self.config.timeZone)
                self.logger.info("next daily report", metadata: ["at": "\(formatRFC3339(next))"])
                do {
                    try await Task.sleep(for: .milliseconds(next - now))
                } catch {
                    return
                }
                _ = await self.deliver(day: ReportDay(yesterdayOf: self.clock.nowMillis(), timeZone: self.config.timeZone))
            }
        }
    }

    /// Makes a day's report, writes its three files, and sends it to the
    /// webhook; returns the paths written. Errors are logged and counted
    /// (`tally_report_failures_total`, `tally_report_webhook_failures_total`).
    @discardableResult
    public func deliver(day: ReportDay) async -> [String] {
        let maker = self.maker
        let now = clock.nowMillis()
        let report: DailyReport
        do {
            report = try await NIOThreadPool.singleton.runIfActive { try maker.report(for: day, now: now) }
        } catch {
            failures.increment()
            logger.error("cannot make the daily report", metadata: ["date": "\(day.start)", "error": "\(error)"])
            return []
        }
        var paths: [String] = []
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (suffix, data) in [("json", report.json()), ("md", Data(MarkdownReport.render(report).utf8)), ("html", Data(HTMLReport.render(report).utf8))] {
                let path = directory + "/\(report.date).\(suffix)"
                // Written whole then renamed: a reader never sees half a report.
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
                paths.append(path)
            }
            written.increment()
            logger.info("wrote the daily report", metadata: ["date": "\(report.date)", "dir": "\(directory)"])
        } catch {
            logger.error("cannot write the daily report", metadata: ["date": "\(report.date)", "error": "\(error)"])
        }
        if let url = config.webhookURL { await send(report, to: url) }
        return paths
    }

    private func send(_ report: DailyReport, to url: String) async {
        let body: Data
        if config.webhookFormat == "text" {
            body = (try? JSONSerialization.data(withJSONObject: ["text": ReportSummary.text(report)])) ?? Data()
        } else {
            body = report.json()
        }
        var delay: Duration = .seconds(1)
        for attempt in 1...max(1, config.webhookAttempts) {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
            var problem: String
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                if (200..<300).contains(response.status.code) {
                    logger.info("sent the daily report to the webhook", metadata: ["date": "\(report.date)", "attempt": "\(attempt)"])
                    return
                }
                problem = "status \(response.status.code)"
            } catch {
                problem = "\(error)"
            }
            logger.warning("the report webhook failed; retrying", metadata: ["attempt": "\(attempt)", "problem": "\(problem)"])
            guard attempt < config.webhookAttempts else { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(300))
        }
        webhookFailures.increment()
        logger.error("gave up sending the daily report to the webhook", metadata: ["date": "\(report.date)", "url": "\(url)"])
    }
}
