import Prometheus

/// One Loki push destination's figures in `/metrics`, modelled on
/// Promtail's client metrics, labelled `name` and `url`.
struct LokiPushMetrics: Sendable {
    /// Entries the destination acknowledged (2xx).
    let entriesSent: Counter
    /// Line bytes of the entries acknowledged.
    let bytesSent: Counter
    /// Entries the destination refused for good (a 4xx other than 429).
    let droppedRefused: Counter
    /// Entries dropped unsent because the WAL kept for the destination passed max_disk_usage.
    let droppedOverDiskCap: Counter
    /// Entries of streams the WAL never named (damage), skipped.
    let droppedUnknownStream: Counter
    /// Requests that failed (then retried or dropped).
    let requestsFailed: Counter
    /// Entries read from the WAL and not yet acknowledged.
    let entriesPending: Gauge
    /// The newest entry time the destination acknowledged (seconds).
    let highestSentTimestamp: Gauge
    /// WAL bytes this destination has still to read.
    let walBytesBehind: Gauge

    init(registry: PrometheusCollectorRegistry, name: String, url: String) {
        let labels = [("name", name), ("url", url)]
        func counter(_ metric: String, _ help: String, _ extra: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: metric, unitName: "total", helpText: help), labels: labels + extra)
        }
        func gauge(_ metric: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: metric, unitName: "", helpText: help), labels: labels)
        }
        entriesSent = counter("tally_loki_push_sent_entries", "Log entries pushed and acknowledged.")
        bytesSent = counter("tally_loki_push_sent_bytes", "Line bytes of the log entries pushed and acknowledged.")
        let dropped = "Log entries not pushed, by reason."
        droppedRefused = counter("tally_loki_push_dropped_entries", dropped, [("reason", "refused")])
        droppedOverDiskCap = counter("tally_loki_push_dropped_entries", dropped, [("reason", "max_disk_usage")])
        droppedUnknownStream = counter("tally_loki_push_dropped_entries", dropped, [("reason", "unknown_stream")])
        requestsFailed = counter("tally_loki_push_failed_requests", "Push requests that failed (and were retried or dropped).")
        entriesPending = gauge("tally_loki_push_pending_entries", "Log entries read from the WAL and not yet acknowledged.")
        highestSentTimestamp = gauge("tally_loki_push_highest_sent_timestamp_seconds", "The newest entry time the destination acknowledged.")
        walBytesBehind = gauge("tally_loki_push_wal_bytes_behind", "Log WAL bytes this destination has still to read (capped by max_disk_usage).")
    }
}
