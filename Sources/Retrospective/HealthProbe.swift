import DurableFiles
import LogStorage
import PromQL
import TelemetryModel

/// What gives a service's request rate, error ratio and p99 latency
/// (`report.health` in tally.yaml). `$service` stands for the service name
/// made a metric name (`api.gw` → `api_gw`). The defaults fit StatsD's
/// naming: a counter `SERVICE.requests`, a counter `SERVICE.errors` and a
/// timer `SERVICE.latency`.
public struct HealthQueries: Sendable, Equatable {
    public var requestRate = "sum(rate($service_requests_total[1d]))"
    public var errorRatio = "sum(rate($service_errors_total[1d])) / sum(rate($service_requests_total[1d]))"
    /// The summary family (a timer, histogram or distribution, by its output
    /// name) whose sketches, merged over the day and across its series, give
    /// the p99: the 99th percentile of every value of the day.
    public var latencyMetric = "$service_latency_seconds"
    /// PromQL that gives the p99 instead of the sketches, when set (for
    /// latencies that do not come in as StatsD timers).
    public var p99Latency: String?

    public init() {}

    /// The queries with `$service` filled in.
    public func forService(_ service: String) -> HealthQueries {
        let name = Array(service.utf8).withUnsafeBytes { MetricNaming.metricName($0) }
        var out = self
        out.requestRate = requestRate.replacingService(name)
        out.errorRatio = errorRatio.replacingService(name)
        out.latencyMetric = latencyMetric.replacingService(name)
        out.p99Latency = p99Latency?.replacingService(name)
        return out
    }
}

extension String {
    fileprivate func replacingService(_ name: String) -> String {
        split(separator: "$service", omittingEmptySubsequences: false).joined(separator: name)
    }
}

/// Reads what the report says of each service's health from the stores.
public enum HealthProbe {
    /// Request rate (per second), error ratio and, when `p99_latency` is
    /// PromQL, p99 latency (seconds) over the day ending at `end` (ms), each
    /// nil when its query gives nothing.
    public static func metrics(
        querier: any SeriesQuerier, queries: HealthQueries, service: String, end: Int64
    ) throws(StoredDataError) -> (requestRate: Double?, errorRatio: Double?, p99Latency: Double?) {
        let engine = Engine(querier: querier)
        let filled = queries.forService(service)
        // A query that cannot run gives no figure; damaged data fails the report.
        func value(_ text: String) throws(StoredDataError) -> Double? {
            guard let expr = try? Parser.parse(text) else { return nil }
            let result: QueryResult
            do throws(PromQLError) {
                result = try engine.instant(expr, at: end - 1)
            } catch {
                if error.kind == .storage { throw StoredDataError(error.message) }
                return nil
            }
            switch result {
            case .scalar(_, let value): return value.isFinite ? value : nil
            case .vector(_, let samples): return samples.first.map(\.value).flatMap { $0.isFinite ? $0 : nil }
            default: return nil
            }
        }
        let p99 = try filled.p99Latency.map { text throws(StoredDataError) in try value(text) } ?? nil
        return (try value(filled.requestRate), try value(filled.errorRatio), p99)
    }

    /// The p99 latency (in the family's unit: seconds for a timer) over
    /// `start..<end` (ms) of each service whose queries take it from the
    /// sketches, read in one pass over the archive.
    public static func sketchP99s(
        sketches: any SketchQuerier, queries: [String: HealthQueries], start: Int64, end: Int64
    ) throws(StoredDataError) -> [String: Double] {
        var families: [String: String] = [:]
        for (service, query) in queries where query.p99Latency == nil {
            families[service] = query.forService(service).latencyMetric
        }
        let quantiles = try sketches.quantiles(0.99, names: Set(families.values), start: start, end: end)
        return families.compactMapValues { quantiles[$0] }
    }

    /// The day's error and critical lines of each service, clustered into templates.
    public static func errorTemplates(
        in store: LogStore, start: Int64, end: Int64, limit: Int = 5
    ) throws(StorageError) -> [String: [LogTemplate]] {
        guard let level = try? LabelMatcher("level", .regexMatch, "error|critical"),
            let service = try? LabelMatcher("service", .regexMatch, ".+")
        else { return [:] }
        var miners: [String: TemplateMiner] = [:]
        var fields = RecordFields()
        for stream in try store.select([level, service], start: start.saturatingMultiplied(by: 1_000_000), end: end.saturatingMultiplied(by: 1_000_000)) {
            guard let name = stream.labels["service"], stream.labels["event"] == nil else { continue }
            var miner = miners[name] ?? TemplateMiner()
            try stream.forEachEntry(start: start.saturatingMultiplied(by: 1_000_000), end: end.saturatingMultiplied(by: 1_000_000)) { entry in
                // The message field of a structured line, else the line.
                let message = fields.fields(of: entry, streamLabels: stream.labels)
                    .first { $0.name == "msg" || $0.name == "message" }?.value ?? String(decoding: entry.line, as: UTF8.self)
                miner.add(message)
                return true
            }
            miners[name] = miner
        }
        return miners.mapValues { $0.top(limit) }
    }
}
