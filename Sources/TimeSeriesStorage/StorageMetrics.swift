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
            rejected[reason] = registry.makeCounter(
                name: "tally_storage_rejected_samples_total", labels: [("reason", reason.rawValue)],
                help: "Samples the storage refused, by reason (docs/storage.md).")
        }
        self.rejected = rejected
        appended = registry.makeCounter(name: "tally_storage_samples_appended_total", help: "Samples written to the WAL and the head.")
        headSeries = registry.makeGauge(name: "tally_storage_head_series", help: "Series in the head.")
        headChunks = registry.makeGauge(name: "tally_storage_head_chunks", help: "Closed chunks in the head.")
        walErrors = registry.makeCounter(name: "tally_storage_wal_errors_total", help: "Failed WAL writes or fsyncs (retried).")
        walPendingRecords = registry.makeGauge(
            name: "tally_storage_wal_pending_batches", help: "Batches waiting for a WAL write to succeed again.")
        walLostRecords = registry.makeCounter(
            name: "tally_storage_wal_dropped_batches_total",
            help: "Batches dropped because the WAL stayed unwritable past the pending limit.")
        walRepairs = registry.makeCounter(
            name: "tally_storage_wal_repairs_total", help: "Torn or corrupt WAL tails cut off at start.")
        walFsyncs = registry.makeCounter(name: "tally_storage_wal_fsyncs_total", help: "WAL fsyncs.")
        blocks = registry.makeGauge(name: "tally_storage_blocks", help: "Blocks on disk.")
        blockBytes = registry.makeGauge(name: "tally_storage_block_bytes", help: "Bytes the blocks take on disk.")
        blocksWritten = registry.makeCounter(name: "tally_storage_blocks_written_total", help: "Blocks written from the head.")
        blockErrors = registry.makeCounter(
            name: "tally_storage_block_errors_total", help: "Failed block writes, compactions or deletions (retried).")
        compactions = registry.makeCounter(name: "tally_storage_compactions_total", help: "Compactions completed.")
        retentionDeletions = registry.makeCounter(
            name: "tally_storage_retention_deleted_blocks_total", help: "Blocks deleted by retention or the size cap.")
        corruptions = registry.makeCounter(
            name: "tally_storage_corruptions_total",
            help: "Damaged blocks or chunk groups detected by checksum (skipped; the rest stays queryable).")
    }
}
