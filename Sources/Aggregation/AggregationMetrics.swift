import Prometheus
import SelfMetrics
import TelemetryModel

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
    /// Lines whose new series would pass the label limits, by `LabelLimits.Violation` (in `allCases` order).
    public let labelLimitDropped: [Counter]
    /// Lines refused by `max_series_per_metric`, by output name.
    public let perMetricLimitDropped: CountersByName
    /// Lines whose new series the store had no room for (`limits.max_series`,
    /// then `limits.max_series_per_metric`).
    public let storeLimitDropped: [Counter]
    public let typeConflicts: Counter
    public let events: Counter
    public let serviceChecks: Counter
    public let flushSamples: Counter

    public init(registry: PrometheusCollectorRegistry, shards: Int) {
        badLines = StatsDParseErrorReasons.all.map { reason in
            registry.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "tally_statsd_bad_lines", unitName: "total",
                helpText: "StatsD lines rejected, by reason (docs/naming.md lists them)."), labels: [("reason", reason)])
        }
        ringDroppedLines = (0..<shards).map { shard in
            registry.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "tally_ring_dropped_lines", unitName: "total",
                helpText: "Parsed lines dropped because the shard's ring was full."), labels: [("shard", String(shard))])
        }
        seriesCreated = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_series_created", unitName: "total",
            helpText: "Series created by aggregation."))
        seriesExpired = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_series_expired", unitName: "total",
            helpText: "Series released after the expiry without updates."))
        seriesLimitDropped = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_series_limit_dropped_lines", unitName: "total",
            helpText: "Lines dropped because they would create a series beyond max_series."))
        labelLimitDropped = LabelLimits.Violation.allCases.map { violation in
            registry.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "tally_statsd_label_limit_dropped_lines", unitName: "total",
                helpText: "Lines dropped because their series would pass the label limits (limits: in tally.yaml), by reason."),
                labels: [("reason", violation.rawValue)])
        }
        perMetricLimitDropped = CountersByName(
            registry: registry, metricName: "tally_series_limit_per_metric_dropped_lines",
            help: "Lines dropped because they would create a series beyond aggregation.max_series_per_metric (active series) or limits.max_series_per_metric (stored series), by output name.")
        storeLimitDropped = ["series_limit", "series_per_metric_limit"].map { reason in
            registry.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "tally_statsd_store_limit_dropped_lines", unitName: "total",
                helpText: "Lines dropped because the store holds limits.max_series series, or limits.max_series_per_metric of the name, by reason."),
                labels: [("reason", reason)])
        }
        typeConflicts = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_type_conflict_lines", unitName: "total",
            helpText: "Lines dropped because their output series already exists with another StatsD type."))
        events = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_events", unitName: "total",
            helpText: "DogStatsD events received."))
        serviceChecks = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_service_checks", unitName: "total",
            helpText: "DogStatsD service checks received."))
        flushSamples = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_flush_samples", unitName: "total",
            helpText: "Samples handed to storage by flushes."))
    }
}

import StatsDWire

/// The label values of every parse-error reason, in raw-value order.
enum StatsDParseErrorReasons {
    static let all: [String] = StatsDParseError.Reason.allCases.map(\.label)
}
