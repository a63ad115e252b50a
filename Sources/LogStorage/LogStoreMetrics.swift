import Prometheus

/// The log store's own figures in `/metrics`: every refused entry by reason,
/// WAL and segment errors, and detected corruption.
struct LogStoreMetrics: Sendable {
    let appended: Counter
    let appendedBytes: Counter
    let rejected: [LogRejectReason: Counter]
    let streams: Gauge
    let headBytes: Gauge
    let segments: Gauge
    let segmentBytes: Gauge
    let segmentsWritten: Counter
    let segmentMerges: Counter
    let segmentErrors: Counter
    let walErrors: Counter
    let walFsyncs: Counter
    let walRepairs: Counter
    let retentionDeletions: Counter
    let corruptions: Counter

    init(registry: PrometheusCollectorRegistry) {
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help))
        }
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help))
        }
        appended = counter("tally_logs_entries_appended", "Log entries written to the WAL and the head.")
        appendedBytes = counter("tally_logs_line_bytes_appended", "Bytes of log lines written to the WAL and the head.")
        var rejected: [LogRejectReason: Counter] = [:]
        for reason in LogRejectReason.allCases {
            rejected[reason] = registry.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "tally_logs_rejected_entries", unitName: "total",
                helpText: "Log entries the store refused, by reason (docs/logs.md)."), labels: [("reason", reason.rawValue)])
        }
        self.rejected = rejected
        streams = gauge("tally_logs_head_streams", "Log streams in the head.")
        headBytes = gauge("tally_logs_head_bytes", "Bytes of log entries in the head, raw and compressed.")
        segments = gauge("tally_logs_segments", "Log segment files.")
        segmentBytes = gauge("tally_logs_segment_bytes", "Bytes of log segment files.")
        segmentsWritten = counter("tally_logs_segments_written", "Log segments written from the head.")
        segmentMerges = counter("tally_logs_segment_merges", "Merges of small segments of rule-selected streams (retention_stream) into one.")
        segmentErrors = counter("tally_logs_segment_errors", "Failed attempts to write a log segment (retried).")
        walErrors = counter("tally_logs_wal_errors", "Failed writes or fsyncs of the log WAL.")
        walFsyncs = counter("tally_logs_wal_fsyncs", "fsyncs of the log WAL.")
        walRepairs = counter("tally_logs_wal_repairs", "Times the log WAL was cut at a damaged record on start.")
        retentionDeletions = counter("tally_logs_retention_deletions", "Log segments deleted by retention.")
        corruptions = counter("tally_logs_corruptions", "Damaged log segments or chunks found.")
    }
}
