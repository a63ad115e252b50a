import Prometheus

/// One destination's figures in `/metrics`, modelled on Prometheus's
/// `prometheus_remote_storage_*`, labelled `remote_name` and `url`.
struct RemoteWriteMetrics: Sendable {
    /// Samples the destination acknowledged (2xx).
    let samplesSent: Counter
    /// Samples the destination refused for good (a 4xx other than a retried 429).
    let samplesFailed: Counter
    /// Samples sent again after a 5xx, a 429 or a connection error.
    let samplesRetried: Counter
    let droppedByRelabel: Counter
    let droppedOverDiskCap: Counter
    let droppedUnknownSeries: Counter
    /// Samples read from the WAL and not yet acknowledged.
    let samplesPending: Gauge
    /// The newest timestamp the destination acknowledged (seconds).
    let highestSentTimestamp: Gauge
    let shards: Gauge
    /// Compressed request bytes acknowledged.
    let bytesSent: Counter
    /// WAL bytes this destination has still to read.
    let walBytesBehind: Gauge
    let requestsFailed: Counter

    init(registry: PrometheusCollectorRegistry, name: String, url: String) {
        let labels = [("remote_name", name), ("url", url)]
        func counter(_ metric: String, _ help: String, _ extra: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: metric, unitName: "total", helpText: help), labels: labels + extra)
        }
        func gauge(_ metric: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: metric, unitName: "", helpText: help), labels: labels)
        }
        samplesSent = counter("tally_remote_storage_samples", "Samples sent over remote_write and acknowledged.")
        samplesFailed = counter("tally_remote_storage_samples_failed", "Samples the destination refused for good (4xx), dropped.")
        samplesRetried = counter("tally_remote_storage_samples_retried", "Samples sent again after a 5xx, 429 or connection error.")
        let dropped = "Samples not sent, by reason."
        droppedByRelabel = counter("tally_remote_storage_samples_dropped", dropped, [("reason", "relabel")])
        droppedOverDiskCap = counter("tally_remote_storage_samples_dropped", dropped, [("reason", "max_disk_usage")])
        droppedUnknownSeries = counter("tally_remote_storage_samples_dropped", dropped, [("reason", "unknown_series")])
        samplesPending = gauge("tally_remote_storage_samples_pending", "Samples read from the WAL and not yet acknowledged.")
        highestSentTimestamp = gauge(
            "tally_remote_storage_queue_highest_sent_timestamp_seconds", "The newest sample timestamp the destination acknowledged.")
        shards = gauge("tally_remote_storage_shards", "Requests sent at once.")
        bytesSent = counter("tally_remote_storage_bytes", "Compressed request bytes acknowledged.")
        walBytesBehind = gauge("tally_remote_storage_wal_bytes_behind", "WAL bytes this destination has still to read (capped by max_disk_usage).")
        requestsFailed = counter("tally_remote_storage_failed_requests", "Requests that failed (and were retried or dropped).")
    }
}
