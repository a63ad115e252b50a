import Prometheus

/// Tally's own counters for the ingest and aggregation path, registered in
/// the registry that `/metrics` renders. Every loss has a counter here.
public struct AggregationMetrics: Sendable {
    /// Indexed by `StatsDParseError.Reason.rawValue`.
    public let badLines: [Counter]
    /// Lines lost because a shard's ring was full, indexed by shard.
    public let ringDroppedLines: [Counter]
    public let seriesCreated: Counter
    public let seriesExpired: Counter
    public let seriesLimitDropped: Counter
    public let typeConflicts: Counter
    public let events: Counter
    public let serviceChecks: Counter
    public let flushSamples: Counter

    public init(registry: PrometheusCollectorRegistry, shards: Int) {
        badLines = StatsDParseErrorReasons.all.map { reason in
            registry.makeCounter(
                name: "tally_statsd_bad_lines_total", labels: [("reason", reason)],
                help: "StatsD lines rejected, by reason (docs/naming.md lists them).")
        }
        ringDroppedLines = (0..<shards).map { shard in
            registry.makeCounter(
                name: "tally_ring_dropped_lines_total", labels: [("shard", String(shard))],
                help: "Parsed lines dropped because the shard's ring was full.")
        }
        seriesCreated = registry.makeCounter(name: "tally_series_created_total", help: "Series created by aggregation.")
        seriesExpired = registry.makeCounter(name: "tally_series_expired_total", help: "Series released after the expiry without updates.")
        seriesLimitDropped = registry.makeCounter(
            name: "tally_series_limit_dropped_lines_total",
            help: "Lines dropped because they would create a series beyond max_series.")
        typeConflicts = registry.makeCounter(
            name: "tally_statsd_type_conflict_lines_total",
            help: "Lines dropped because their output series already exists with another StatsD type.")
        events = registry.makeCounter(name: "tally_statsd_events_total", help: "DogStatsD events received.")
        serviceChecks = registry.makeCounter(name: "tally_statsd_service_checks_total", help: "DogStatsD service checks received.")
        flushSamples = registry.makeCounter(name: "tally_flush_samples_total", help: "Samples handed to storage by flushes.")
    }
}

import StatsDWire

/// The label values of every parse-error reason, in raw-value order.
enum StatsDParseErrorReasons {
    static let all: [String] = StatsDParseError.Reason.allCases.map(\.label)
}
