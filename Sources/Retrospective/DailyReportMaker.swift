import DurableFiles
import LogStorage
import TelemetryModel

/// Reads everything a day's report needs from the stores and builds it:
/// the events of the last 61 days, the log volume and error templates of
/// the day and the day before, and each service's health through PromQL
/// and the sketch archive.
/// Blocking work: callers run it off the event loops.
public struct DailyReportMaker: Sendable {
    let store: LogStore
    let querier: any SeriesQuerier
    /// The day's merged latency sketches; without it, only a PromQL `p99_latency` gives the p99.
    let sketches: (any SketchQuerier)?
    let config: ReportConfig

    public init(store: LogStore, querier: any SeriesQuerier, sketches: (any SketchQuerier)? = nil, config: ReportConfig) {
        self.store = store
        self.querier = querier
        self.sketches = sketches
        self.config = config
    }

    /// Fails when data the report needs is damaged, rather than give a
    /// report that silently leaves it out.
    public func report(for day: ReportDay, now: Int64) throws(StoredDataError) -> DailyReport {
        let previousStart = ReportDay.midnight(ReportDay.localDay(of: day.start, day.timeZone) - 1, day.timeZone)
        let history: (events: [DeliveryEvent], refused: [RefusedEvent])
        let today: [String: [String: Int]]
        let yesterday: [String: [String: Int]]
        let templates: [String: [LogTemplate]]
        do throws(StorageError) {
            history = try EventHistory.events(in: store, start: day.start - ReportConfig.historyMillis, end: day.end + config.failureWindowMillis)
            today = try EventHistory.logVolume(in: store, start: day.start, end: day.end)
            yesterday = try EventHistory.logVolume(in: store, start: previousStart, end: day.start)
            templates = try HealthProbe.errorTemplates(in: store, start: day.start, end: day.end)
        } catch {
            throw StoredDataError("\(error)")
        }
        // The same ranking as the builder's, so that only the services it details are probed.
        var activity: [String: Int] = today.mapValues { $0.values.reduce(0, +) }
        for service in yesterday.keys where activity[service] == nil { activity[service] = 0 }
        let horizon = ReportDay.midnight(ReportDay.localDay(of: day.start, day.timeZone) - 59, day.timeZone)
        for event in history.events {
            switch event {
            case .deployment(let deploy) where deploy.time >= horizon && deploy.time < day.end:
                activity[deploy.service, default: 0] += DailyReportBuilder.eventWeight
            case .incident(let incident) where incident.time >= horizon && incident.time < day.end:
                activity[incident.service, default: 0] += DailyReportBuilder.eventWeight
            default: break
            }
        }
        let services = DailyReportBuilder.busiest(activity, limit: config.maxServices)
        var signals: [String: DailyReportBuilder.ServiceSignals] = [:]
        let healthQueries = Dictionary(uniqueKeysWithValues: services.map { ($0, config.serviceHealth[$0] ?? config.health) })
        var p99s: (day: [String: Double], before: [String: Double]) = ([:], [:])
        if let sketches {
            p99s.day = try HealthProbe.sketchP99s(sketches: sketches, queries: healthQueries, start: day.start, end: day.end)
            p99s.before = try HealthProbe.sketchP99s(sketches: sketches, queries: healthQueries, start: previousStart, end: day.start)
        }
        for service in services {
            var s = DailyReportBuilder.ServiceSignals()
            s.logLines = today[service] ?? [:]
            s.previousLogLines = yesterday[service] ?? [:]
            s.errorTemplates = templates[service] ?? []
            let queries = healthQueries[service] ?? config.health
            let now = try HealthProbe.metrics(querier: querier, queries: queries, service: service, end: day.end)
            let before = try HealthProbe.metrics(querier: querier, queries: queries, service: service, end: day.start)
            (s.requestRate, s.errorRatio, s.p99Latency) = now
            (s.previousRequestRate, s.previousErrorRatio, s.previousP99Latency) = before
            if queries.p99Latency == nil {
                (s.p99Latency, s.previousP99Latency) = (p99s.day[service], p99s.before[service])
            }
            s.sloObjective = config.sloObjectives[service]
            s.queries = queries
            signals[service] = s
        }
        return DailyReportBuilder(events: history.events, failureWindowMillis: config.failureWindowMillis)
            .build(day: day, signals: signals, refusedEvents: history.refused, maxServices: config.maxServices, now: now)
    }
}
