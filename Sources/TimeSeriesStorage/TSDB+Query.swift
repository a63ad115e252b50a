import BlockCodec
import DurableFiles
import Logging
import Prometheus
import Synchronization
import TelemetryModel

/// Reading series back: blocks and the head merged, damage reported.
extension TSDB {
    // MARK: SeriesQuerier

    public func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) throws(StoredDataError) -> [SeriesPoints] {
        var all: [SeriesPoints] = []
        try select(matchers, start: start, end: end, seriesPerBatch: Int.max) { batch in
            all += batch
            return true
        }
        return all
    }

    /// Series in label order, a batch at a time: each batch's block chunks
    /// are decoded on all cores, merged with the head's samples, and handed
    /// over before the next batch is read. Damaged data in the range (a
    /// block left out at open, a chunk that fails its checksum) fails the
    /// query with the file and offset: an answer without it would be wrong.
    public func select(
        _ matchers: [LabelMatcher], start: Int64, end: Int64, seriesPerBatch: Int, _ body: ([SeriesPoints]) -> Bool
    ) throws(StoredDataError) {
        if let damage = damagedBlocks.first(where: { $0.overlaps(start: start, end: end) }) {
            throw StoredDataError("\(damage.queryError)")
        }
        var sources: [Labels: [(block: Block, series: PackedBlockIndex.Series)]] = [:]
        for block in blocks.withLock({ $0 }) {
            for (series, labels) in block.matching(matchers, start: start, end: end) {
                sources[labels, default: []].append((block, series))
            }
        }
        var head: [Labels: [Point]] = [:]
        for (labels, points) in try headSnapshot(matchers, start: start, end: end) where !points.isEmpty {
            head[labels] = points
            if sources[labels] == nil { sources[labels] = [] }
        }
        let order = sources.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var next = 0
        while next < order.count {
            let batch = order[next..<min(order.count, next + max(1, seriesPerBatch))]
            next = batch.endIndex
            let work = batch.flatMap { labels in sources[labels]!.map { (labels: labels, block: $0.block, series: $0.series) } } // keys of `sources`
            // Decoding is most of a query's work: spread it over the cores.
            let decoded = parallelMap(count: work.count) { i in
                Result { () throws(StorageError) in try work[i].block.points(of: work[i].series, start: start, end: end) }
            }
            var runs: [Labels: [[Point]]] = [:]
            for (i, result) in decoded.enumerated() {
                switch result {
                case .success(let points):
                    guard !points.isEmpty else { continue }
                    runs[work[i].labels, default: []].append(points)
                case .failure(let error):
                    reportDamage(error, block: work[i].block)
                    throw StoredDataError(Self.damageMessage(error))
                }
            }
            var out: [SeriesPoints] = []
            out.reserveCapacity(batch.count)
            for labels in batch {
                var series = runs[labels] ?? []
                if let points = head[labels] { series.append(points) }
                guard !series.isEmpty else { continue }
                out.append(SeriesPoints(labels: labels, points: mergeRuns(series)))
            }
            guard body(out) else { return }
        }
    }

    public func series(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [Labels] {
        var found = Set<Labels>()
        for block in blocks.withLock({ $0 }) {
            for (_, labels) in block.matching(matchers, start: start, end: end) { found.insert(labels) }
        }
        head.withLock { head in
            for slot in head.matching(matchers) {
                guard let s = head.series[slot] else { continue }
                let inRange = s.closed.contains { $0.maxTime >= start && $0.minTime <= end }
                    || (s.open.count > 0 && s.open.maxTime >= start && s.open.minTime <= end)
                if inRange { found.insert(head.labels(of: slot)) }
            }
        }
        return found.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The head's samples in range for matching series: chunks copied under
    /// the lock, read and decoded after it.
    func headSnapshot(_ matchers: [LabelMatcher], start: Int64, end: Int64) throws(StoredDataError) -> [(Labels, [Point])] {
        let copied = head.withLock { head -> [(Labels, [HeadChunkCopy])] in
            var out: [(Labels, [HeadChunkCopy])] = []
            for slot in head.matching(matchers) {
                guard let s = head.series[slot] else { continue }
                let chunks = head.copies(of: s, start: start, end: end)
                if !chunks.isEmpty { out.append((head.labels(of: slot), chunks)) }
            }
            return out
        }
        var out: [(Labels, [Point])] = []
        out.reserveCapacity(copied.count)
        for (labels, chunks) in copied {
            var points: [Point] = []
            for chunk in chunks {
                let bytes: [UInt8]
                do throws(StorageError) {
                    bytes = try chunkFile.bytes(of: chunk)
                } catch {
                    // Damaged or unreadable: the query fails rather than answer without the chunk.
                    noteDamage(error, key: "\(error.path):\(error.offset ?? -1)", what: "a head chunk cannot be read; queries over it fail")
                    throw StoredDataError(Self.damageMessage(error))
                }
                decodeVerified(bytes, count: chunk.count) { t, v in
                    if t > end { return false }
                    if t >= start { points.append(Point(timestamp: t, value: v)) }
                    return true
                }
            }
            out.append((labels, points))
        }
        return out
    }

    /// What a query that met damaged data fails with.
    static func damageMessage(_ error: StorageError) -> String {
        "\(error); `tally verify` lists the damage in the data directory"
    }

    /// Decodes a head chunk's bytes that passed their checksum (and were
    /// encoded by this process, so they decode).
    func decodeVerified(_ bytes: [UInt8], count: Int, _ body: (Int64, Double) -> Bool) {
        bytes.withUnsafeBytes { raw in
            guard var decoder = try? HeadChunkDecoder(raw, count: count) else { return }
            while let (t, v) = try? decoder.next(), body(t, v) {}
        }
    }

    func reportDamage(_ error: StorageError, block: Block) {
        noteDamage(error, key: "\(block.id):\(error.offset ?? -1)", what: "damaged data in block \(block.id); queries over it fail")
    }

    /// Logs and counts a damaged place once, however many queries meet it.
    func noteDamage(_ error: StorageError, key: String, what: String) {
        guard reportedDamage.withLock({ $0.insert(key).inserted }) else { return }
        metrics.corruptions.increment()
        logger.error("\(what); run `tally verify`", metadata: ["error": "\(error)"])
    }
}

/// Merges time-ordered runs of points into one, keeping for each timestamp
/// the point of the latest run (the head after blocks, newer blocks after
/// older ones).
func mergeRuns(_ runs: [[Point]]) -> [Point] {
    guard runs.count > 1 else { return runs.first ?? [] }
    var result: [Point] = []
    for run in runs {
        if let last = result.last, let first = run.first, first.timestamp <= last.timestamp {
            // Overlap: merge the two sorted lists, the newer run winning ties.
            var merged: [Point] = []
            merged.reserveCapacity(result.count + run.count)
            var i = 0
            var j = 0
            while i < result.count || j < run.count {
                if j == run.count || (i < result.count && result[i].timestamp < run[j].timestamp) {
                    merged.append(result[i])
                    i += 1
                } else {
                    if i < result.count && result[i].timestamp == run[j].timestamp { i += 1 }
                    merged.append(run[j])
                    j += 1
                }
            }
            result = merged
        } else {
            result.append(contentsOf: run)
        }
    }
    return result
}
