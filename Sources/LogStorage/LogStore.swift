#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import Logging
import LogWire
import Prometheus
import Synchronization
import TelemetryModel

/// The log store: streams of entries in a WAL-backed head, cut into
/// zlib-compressed chunks, written out as immutable segment files with an
/// index of streams and their chunks' times (docs/format/logs.md).
///
/// Thread-safe: writers, queries and maintenance share one lock, which is
/// never held while a chunk is compressed or a segment written.
public final class LogStore: Sendable, WALSource {
    public let directory: String
    let options: LogStoreOptions
    let metrics: LogStoreMetrics
    let logger: Logger
    let state: Mutex<State>
    private let lock: DirectoryLock
    /// Forwarders' holds on the WAL: the first segment each still reads.
    let walHolds = Mutex<[String: Int]>([:])

    struct State: ~Copyable {
        var streams: [UInt32: HeadStream] = [:]
        var byHash: [UInt64: [UInt32]] = [:]
        var nextID: UInt32 = 1
        var nextSerial = 0
        var segments: [LogSegment] = []
        /// Segments holding streams that a retention rule selects, by number: the longest
        /// period of their streams, and whether every stream in them is rule-selected (only
        /// those are merged). A segment not listed expires with the store's retention.
        var ruledSegments: [Int: (period: Int64, pure: Bool)] = [:]
        /// True while small ruled segments are being merged, so only one merge runs.
        var merging = false
        var nextSegment = 1
        var wal: WAL
        /// Bytes of the head's entries, raw and compressed.
        var headBytes = 0
        /// When the head's chunks were last written out (nanoseconds, wall clock).
        var lastSeal: Int64
        /// True while a segment is being written, so only one is.
        var sealing = false
        /// Streams that left the head while a forwarder held the WAL, with
        /// the WAL segment current when they left: a forwarder behind that
        /// segment may still meet their entries, so checkpoints keep their
        /// stream records until every hold has moved past it.
        var retired: [UInt32: (labels: Labels, lastSegment: Int)] = [:]
        /// The last arrival time given to an entry without a time of its own.
        var lastArrival = Int64.min
    }

    /// What opening the store found.
    public struct OpenReport: Sendable {
        public var segments = 0
        public var damagedSegments: [String] = []
        public var walRecords = 0
        public var walRepaired: String?
        public var streams = 0
    }

    public let openReport: OpenReport
    /// Segments set aside as damaged: queries over their times fail.
    let damagedSegments: [DamagedData]

    /// Opens (or creates) the store in `directory`: its lock, its segments
    /// (a damaged one is renamed `.damaged` and left out, and queries over its
    /// times fail until it is removed), and the WAL replayed into the head.
    public init(
        directory: String, options: LogStoreOptions = LogStoreOptions(), now: Int64,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        logger: Logger = Logger(label: "tally.logs")
    ) throws(StorageError) {
        self.directory = directory
        self.options = options
        self.logger = logger
        metrics = LogStoreMetrics(registry: registry)
        try FileSystem.makeDirectory(directory)
        lock = try DirectoryLock(directory: directory)
        var report = OpenReport()
        let segmentDirectory = directory + "/segments"
        try FileSystem.makeDirectory(segmentDirectory)
        var segments: [LogSegment] = []
        var damaged: [DamagedData] = []
        func setAside(_ path: String, _ reason: String) -> DamagedData {
            let range = LogSegment.footerTimes(path: path)
            let span = range.map { "entries from \(formatNanos($0.lowerBound)) to \(formatNanos($0.upperBound))" } ?? "entries of unknown times"
            return DamagedData(path: path, range: range, span: span, reason: reason)
        }
        for name in try FileSystem.list(segmentDirectory).sorted() {
            let path = segmentDirectory + "/" + name
            if name.hasSuffix(".tmp") {
                try FileSystem.removeTree(path)
                continue
            }
            if name.hasSuffix(".seg.damaged") {
                damaged.append(setAside(path, "set aside by an earlier start"))
                report.damagedSegments.append("\(path): set aside by an earlier start")
                continue
            }
            guard name.hasSuffix(".seg"), let number = Int(name.dropLast(4)) else { continue }
            do {
                segments.append(try LogSegment(path: path, number: number))
            } catch {
                report.damagedSegments.append("\(error)")
                metrics.corruptions.increment()
                logger.error("a log segment is damaged; it is set aside, and queries over its times fail until it is removed",
                             metadata: ["error": "\(error)"])
                let now = (try? FileSystem.rename(path, path + ".damaged")) != nil ? path + ".damaged" : path
                damaged.append(setAside(now, "\(error)"))
            }
        }
        damagedSegments = damaged
        report.segments = segments.count

        let walDirectory = directory + "/wal"
        var head = HeadReplay(options: options)
        let replay = try WALReplay.run(directory: walDirectory) { kind, payload in
            head.apply(kind: kind, payload)
        }
        report.walRecords = replay.records
        if let repaired = replay.repaired {
            report.walRepaired = "\(repaired.path) at byte \(repaired.offset): \(repaired.reason)"
            metrics.walRepairs.increment()
            logger.warning("cut the log WAL at a damaged record; every record before it was replayed", metadata: [
                "file": "\(repaired.path)", "offset": "\(repaired.offset)", "reason": "\(repaired.reason)",
            ])
        }
        report.streams = head.streams.count
        let wal = try WAL(directory: walDirectory, segmentBytes: options.walSegmentBytes)
        var state = State(wal: wal, lastSeal: now)
        for (id, var stream) in head.streams {
            stream.logged = true
            stream.lastAppend = now
            state.byHash[LogStore.hash(stream.key), default: []].append(id)
            state.streams[id] = stream
        }
        state.nextID = (head.streams.keys.max() ?? 0) + 1
        state.segments = segments
        for segment in segments { state.noteRetention(of: segment, options: options) }
        state.nextSegment = (segments.map(\.number).max() ?? 0) + 1
        state.nextSerial = head.nextSerial
        state.headBytes = state.streams.values.reduce(0) { $0 + $1.footprint }
        self.state = Mutex(state)
        openReport = report
        updateGauges()
    }

    static func hash(_ key: [UInt8]) -> UInt64 {
        key.withUnsafeBytes { LogBatch.streamHash($0) }
    }

    static func key(_ labels: Labels) -> [UInt8] {
        LogBatch.streamKey(labels.map { ($0.name, $0.value) })
    }

    // MARK: Appending

    /// An error that kept a whole batch out: the WAL could not be written.
    public struct AppendFailure: Error, CustomStringConvertible, Sendable {
        public let underlying: StorageError
        public var description: String { "cannot write the log WAL: \(underlying)" }
    }

    /// Stores a batch: every entry the rules accept is written to the WAL
    /// (fsynced first under `fsync: always`) and then becomes readable; the
    /// others are counted by reason. `now` (nanoseconds) anchors the limits
    /// and stamps entries without a time of their own, one nanosecond apart
    /// and never going back, so that identical lines arriving together stay
    /// distinct entries (a reader gives an identical (time, line) once).
    /// Like Promtail's stamping at read time, one line at a time.
    @discardableResult
    public func append(_ batch: LogBatch, now: Int64) throws(AppendFailure) -> LogAppendResult {
        var result = LogAppendResult()
        guard !batch.isEmpty else { return result }
        var toCompress: [(UInt32, Int)] = []
        try state.withLock { state throws(AppendFailure) in
            // Pass 1: decide each entry, logging new streams and encoding the WAL payload.
            // Each entry's stream (0: refused) and time, as pass 2 applies them.
            var targets: [(id: UInt32, time: Int64)] = []
            targets.reserveCapacity(batch.count)
            var records: [LogWALRecord] = []
            var payload: [UInt8] = []
            payload.reserveCapacity(batch.bytes.count)
            var fields: [UInt8] = []
            var newestInBatch: [UInt32: Int64] = [:]
            batch.forEach { entry in
                let time: Int64
                if let own = entry.timestamp {
                    time = own
                } else {
                    state.lastArrival = max(now, state.lastArrival &+ 1)
                    time = state.lastArrival
                }
                let decision = decide(entry, time: time, now: now, state: &state, newest: &newestInBatch, records: &records)
                switch decision {
                case .failure(let reason, let message):
                    result.rejected[reason, default: 0] += 1
                    if result.firstRejection == nil { result.firstRejection = message }
                    targets.append((0, time))
                case .success(let (id, time)):
                    targets.append((id, time))
                    Self.encodeFields(entry, into: &fields)
                    let text = entry.timestamp == nil ? nil : entry.timestampText
                    fields.withUnsafeBytes {
                        LogWALRecord.appendEntry(id: id, time: time, timeText: text, line: entry.line, fields: $0, to: &payload)
                    }
                }
            }
            if !payload.isEmpty { records.append(.entries(payload)) }
            guard !records.isEmpty else { return }
            do throws(StorageError) {
                try state.wal.log(records)
                if case .always = options.fsync {
                    try state.wal.sync()
                    metrics.walFsyncs.increment()
                }
            } catch {
                metrics.walErrors.increment()
                // Streams created for this batch stay, unlogged: their record goes with their next entries.
                throw AppendFailure(underlying: error)
            }
            for case .stream(let id, _) in records { state.streams[id]?.logged = true }
            // Pass 2: apply what was logged.
            var index = 0
            var bytes = 0
            batch.forEach { entry in
                let (id, time) = targets[index]
                index += 1
                guard id != 0 else { return }
                Self.encodeFields(entry, into: &fields)
                // One in-place access to the stream per entry (each lookup hashes the id).
                let (grown, openBytes) = fields.withUnsafeBytes { encoded in
                    state.streams[id]!.append(time: time, line: entry.line, timeText: entry.timestampText, fields: encoded, now: now)
                }
                state.headBytes += grown
                if openBytes >= options.chunkTargetBytes {
                    let before = state.streams[id]!.footprint
                    if let serial = cut(id, state: &state) { toCompress.append((id, serial)) }
                    state.headBytes += state.streams[id]!.footprint - before
                }
                bytes += entry.line.count
                result.accepted += 1
            }
            metrics.appendedBytes.increment(by: Int64(bytes))
        }
        metrics.appended.increment(by: Int64(result.accepted))
        for (reason, count) in result.rejected { metrics.rejected[reason]?.increment(by: Int64(count)) }
        compress(toCompress)
        return result
    }

    private enum Decision {
        case success((UInt32, Int64))
        case failure(LogRejectReason, String)
    }

    /// Finds or creates the entry's stream and checks the entry against the limits.
    private func decide(
        _ entry: LogBatchEntry, time: Int64, now: Int64, state: inout State, newest: inout [UInt32: Int64], records: inout [LogWALRecord]
    ) -> Decision {
        if time > now.saturatingAdding(options.maxFutureNanos) {
            return .failure(.tooFarInFuture, "entry at \(formatNanos(time)) is more than \(options.maxFutureNanos / 1_000_000_000)s ahead of the clock")
        }
        let key = entry.labelBytes
        let hash = entry.streamHash
        var id: UInt32?
        for candidate in state.byHash[hash] ?? [] where state.streams[candidate]!.key.elementsEqual(key) {
            id = candidate
        }
        if let id {
            let policy = state.streams[id]!.policy
            if let failure = Self.tooOld(time, now: now, policy: policy) { return failure }
        } else {
            guard entry.labelCount <= options.maxLabelsPerStream else {
                return .failure(.tooManyLabels, "stream has \(entry.labelCount) labels, at most \(options.maxLabelsPerStream) are allowed")
            }
            // Refused before its labels are built: a flood of new streams costs no allocation past the limit.
            guard state.streams.count < options.maxStreams else {
                return .failure(.streamLimit, "new stream refused: \(options.maxStreams) streams is the limit (max_streams)")
            }
            var pairs: [Label] = []
            entry.forEachLabel { name, value in
                pairs.append(Label(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            }
            let labels = Labels(pairs)
            let policy = StreamPolicy(labels, options: options)
            if let failure = Self.tooOld(time, now: now, policy: policy) { return failure }
            let newID = state.nextID
            state.nextID += 1
            state.streams[newID] = HeadStream(id: newID, labels: labels, key: Array(key), policy: policy)
            state.byHash[hash, default: []].append(newID)
            id = newID
        }
        let streamID = id!
        if !state.streams[streamID]!.logged, !records.contains(where: { if case .stream(let logged, _) = $0 { logged == streamID } else { false } }) {
            records.append(.stream(id: streamID, labels: state.streams[streamID]!.labels))
        }
        let window = state.streams[streamID]!.policy.outOfOrderWindowNanos
        let newestSoFar = max(state.streams[streamID]!.newest, newest[streamID] ?? .min)
        if newestSoFar != .min, time < newestSoFar.saturatingSubtracting(window) {
            return .failure(.outOfOrder, "entry at \(formatNanos(time)) is more than \(window / 1_000_000_000)s behind its stream's newest entry")
        }
        newest[streamID] = max(newestSoFar, time)
        return .success((streamID, time))
    }

    /// The refusal of an entry older than its stream's retention period, or nil.
    private static func tooOld(_ time: Int64, now: Int64, policy: StreamPolicy) -> Decision? {
        guard time < now.saturatingSubtracting(policy.retentionNanos) else { return nil }
        return .failure(.tooOld, "entry at \(formatNanos(time)) is older than its stream's retention period (\(policy.retentionNanos / 1_000_000_000)s)")
    }

    /// Re-encodes a batch entry's fields in the chunks' form.
    static func encodeFields(_ entry: LogBatchEntry, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        guard entry.fieldCount > 0 else { return }
        Varint.append(UInt64(entry.fieldCount), to: &out)
        entry.forEachField { name, value in
            Varint.append(UInt64(name.count), to: &out)
            out.append(contentsOf: name)
            Varint.append(UInt64(value.count), to: &out)
            out.append(contentsOf: value)
        }
    }

    /// Moves a stream's open entries into a raw chunk; returns its serial, or nil when there was nothing.
    func cut(_ id: UInt32, state: inout State) -> Int? {
        guard let open = state.streams[id]?.open, !open.isEmpty else { return nil }
        let serial = state.nextSerial
        state.nextSerial += 1
        // In place: a copy of the stream taken out and put back would copy its chunk list.
        state.streams[id]!.cutOpenChunk(serial: serial)
        return serial
    }

    /// Compresses cut chunks outside the lock, then swaps them in.
    func compress(_ chunks: [(UInt32, Int)]) {
        for (id, serial) in chunks {
            let raw: ChunkEntries? = state.withLock { state in
                guard let chunk = state.streams[id]?.chunks.first(where: { $0.serial == serial }), case .raw(let entries) = chunk.body else {
                    return nil
                }
                return entries
            }
            guard let raw else { continue }
            let (meta, bytes) = LogChunkCodec.compress(raw, level: options.compressionLevel)
            state.withLock { state in
                guard let index = state.streams[id]?.chunks.firstIndex(where: { $0.serial == serial }) else { return }
                let before = state.streams[id]!.chunks[index].footprint
                state.streams[id]!.chunks[index].body = .compressed(meta, bytes)
                state.headBytes += state.streams[id]!.chunks[index].footprint - before
            }
        }
    }

    /// fsyncs the WAL if anything was written since the last time.
    public func syncWAL() {
        state.withLock { state in
            guard state.wal.dirty else { return }
            do {
                try state.wal.sync()
                metrics.walFsyncs.increment()
            } catch {
                metrics.walErrors.increment()
                logger.error("cannot fsync the log WAL; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    func updateGauges() {
        let (streams, headBytes, segments, segmentBytes) = state.withLock { state in
            (state.streams.count, state.headBytes, state.segments.count, state.segments.reduce(0) { $0 + $1.sizeBytes })
        }
        metrics.streams.set(Int64(streams))
        metrics.headBytes.set(Int64(headBytes))
        metrics.segments.set(Int64(segments))
        metrics.segmentBytes.set(Int64(segmentBytes))
    }
}

/// RFC 3339 with nanoseconds trimmed to milliseconds, for messages.
func formatNanos(_ nanos: Int64) -> String {
    formatRFC3339(floorDivide(nanos, 1_000_000))
}
