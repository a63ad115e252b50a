import BlockCodec
import DurableFiles
import Logging
import Prometheus
import Synchronization
import TelemetryModel

/// Cutting blocks from the head, checkpointing the WAL, compaction and retention.
extension TSDB {
    // MARK: Maintenance

    /// The blocks currently open, oldest first.
    public var currentBlocks: [Block] { blocks.withLock { $0 } }

    /// Head statistics: series, closed chunks, the memory the open chunks
    /// take (their cells, and the slab pages those are cut from) and the
    /// bytes of the head chunk file.
    public var headStats: (series: Int, chunks: Int, openChunkBytes: Int, slabBytes: Int, storedChunkBytes: Int) {
        let (series, chunks, bytes, slab) = head.withLock { head in
            var chunks = 0
            var bytes = 0
            for case let s? in head.series {
                chunks += s.closed.count
                bytes += s.open.cellBytes
            }
            return (head.seriesCount, chunks, bytes, head.slab.pageBytes)
        }
        return (series, chunks, bytes, slab, chunkFile.storedBytes)
    }

    /// One round of background work: writes the head's completed ranges to
    /// blocks (then checkpoints the WAL), compacts, applies retention. Errors
    /// are logged and counted, and the work is retried next round; a
    /// half-written block never becomes visible. `now` names new blocks.
    public func maintain(now: Int64) {
        guard maintenanceRunning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        defer { maintenanceRunning.store(false, ordering: .releasing) }
        do {
            try persistHead(now: now)
        } catch {
            metrics.blockErrors.increment()
            logger.error("cannot write a block from the head; the head keeps the samples and the write is retried", metadata: ["error": "\(error)"])
        }
        do {
            try compact(now: now)
        } catch {
            metrics.blockErrors.increment()
            logger.error("compaction failed; retried later", metadata: ["error": "\(error)"])
        }
        do {
            try applyRetention()
        } catch {
            metrics.blockErrors.increment()
            logger.error("cannot delete expired blocks; retried later", metadata: ["error": "\(error)"])
        }
        updateGauges()
        let series = head.withLock { $0.seriesCount }
        growth.withLock { $0.record(now, series: series) }
    }

    /// Writes completed block ranges while the head spans more than one and a
    /// half block durations, as Prometheus does, so late samples of the
    /// last range still land in the head.
    func persistHead(now: Int64) throws(StorageError) {
        let duration = options.blockDurationMillis
        while let range = head.withLock({ $0.timeRange }), range.max - range.min >= duration + duration / 2 {
            let start = floorDivide(range.min, duration) * duration
            let end = start + duration
            // The series with samples before `end`, in label order; their chunks are copied a
            // batch at a time (slots stay put until the truncate below), not all at once: a
            // head of millions of series would otherwise hold every copy together.
            let order = head.withLock { head -> [(slot: Int, labels: Labels)] in
                head.series.indices.compactMap { slot -> (slot: Int, labels: Labels)? in
                    guard let first = head.series[slot]?.minTime, first < end else { return nil }
                    return (slot, head.labels(of: slot))
                }
            }.sorted { $0.labels.lexicographicallyPrecedes($1.labels) }
            let writer = try BlockWriter(parent: directory, options: options, now: now)
            for from in stride(from: 0, to: order.count, by: TSDB.blockBatchSeries) {
                let batch = order[from..<min(from + TSDB.blockBatchSeries, order.count)]
                let copies = head.withLock { head in
                    batch.map { entry in head.series[entry.slot].map { head.copies(of: $0, start: .min, end: end - 1) } ?? [] }
                }
                for (entry, chunks) in zip(batch, copies) {
                    var timestamps: [Int64] = []
                    var values: [Double] = []
                    for chunk in chunks {
                        try decodeHeadChunk(chunk) { t, v in
                            guard t < end else { return false }
                            if t >= start {
                                timestamps.append(t)
                                values.append(v)
                            }
                            return true
                        }
                    }
                    guard !timestamps.isEmpty else { continue }
                    try writer.add(entry.labels, timestamps: timestamps, values: values)
                }
            }
            if let meta = try writer.finish() {
                let block = try Block(path: directory + "/" + meta.ulid, cache: cache)
                blocks.withLock { $0.append(block); $0.sort { $0.meta.minTime < $1.meta.minTime } }
                metrics.blocksWritten.increment()
                logger.info("wrote a block from the head", metadata: [
                    "block": "\(meta.ulid)", "series": "\(meta.stats.series)", "samples": "\(meta.stats.samples)",
                    "bytes": "\(meta.stats.chunkFileBytes + meta.stats.indexBytes)",
                ])
            }
            let segment = wal.withLock { $0.log.segment }
            head.withLock { head in
                head.walSegment = segment
                head.truncate(before: end)
            }
            try checkpointWAL()
            // What writing the block and the checkpoint built and freed (hundreds of MB for a
            // head of millions of series) goes back to the system, not kept for queries.
            AllocatorTuning.releaseFreeMemory()
        }
    }

    /// Rotates the WAL and replaces every closed segment by a checkpoint of
    /// what the head still holds. The head is read and the checkpoint
    /// written a batch of series at a time: a head of millions of series
    /// never has all its label sets and chunk copies out at once, and
    /// appends wait only for each batch's copy, not for the file.
    func checkpointWAL() throws(StorageError) {
        let closed = try wal.withLock { state throws(StorageError) -> Int in try state.log.rotate() }
        let keepFrom = walHolds.withLock { $0.values.min() }
        let writer = try wal.withLock { state throws(StorageError) in try state.log.beginCheckpoint(through: closed) }
        let (slots, retired) = head.withLock { head in (head.series.count, head.retiredNeeded(from: keepFrom)) }
        // Series gone from the head that a forwarder may still meet in the segments it reads.
        try writer.add(retired.map { WALRecord.series(ref: UInt32($0.slot), labels: $0.labels) })
        for from in stride(from: 0, to: slots, by: TSDB.blockBatchSeries) {
            let batch = head.withLock { head -> [(slot: UInt32, labels: Labels, chunks: [HeadChunkCopy])] in
                (from..<min(from + TSDB.blockBatchSeries, head.series.count)).compactMap { slot in
                    head.series[slot].map { (UInt32(slot), head.labels(of: slot), head.copies(of: $0, start: .min, end: .max)) }
                }
            }
            var records: [WALRecord] = []
            for (slot, labels, chunks) in batch {
                records.append(.series(ref: slot, labels: labels))
                for chunk in chunks {
                    switch chunk {
                    case .stored(_, let ref):
                        guard let bytes = try headChunkBytes(chunk) else { continue }
                        records.append(.chunk(ref: slot, count: Int(ref.count), minTime: ref.minTime, maxTime: ref.maxTime, bytes: bytes))
                    case .open(let bytes, let count, _, _):
                        records.append(.samples(HeadChunkDecoder.samples(bytes, count: count).map {
                            RefSample(ref: SeriesRef(raw: slot), timestamp: $0.timestamp, value: $0.value)
                        }))
                    }
                }
            }
            try writer.add(records)
        }
        let finished = try writer.finish()
        try wal.withLock { state throws(StorageError) in try state.log.completeCheckpoint(finished, keepFrom: keepFrom) }
    }

    /// Merges blocks that fill one window of a compaction range, once the
    /// head has moved past the window, smallest ranges first.
    func compact(now: Int64) throws(StorageError) {
        let completeBefore = head.withLock { $0.minValidTime }
        for range in options.compactionRangesMillis.sorted() {
            while true {
                let current = blocks.withLock { $0 }
                var windows: [Int64: [Block]] = [:]
                for block in current {
                    let window = floorDivide(block.meta.minTime, range)
                    guard floorDivide(block.meta.maxTime, range) == window else { continue }
                    windows[window, default: []].append(block)
                }
                guard let (_, group) = windows.filter({ $0.value.count > 1 && ($0.key + 1) * range <= completeBefore })
                    .min(by: { $0.key < $1.key }) else { break }
                try merge(group, now: now)
            }
        }
    }

    /// Writes one block holding every sample of `group`, then swaps it in
    /// and deletes the sources.
    func merge(_ group: [Block], now: Int64) throws(StorageError) {
        let level = (group.map(\.meta.compaction.level).max() ?? 0) + 1
        let writer = try BlockWriter(parent: directory, options: options, level: level, sources: group.map(\.id), now: now)
        try mergeSeries(of: group) { labels, timestamps, values throws(StorageError) in
            try writer.add(labels, timestamps: timestamps, values: values)
        }
        let meta = try writer.finish()
        let merged = try meta.map { meta throws(StorageError) in try Block(path: directory + "/" + meta.ulid, cache: cache) }
        let sources = Set(group.map(\.id))
        blocks.withLock { list in
            list.removeAll { sources.contains($0.id) }
            if let merged { list.append(merged) }
            list.sort { $0.meta.minTime < $1.meta.minTime }
        }
        for block in group {
            cache.drop(block: block.id)
            try FileSystem.removeTree(block.path)
        }
        metrics.compactions.increment()
        // What merging built and freed (hundreds of MB for blocks of millions of series) goes back
        // to the system, as after writing a block from the head.
        AllocatorTuning.releaseFreeMemory()
        logger.info("compacted blocks", metadata: [
            "sources": "\(group.count)", "block": "\(meta?.ulid ?? "-")", "level": "\(level)",
        ])
    }

    /// Deletes blocks wholly older than the retention behind the newest
    /// sample, then the oldest while the blocks exceed the size cap.
    func applyRetention() throws(StorageError) {
        let headMax = head.withLock { $0.timeRange?.max }
        let current = blocks.withLock { $0 }
        guard let newest = ([headMax].compactMap { $0 } + current.map(\.meta.maxTime)).max() else { return }
        var doomed = current.filter { $0.meta.maxTime < newest - options.retentionMillis }
        if options.maxBytes > 0 {
            var total = current.reduce(Int64(0)) { $0 + Int64($1.meta.stats.chunkFileBytes + $1.meta.stats.indexBytes) }
            for block in current where total > options.maxBytes {
                total -= Int64(block.meta.stats.chunkFileBytes + block.meta.stats.indexBytes)
                if !doomed.contains(where: { $0.id == block.id }) { doomed.append(block) }
            }
        }
        guard !doomed.isEmpty else { return }
        let ids = Set(doomed.map(\.id))
        blocks.withLock { $0.removeAll { ids.contains($0.id) } }
        for block in doomed {
            cache.drop(block: block.id)
            try FileSystem.removeTree(block.path)
            metrics.retentionDeletions.increment()
            logger.info("deleted an expired block", metadata: ["block": "\(block.id)", "maxTime": "\(block.meta.maxTime)"])
        }
    }

    /// The bytes of a head chunk, or nil when they fail their checksum (then
    /// reported once and left out); an I/O error is thrown.
    func headChunkBytes(_ chunk: HeadChunkCopy) throws(StorageError) -> [UInt8]? {
        do throws(StorageError) {
            return try chunkFile.bytes(of: chunk)
        } catch {
            guard case .corrupt = error.code else { throw error }
            noteDamage(error, key: "\(error.path):\(error.offset ?? -1)", what: "a head chunk fails its checksum and is left out")
            return nil
        }
    }

    /// Calls `body` with each sample of a head chunk until it returns false.
    /// A chunk that fails its checksum is reported and skipped; an I/O error
    /// is thrown.
    func decodeHeadChunk(_ chunk: HeadChunkCopy, _ body: (Int64, Double) -> Bool) throws(StorageError) {
        guard let bytes = try headChunkBytes(chunk) else { return }
        decodeVerified(bytes, count: chunk.count, body)
    }

    func updateGauges() {
        let (series, chunks) = head.withLock { head in
            (head.seriesCount, head.series.reduce(0) { $0 + ($1?.closed.count ?? 0) })
        }
        metrics.headSeries.set(Int64(series))
        metrics.headChunks.set(Int64(chunks))
        let current = blocks.withLock { $0 }
        metrics.blocks.set(Int64(current.count))
        metrics.blockBytes.set(Int64(current.reduce(0) { $0 + $1.meta.stats.chunkFileBytes + $1.meta.stats.indexBytes }))
    }
}

/// Calls `body` for each series of the blocks, in label order, with its
/// samples merged across blocks (older blocks first, duplicates removed).
/// Each block lists its series in label order, so the lists are merged as
/// they are read, one series per block at a time: merging blocks of
/// millions of series never holds all their label sets at once.
func mergeSeries(
    of group: [Block], _ body: (Labels, [Int64], [Double]) throws(StorageError) -> Void
) throws(StorageError) {
    let ordered = group.sorted { $0.meta.minTime < $1.meta.minTime }
    var positions = [Int](repeating: 0, count: ordered.count)
    var series = ordered.map { $0.index.series(at: 0) }
    var scans = [Block.Scan](repeating: Block.Scan(), count: ordered.count)
    var current: [Labels?] = ordered.indices.map { ordered[$0].index.seriesCount > 0 ? ordered[$0].index.labels(series[$0]) : nil }
    while true {
        var smallest: Labels?
        for case let labels? in current where smallest.map({ labels.lexicographicallyPrecedes($0) }) ?? true {
            smallest = labels
        }
        guard let labels = smallest else { return }
        var runs: [[Point]] = []
        for b in ordered.indices where current[b] == labels {
            runs.append(try ordered[b].allPoints(of: series[b], scan: &scans[b]))
            positions[b] += 1
            let index = ordered[b].index
            guard positions[b] < index.seriesCount else {
                current[b] = nil
                continue
            }
            series[b] = index.series(after: series[b])
            current[b] = index.labels(series[b])
            if let next = current[b], !labels.lexicographicallyPrecedes(next) {
                throw StorageError(.corrupt("index: series \(positions[b]) out of label order"), path: ordered[b].path + "/index")
            }
        }
        let points = mergeRuns(runs)
        try body(labels, points.map(\.timestamp), points.map(\.value))
    }
}
