import BlockCodec
import DurableFiles
import Logging
import Prometheus
import Synchronization
import TelemetryModel

/// The on-disk time-series engine: a write-ahead log, an in-memory head of
/// Gorilla chunks, and immutable zlib-compressed blocks, compacted and
/// expired in the background. It is the sample sink of aggregation and the
/// querier of the HTTP API.
///
/// Concurrency: the head, the WAL and the block list each sit behind their
/// own lock. Appends apply samples to the head and then log the ones it
/// took, both under the WAL lock, so the WAL holds exactly the stored
/// samples in order; queries copy what they need from the head and decode
/// outside the lock. The head lock is taken
/// inside the WAL lock, never the other way round. Maintenance (`maintain`)
/// runs on one task at a time.
public final class TSDB: SampleSink, SeriesQuerier, WALSource {
    public let directory: String
    public let options: StorageOptions
    private let lock: DirectoryLock
    private let head: Mutex<Head>
    private let chunkFile: HeadChunkFile
    private let wal: Mutex<WALState>
    private let blocks: Mutex<[Block]>
    private let cache: GroupCache
    private let metrics: StorageMetrics
    private let logger: Logger
    private let reportedDamage = Mutex(Set<String>())
    /// The first WAL segment each forwarder still has to read, by name.
    private let walHolds = Mutex<[String: Int]>([:])
    private let maintenanceRunning = Atomic<Bool>(false)

    /// The WAL and the batches waiting for it to accept writes again.
    struct WALState: ~Copyable {
        var log: WAL
        var pending: [[WALRecord]] = []
    }

    /// Series created since the last append: logged in front of its samples,
    /// so registering a series writes nothing while the head is locked.
    private let unloggedSeries = Mutex<[WALRecord]>([])

    /// Batches kept in memory while the WAL cannot be written (disk full, I/O error).
    static let maxPendingBatches = 4_096

    /// What opening the store found, for the log.
    public struct OpenReport: Sendable {
        public var blocks: Int
        public var damagedBlocks: [String]
        public var walRecords: Int
        public var walRepaired: String?
        public var headSeries: Int
    }

    public let openReport: OpenReport

    /// Opens (or creates) the store in `directory`: takes its lock (or keeps
    /// `lock`, the directory's lock its caller took first), opens the blocks
    /// (a damaged one is reported and left out), replays the WAL.
    public init(
        directory: String, options: StorageOptions = StorageOptions(),
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        logger: Logger = Logger(label: "tally.storage"), lock: DirectoryLock? = nil
    ) throws(StorageError) {
        self.directory = directory
        self.options = options
        self.logger = logger
        try FileSystem.makeDirectory(directory)
        if let lock {
            self.lock = lock
        } else {
            self.lock = try DirectoryLock(directory: directory)
        }
        metrics = StorageMetrics(registry: registry)
        cache = GroupCache(capacity: options.groupCacheBytes)

        var report = OpenReport(blocks: 0, damagedBlocks: [], walRecords: 0, walRepaired: nil, headSeries: 0)
        let opened = try TSDB.openBlocks(directory, cache: cache, logger: logger, damaged: &report.damagedBlocks)
        metrics.corruptions.increment(by: Int64(report.damagedBlocks.count))
        report.blocks = opened.count
        blocks = Mutex(opened)

        chunkFile = try HeadChunkFile(directory: directory + "/chunks_head", errors: metrics.headChunkErrors)
        var state = Head(options: options, chunks: chunkFile)
        if let newest = opened.map(\.meta.maxTime).max() {
            state.minValidTime = (floorDivide(newest, state.blockDuration) + 1) * state.blockDuration
        }
        let walDirectory = directory + "/wal"
        let replay = try WALReplay.run(directory: walDirectory) { kind, payload in
            guard let record = try? WALRecord.decode(kind: kind, payload) else { return false }
            switch record {
            case .series(let ref, let labels):
                state.restore(labels, at: Int(ref))
            case .samples(let samples):
                for sample in samples {
                    // Duplicates of checkpointed samples and samples already in blocks are expected here.
                    _ = state.append(slot: Int(sample.ref.raw), timestamp: sample.timestamp, value: sample.value)
                }
            case .chunk(let ref, let count, let minTime, let maxTime, let bytes):
                state.restoreChunk(slot: Int(ref), bytes: bytes, count: count, minTime: minTime, maxTime: maxTime)
            }
            return true
        }
        report.walRecords = replay.records
        if let repaired = replay.repaired {
            report.walRepaired = "\(repaired.path) at byte \(repaired.offset): \(repaired.reason)"
            metrics.walRepairs.increment()
            logger.warning("cut the write-ahead log at a damaged record; every record before it was replayed", metadata: [
                "file": "\(repaired.path)", "offset": "\(repaired.offset)", "reason": "\(repaired.reason)",
            ])
        }
        report.headSeries = state.seriesCount
        head = Mutex(state)
        wal = Mutex(WALState(log: try WAL(directory: walDirectory, segmentBytes: options.walSegmentBytes)))
        openReport = report
        updateGauges()
    }

    /// Opens every block directory; removes leftovers of interrupted writes
    /// and blocks already merged into another.
    private static func openBlocks(
        _ directory: String, cache: GroupCache, logger: Logger, damaged: inout [String]
    ) throws(StorageError) -> [Block] {
        var opened: [Block] = []
        for name in try FileSystem.list(directory) where name.count == 26 || name.hasSuffix(".tmp") {
            let path = directory + "/" + name
            guard FileSystem.isDirectory(path) else { continue }
            if name.hasSuffix(".tmp") {
                try FileSystem.removeTree(path)
                continue
            }
            do {
                opened.append(try Block(path: path, cache: cache))
            } catch {
                damaged.append(name)
                logger.error("block is damaged and left out of queries; run `tally tsdb verify`", metadata: [
                    "block": "\(name)", "error": "\(error)",
                ])
            }
        }
        // A crash between a compaction's rename and its deletions leaves the sources behind.
        let merged = Set(opened.flatMap(\.meta.compaction.sources))
        for block in opened where merged.contains(block.id) {
            try FileSystem.removeTree(block.path)
        }
        return opened.filter { !merged.contains($0.id) }.sorted { $0.meta.minTime < $1.meta.minTime }
    }

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
    private func register(_ labels: [Labels], limits: SeriesLimits?) -> [SeriesLimits.Registration] {
        head.withLock { head in
            var created: [WALRecord] = []
            let outcomes = labels.map { labels -> SeriesLimits.Registration in
                if let limits, head.index[labels] == nil {
                    guard head.seriesCount < limits.maxSeries else { return .overSeriesLimit }
                    let name = labels[Labels.metricName] ?? ""
                    guard (head.postings[Labels.metricName]?[name]?.count ?? 0) < limits.maxSeriesPerMetric else { return .overMetricLimit }
                }
                let (slot, isNew) = head.getOrCreate(labels)
                head.series[slot]!.holders += 1 // getOrCreate returned a live slot
                if isNew { created.append(.series(ref: UInt32(slot), labels: labels)) }
                return .registered(SeriesRef(raw: UInt32(slot)))
            }
            if !created.isEmpty { unloggedSeries.withLock { $0 += created } }
            return outcomes
        }
    }

    public func find(_ labels: Labels) -> SeriesRef? {
        head.withLock { $0.index[labels].map { SeriesRef(raw: UInt32($0)) } }
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
            log(stored.isEmpty ? series : series + [.samples(stored)], into: &state)
        }
        metrics.appended.increment(by: Int64(report.accepted))
        for (reason, count) in report.rejected { metrics.rejected[reason]?.increment(by: Int64(count)) }
        return report
    }

    /// Writes records to the WAL after any still pending; when the WAL
    /// refuses the write, they wait (bounded) for the next one.
    private func log(_ records: [WALRecord], into state: inout WALState) {
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

    // MARK: SeriesQuerier

    public func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [SeriesPoints] {
        var all: [SeriesPoints] = []
        select(matchers, start: start, end: end, seriesPerBatch: Int.max) { batch in
            all += batch
            return true
        }
        return all
    }

    /// Series in label order, a batch at a time: each batch's block chunks
    /// are decoded on all cores, merged with the head's samples, and handed
    /// over before the next batch is read.
    public func select(
        _ matchers: [LabelMatcher], start: Int64, end: Int64, seriesPerBatch: Int, _ body: ([SeriesPoints]) -> Bool
    ) {
        var sources: [Labels: [(block: Block, position: Int)]] = [:]
        for block in blocks.withLock({ $0 }) {
            for position in block.matching(matchers, start: start, end: end) {
                sources[block.index.series[position].labels, default: []].append((block, position))
            }
        }
        var head: [Labels: [Point]] = [:]
        for (labels, points) in headSnapshot(matchers, start: start, end: end) where !points.isEmpty {
            head[labels] = points
            if sources[labels] == nil { sources[labels] = [] }
        }
        let order = sources.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var next = 0
        while next < order.count {
            let batch = order[next..<min(order.count, next + max(1, seriesPerBatch))]
            next = batch.endIndex
            let work = batch.flatMap { labels in sources[labels]! } // keys of `sources`
            // Decoding is most of a query's work: spread it over the cores.
            let decoded = parallelMap(count: work.count) { i in
                Result { () throws(StorageError) in try work[i].block.points(of: work[i].position, start: start, end: end) }
            }
            var runs: [Labels: [[Point]]] = [:]
            for (i, result) in decoded.enumerated() {
                switch result {
                case .success(let points):
                    guard !points.isEmpty else { continue }
                    runs[work[i].block.index.series[work[i].position].labels, default: []].append(points)
                case .failure(let error):
                    reportDamage(error, block: work[i].block)
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
            for position in block.matching(matchers, start: start, end: end) {
                found.insert(block.index.series[position].labels)
            }
        }
        head.withLock { head in
            for slot in head.candidates(matchers) {
                guard let s = head.series[slot], matchers.allMatch(s.labels) else { continue }
                let inRange = s.closed.contains { $0.maxTime >= start && $0.minTime <= end }
                    || (s.open.count > 0 && s.open.maxTime >= start && s.open.minTime <= end)
                if inRange { found.insert(s.labels) }
            }
        }
        return found.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The head's samples in range for matching series: chunks copied under
    /// the lock, read and decoded after it.
    private func headSnapshot(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [(Labels, [Point])] {
        let copied = head.withLock { head -> [(Labels, [HeadChunkCopy])] in
            var out: [(Labels, [HeadChunkCopy])] = []
            for slot in head.candidates(matchers) {
                guard let s = head.series[slot], matchers.allMatch(s.labels) else { continue }
                let chunks = head.copies(of: s, start: start, end: end)
                if !chunks.isEmpty { out.append((s.labels, chunks)) }
            }
            return out
        }
        return copied.map { labels, chunks in
            var points: [Point] = []
            for chunk in chunks {
                do {
                    try decodeHeadChunk(chunk) { t, v in
                        if t > end { return false }
                        if t >= start { points.append(Point(timestamp: t, value: v)) }
                        return true
                    }
                } catch {
                    // An I/O error reading the head chunk file: the query answers without the chunk.
                    logger.error("cannot read a head chunk; the query answers without it", metadata: ["error": "\(error)"])
                }
            }
            return (labels, points)
        }
    }

    /// The bytes of a head chunk, or nil when they fail their checksum (then
    /// reported once and left out); an I/O error is thrown.
    private func headChunkBytes(_ chunk: HeadChunkCopy) throws(StorageError) -> [UInt8]? {
        do throws(StorageError) {
            return try chunkFile.bytes(of: chunk)
        } catch {
            guard case .corrupt = error.code else { throw error }
            let first = reportedDamage.withLock { $0.insert("\(error.path):\(error.offset ?? -1)").inserted }
            if first {
                metrics.corruptions.increment()
                logger.error("a head chunk fails its checksum and is left out", metadata: ["error": "\(error)"])
            }
            return nil
        }
    }

    /// Calls `body` with each sample of a head chunk until it returns false.
    /// A chunk that fails its checksum is reported and skipped; an I/O error
    /// is thrown.
    private func decodeHeadChunk(_ chunk: HeadChunkCopy, _ body: (Int64, Double) -> Bool) throws(StorageError) {
        guard let bytes = try headChunkBytes(chunk) else { return }
        bytes.withUnsafeBytes { raw in
            var decoder = XORDecoder(raw, count: chunk.count)
            // The bytes passed their checksum and were encoded in this process: they decode.
            while let (t, v) = try? decoder.next(), body(t, v) {}
        }
    }

    private func reportDamage(_ error: StorageError, block: Block) {
        let key = "\(block.id):\(error.offset ?? -1)"
        let first = reportedDamage.withLock { $0.insert(key).inserted }
        guard first else { return }
        metrics.corruptions.increment()
        logger.error("damaged data skipped in a query; the rest of the store stays queryable", metadata: [
            "block": "\(block.id)", "error": "\(error)",
        ])
    }

    // MARK: Maintenance

    /// The blocks currently open, oldest first.
    public var currentBlocks: [Block] { blocks.withLock { $0 } }

    /// Head statistics: series, closed chunks, the memory the open chunks
    /// take and the bytes of the head chunk file.
    public var headStats: (series: Int, chunks: Int, openChunkBytes: Int, storedChunkBytes: Int) {
        let (series, chunks, bytes) = head.withLock { head in
            var chunks = 0
            var bytes = 0
            for case let s? in head.series {
                chunks += s.closed.count
                bytes += s.open.bytes.capacity
            }
            return (head.seriesCount, chunks, bytes)
        }
        return (series, chunks, bytes, chunkFile.storedBytes)
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
    }

    /// Writes completed block ranges while the head spans more than one and a
    /// half block durations, as Prometheus does, so late samples of the
    /// last range still land in the head.
    private func persistHead(now: Int64) throws(StorageError) {
        let duration = options.blockDurationMillis
        while let range = head.withLock({ $0.timeRange }), range.max - range.min >= duration + duration / 2 {
            let start = floorDivide(range.min, duration) * duration
            let end = start + duration
            let snapshot = head.withLock { head -> [(Labels, [HeadChunkCopy])] in
                head.series.compactMap { s -> (Labels, [HeadChunkCopy])? in
                    guard let s else { return nil }
                    let chunks = head.copies(of: s, start: .min, end: end - 1)
                    return chunks.isEmpty ? nil : (s.labels, chunks)
                }
            }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            let writer = try BlockWriter(parent: directory, options: options, now: now)
            for (labels, chunks) in snapshot {
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
                try writer.add(labels, timestamps: timestamps, values: values)
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
        }
    }

    /// Rotates the WAL and replaces every closed segment by a checkpoint of
    /// what the head still holds.
    private func checkpointWAL() throws(StorageError) {
        let closed = try wal.withLock { state throws(StorageError) -> Int in try state.log.rotate() }
        let keepFrom = walHolds.withLock { $0.values.min() }
        let (snapshot, retired) = head.withLock { head -> ([(slot: UInt32, labels: Labels, chunks: [HeadChunkCopy])], [(slot: Int, labels: Labels)]) in
            let live = head.series.enumerated().compactMap { slot, s in
                s.map { (UInt32(slot), $0.labels, head.copies(of: $0, start: .min, end: .max)) }
            }
            return (live, head.retiredNeeded(from: keepFrom))
        }
        // Series gone from the head that a forwarder may still meet in the segments it reads.
        var records: [WALRecord] = retired.map { .series(ref: UInt32($0.slot), labels: $0.labels) }
        for (slot, labels, chunks) in snapshot {
            records.append(.series(ref: slot, labels: labels))
            for chunk in chunks {
                switch chunk {
                case .stored(_, let ref):
                    guard let bytes = try headChunkBytes(chunk) else { continue }
                    records.append(.chunk(ref: slot, count: Int(ref.count), minTime: ref.minTime, maxTime: ref.maxTime, bytes: bytes))
                case .open(let bytes, let count, _, _):
                    var samples: [RefSample] = []
                    bytes.withUnsafeBytes { raw in
                        var decoder = XORDecoder(raw, count: count)
                        while let (t, v) = try? decoder.next() {
                            samples.append(RefSample(ref: SeriesRef(raw: slot), timestamp: t, value: v))
                        }
                    }
                    records.append(.samples(samples))
                }
            }
        }
        try wal.withLock { state throws(StorageError) in try state.log.checkpoint(through: closed, records: records, keepFrom: keepFrom) }
    }

    /// Merges blocks that fill one window of a compaction range, once the
    /// head has moved past the window, smallest ranges first.
    private func compact(now: Int64) throws(StorageError) {
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
        logger.info("compacted blocks", metadata: [
            "sources": "\(group.count)", "block": "\(meta?.ulid ?? "-")", "level": "\(level)",
        ])
    }

    /// Deletes blocks wholly older than the retention behind the newest
    /// sample, then the oldest while the blocks exceed the size cap.
    private func applyRetention() throws(StorageError) {
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

    private func updateGauges() {
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

/// Calls `body` for each series of the blocks, in label order, with its
/// samples merged across blocks (older blocks first, duplicates removed).
func mergeSeries(
    of group: [Block], _ body: (Labels, [Int64], [Double]) throws(StorageError) -> Void
) throws(StorageError) {
    let ordered = group.sorted { $0.meta.minTime < $1.meta.minTime }
    var all: [Labels: [(block: Int, position: Int)]] = [:]
    for (b, block) in ordered.enumerated() {
        for (position, s) in block.index.series.enumerated() { all[s.labels, default: []].append((b, position)) }
    }
    for labels in all.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
        var runs: [[Point]] = []
        for (b, position) in all[labels]! { // keys come from `all`
            runs.append(try ordered[b].points(of: position, start: .min, end: .max))
        }
        let points = mergeRuns(runs)
        try body(labels, points.map(\.timestamp), points.map(\.value))
    }
}

