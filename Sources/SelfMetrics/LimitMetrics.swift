import Prometheus

/// The configured series limits in `/metrics`, beside the counts they bound
/// (`tally_series_active`, `tally_storage_head_series`), so that an alert can
/// say "90% of the limit" without knowing the config.
public struct LimitMetrics: Sendable {
    /// Sets the gauges once: the limits do not change while tally runs.
    public init(registry: PrometheusCollectorRegistry, aggregationMaxSeries: Int, storeMaxSeries: Int) {
        registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_series_active_limit", unitName: "",
            helpText: "aggregation.max_series: the most series the aggregation shards hold; past it new StatsD series are dropped."))
            .set(Int64(aggregationMaxSeries))
        registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_head_series_limit", unitName: "",
            helpText: "limits.max_series: the most series the store takes; past it new series are refused."))
            .set(Int64(storeMaxSeries))
    }
}
