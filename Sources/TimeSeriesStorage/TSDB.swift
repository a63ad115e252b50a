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
    let lock: DirectoryLock
    let head: Mutex<Head>
    /// The head's series count at each maintenance round of the last day.
    let growth = Mutex(HeadGrowth())
    let chunkFile: HeadChunkFile
    let wal: Mutex<WALState>
    let blocks: Mutex<[Block]>
    let cache: GroupCache
    let metrics: StorageMetrics
    let logger: Logger
    let reportedDamage = Mutex(Set<String>())
    /// Blocks found damaged at open and left out: queries over their times fail.
    let damagedBlocks: [DamagedData]
    /// The first WAL segment each forwarder still has to read, by name.
    let walHolds = Mutex<[String: Int]>([:])
    let maintenanceRunning = Atomic<Bool>(false)

    /// The WAL and the batches waiting for it to accept writes again.
    struct WALState: ~Copyable {
        var log: WAL
        var pending: [[WALRecord]] = []
    }

    /// The slots of series created since the last append: their records are
    /// logged in front of its samples, so registering a series writes nothing
    /// while the head is locked (and keeps no label set of its own meanwhile).
    let unloggedSeries = Mutex<[UInt32]>([])

    /// The most series or samples in one WAL write: a first flush of a
    /// million new series is logged a slice at a time, not encoded into one
    /// buffer of hundreds of megabytes that the allocator then keeps.
    static let walSliceRecords = 8_192

    /// Series whose chunks are copied out of the head at once while a block is written.
    static let blockBatchSeries = 4_096

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
    /// (a damaged one is reported and left out, and queries over its times
    /// fail), replays the WAL.
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
        var damaged: [DamagedData] = []
        let opened = try TSDB.openBlocks(directory, cache: cache, logger: logger, damaged: &damaged)
        damagedBlocks = damaged
        report.damagedBlocks = damaged.map { String($0.path.split(separator: "/").last ?? "") }
        metrics.corruptions.increment(by: Int64(damaged.count))
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
        _ directory: String, cache: GroupCache, logger: Logger, damaged: inout [DamagedData]
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
                // The block's times, if its meta.json still reads, bound the queries that fail for it.
                let meta = try? BlockMeta.decode(FileSystem.readFile(path + "/meta.json"), path: path + "/meta.json")
                let span = meta.map { "samples from \(formatRFC3339($0.minTime)) to \(formatRFC3339($0.maxTime))" } ?? "samples of unknown times"
                damaged.append(DamagedData(path: path, range: meta.map { $0.minTime...$0.maxTime }, span: span, reason: "\(error)"))
                logger.error("block is damaged and left out; queries over its times fail; run `tally verify`", metadata: [
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
}
