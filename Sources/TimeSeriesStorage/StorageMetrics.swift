import DurableFiles
import Prometheus

/// The storage engine's own counters and gauges in `/metrics`: every
/// rejected sample, WAL and block error and detected corruption is counted.
struct StorageMetrics: Sendable {
    let rejected: [RejectReason: Counter]
    let appended: Counter
    let headSeries: Gauge
    let headChunks: Gauge
    let walErrors: Counter
    let walPendingRecords: Gauge
    let walLostRecords: Counter
    let walRepairs: Counter
    let walFsyncs: Counter
    let headChunkErrors: Counter
    let blocks: Gauge
    let blockBytes: Gauge
    let blocksWritten: Counter
    let blockErrors: Counter
    let compactions: Counter
    let retentionDeletions: Counter
    let corruptions: Counter

    init(registry: PrometheusCollectorRegistry) {
        var rejected: [RejectReason: Counter] = [:]
        for reason in RejectReason.allCases {
            rejected[reason] = registry.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "tally_storage_rejected_samples", unitName: "total",
                helpText: "Samples the storage refused, by reason (docs/storage.md)."), labels: [("reason", reason.rawValue)])
        }
        self.rejected = rejected
        appended = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_samples_appended", unitName: "total",
            helpText: "Samples written to the WAL and the head."))
        headSeries = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_head_series", unitName: "",
            helpText: "Series in the head."))
        headChunks = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_head_chunks", unitName: "",
            helpText: "Closed chunks in the head."))
        walErrors = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_wal_errors", unitName: "total",
            helpText: "Failed WAL writes or fsyncs (retried)."))
        walPendingRecords = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_wal_pending_batches", unitName: "",
            helpText: "Batches waiting for a WAL write to succeed again."))
        walLostRecords = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_wal_dropped_batches", unitName: "total",
            helpText: "Batches dropped because the WAL stayed unwritable past the pending limit."))
        walRepairs = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_wal_repairs", unitName: "total",
            helpText: "Torn or corrupt WAL tails cut off at start."))
        walFsyncs = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_wal_fsyncs", unitName: "total",
            helpText: "WAL fsyncs."))
        headChunkErrors = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_head_chunk_write_errors", unitName: "total",
            helpText: "Failed writes of closed head chunks to chunks_head (kept in memory and retried)."))
        blocks = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_blocks", unitName: "",
            helpText: "Blocks on disk."))
        blockBytes = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_block", unitName: "bytes",
            helpText: "Bytes the blocks take on disk."))
        blocksWritten = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_blocks_written", unitName: "total",
            helpText: "Blocks written from the head."))
        blockErrors = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_block_errors", unitName: "total",
            helpText: "Failed block writes, compactions or deletions (retried)."))
        compactions = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_compactions", unitName: "total",
            helpText: "Compactions completed."))
        retentionDeletions = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_retention_deleted_blocks", unitName: "total",
            helpText: "Blocks deleted by retention or the size cap."))
        corruptions = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_corruptions", unitName: "total",
            helpText: "Damaged blocks, chunk groups or head chunks detected by checksum (queries that need them fail; tally verify names them)."))
    }
}
