import BlockCodec
import DurableFiles
import Logging
import Prometheus
import Synchronization
import TelemetryModel

/// Registering series and appending samples: the head first, then the WAL.
extension TSDB {
    // MARK: SampleSink

    public func register(_ labels: Labels) -> SeriesRef {
        register([labels])[0]
    }

    public func register(_ labels: [Labels]) -> [SeriesRef] {
        // Without limits every series is registered: one reference per label set.
        register(labels, limits: nil).compactMap { if case .registered(let ref) = $0 { ref } else { nil } }
    }

    public func register(_ labels: [Labels], within limits: SeriesLimits) -> [SeriesLimits.Registration] {
        register(labels, limits: limits)
    }

    /// Registers under one lock; with `limits`, a new series past them is not created.
    func register(_ labels: [Labels], limits: SeriesLimits?) -> [SeriesLimits.Registration] {
        head.withLock { head in
            var created: [UInt32] = []
            let outcomes = labels.map { labels -> SeriesLimits.Registration in
                if let limits, head.slot(of: labels) == nil {
                    guard head.seriesCount < limits.maxSeries else { return .overSeriesLimit }
                    guard head.seriesCount(named: labels.metricName) < limits.maxSeriesPerMetric else { return .overMetricLimit }
                }
                let (slot, isNew) = head.getOrCreate(labels)
                head.series[slot]!.holders += 1 // getOrCreate returned a live slot
                if isNew { created.append(UInt32(slot)) }
                return .registered(SeriesRef(raw: UInt32(slot)))
            }
            if !created.isEmpty { unloggedSeries.withLock { $0 += created } }
            return outcomes
        }
    }

    public func find(_ labels: Labels) -> SeriesRef? {
        head.withLock { $0.slot(of: labels).map { SeriesRef(raw: UInt32($0)) } }
    }

    public func release(_ refs: [SeriesRef]) {
        head.withLock { head in
            for ref in refs where Int(ref.raw) < head.series.count {
                head.series[Int(ref.raw)]?.holders -= 1
            }
        }
    }

    public func append(_ samples: [RefSample]) {
        _ = appendReporting(samples)
    }

    /// Applies the samples to the head, then logs the ones it took: the WAL
    /// holds only stored samples, in each series' time order, which is what
    /// a forwarder reading it sends on. While the WAL refuses writes the
    /// records wait in memory (bounded) and are written first next time;
    /// the samples are in the head meanwhile and reach blocks as usual.
    public func appendReporting(_ samples: [RefSample]) -> SampleAppendReport {
        var report = SampleAppendReport()
        guard !samples.isEmpty else { return report }
        // Applied and logged under the WAL lock: a checkpoint, which rotates
        // under it too, never finds a batch in the head but not yet logged.
        wal.withLock { state in
            let series = unloggedSeries.withLock { queue in
                defer { queue.removeAll() }
                return queue
            }
            var taken: [RefSample] = []
            head.withLock { head in
                for (i, sample) in samples.enumerated() {
                    if let reason = head.append(slot: Int(sample.ref.raw), timestamp: sample.timestamp, value: sample.value) {
                        if report.rejectedCount == 0 {
                            // The first refusal: keep what came before it, and only what is taken after.
                            taken.reserveCapacity(samples.count)
                            taken += samples[..<i]
                        }
                        report.reject(i, reason)
                    } else {
                        report.accepted += 1
                        if report.rejectedCount > 0 { taken.append(sample) }
                    }
                }
            }
            let stored = report.rejectedCount == 0 ? samples : taken
            // A slot freed and taken again since it was registered is logged with the labels it has now.
            if series.isEmpty && stored.isEmpty { log([], into: &state) }  // still retries what waits
            let n = TSDB.walSliceRecords
            for from in stride(from: 0, to: series.count, by: n) {
                let slice = series[from..<min(from + n, series.count)]
                let records = head.withLock { head in
                    slice.compactMap { slot -> WALRecord? in
                        guard Int(slot) < head.series.count, head.series[Int(slot)] != nil else { return nil }
                        return .series(ref: slot, labels: head.labels(of: Int(slot)))
                    }
                }
                log(records, into: &state)
            }
            for from in stride(from: 0, to: stored.count, by: n) {
                log([.samples(Array(stored[from..<min(from + n, stored.count)]))], into: &state)
            }
        }
        metrics.appended.increment(by: Int64(report.accepted))
        for (reason, count) in report.rejected { metrics.rejected[reason]?.increment(by: Int64(count)) }
        return report
    }

    /// Writes records to the WAL after any still pending; when the WAL
    /// refuses the write, they wait (bounded) for the next one.
    func log(_ records: [WALRecord], into state: inout WALState) {
        guard !records.isEmpty || !state.pending.isEmpty else { return }
        state.pending.append(records)
        do {
            try state.log.log(state.pending.flatMap { $0 })
            if case .always = options.fsync {
                try state.log.sync()
                metrics.walFsyncs.increment()
            }
        } catch {
            metrics.walErrors.increment()
            if state.pending.count > TSDB.maxPendingBatches {
                state.pending.removeFirst()
                metrics.walLostRecords.increment()
            }
            metrics.walPendingRecords.set(Int64(state.pending.count))
            if state.pending.count == 1 || state.pending.count % 1_000 == 0 {
                logger.error("cannot write the write-ahead log; batches wait in memory and are retried", metadata: [
                    "error": "\(error)", "pending": "\(state.pending.count)",
                ])
            }
            return
        }
        if state.pending.count > 1 {
            logger.notice("the write-ahead log accepts writes again", metadata: ["batches": "\(state.pending.count - 1)"])
        }
        state.pending.removeAll()
        metrics.walPendingRecords.set(Int64(0))
    }

    /// fsyncs the WAL if anything was written since the last time (the
    /// `interval` policy calls it on a timer; shutdown calls it once).
    public func syncWAL() {
        wal.withLock { state in
            do {
                if state.log.dirty {
                    try state.log.sync()
                    metrics.walFsyncs.increment()
                }
            } catch {
                metrics.walErrors.increment()
                logger.error("cannot fsync the write-ahead log; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Forwarders

    /// The store's WAL folder, which forwarders read (`WALFollower`).
    public var walDirectory: String { directory + "/wal" }

    /// Keeps the WAL from `segment` on (a forwarder's position) through
    /// checkpoints, and keeps the series records those segments name.
    /// Called again as the forwarder moves on; `releaseWAL` ends it.
    public func holdWAL(_ name: String, from segment: Int) {
        walHolds.withLock { $0[name] = segment }
        head.withLock { $0.keepRetired = true }
    }

    public func releaseWAL(_ name: String) {
        let none = walHolds.withLock { holds in
            holds[name] = nil
            return holds.isEmpty
        }
        if none { head.withLock { $0.keepRetired = false } }
    }
}
