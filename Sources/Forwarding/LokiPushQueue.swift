import BlockCodec
import DurableFiles
import LogStorage
import Logging
import Prometheus
import ProtobufWire
import ServiceLifecycle
import TelemetryModel

/// Pushes every log entry tally stores to one Loki-compatible
/// `/loki/api/v1/push` (protobuf, snappy), read from the log store's WAL,
/// with a durable read position (`PositionFile`): after a restart or a
/// kill -9 it resumes where the destination last acknowledged, so nothing
/// is lost and at most the request in flight is sent twice.
///
/// One request at a time, as Promtail sends to one client: entries are
/// gathered until `batch_size` bytes wait or the oldest has waited
/// `batch_wait`, grouped by stream (each stream's entries in time order),
/// and sent; 5xx, 429 and connection errors are retried with exponential
/// backoff (Retry-After honoured) for as long as it takes, other 4xx are
/// dropped and counted. Ingest never waits for it: the store writes the
/// WAL, and holds the segments this queue has still to read
/// (`LogStore.holdWAL`), up to `max_disk_usage`, past which the oldest
/// unsent entries are dropped and counted.
public final class LokiPushQueue: Service, Sendable {
    public let config: LokiPushConfig
    public let name: String
    private let store: LogStore
    private let client: PushClient
    private let metrics: LokiPushMetrics
    private let logger: Logger
    private let refusals: RefusalLog
    private let positionDirectory: String

    public init(
        config: LokiPushConfig, store: LogStore, dataDirectory: String, registry: PrometheusCollectorRegistry, version: String,
        logger: Logger
    ) throws(ForwardingError) {
        self.config = config
        name = config.endpoint.effectiveName
        self.store = store
        // As Promtail sends it: the protobuf body is snappy-compressed, which Loki knows without a Content-Encoding.
        var headers = [("Content-Type", "application/x-protobuf")]
        if let tenant = config.tenantID { headers.append(("X-Scope-OrgID", tenant)) }
        client = try PushClient(endpoint: config.endpoint, contentHeaders: headers, maxConnections: 1, version: version)
        metrics = LokiPushMetrics(registry: registry, name: name, url: config.endpoint.url)
        var logger = logger
        logger[metadataKey: "loki_push"] = "\(name)"
        self.logger = logger
        refusals = RefusalLog(logger: logger)
        positionDirectory = dataDirectory + "/loki_push/" + name
    }

    public func run() async throws {
        // On shutdown the batch being filled or sent is abandoned: its entries
        // stay after the saved position and go out again at the next start.
        await cancelWhenGracefulShutdown { await self.sendLoop() }
        await client.shutdown()
    }

    /// An entry waiting in a batch: its time and where its line and its
    /// encoded structured metadata are in the batch's arena.
    struct PendingEntry {
        var nanos: Int64
        var line: Range<Int>
        var metadata: Range<Int>
    }

    /// Entries gathered for one request, by stream; their bytes in one arena.
    struct Batch {
        var arena: [UInt8] = []
        /// Streams in the order first met: label text and entries.
        var streams: [(labelText: [UInt8], entries: [PendingEntry])] = []
        /// The batch's stream for a WAL stream id (an id named again by a new
        /// stream record starts a new one).
        var slots: [UInt32: Int] = [:]
        var entries = 0
        var lineBytes = 0
        /// Bytes of WAL entries read into it (what `batch_size` compares).
        var walBytes = 0
        var newest: Int64 = .min
        var since: ContinuousClock.Instant?
    }

    private func sendLoop() async {
        var positionFile = PositionFile(directory: positionDirectory)
        let walDirectory = store.walDirectory
        guard var saved = positionFile.begin(walDirectory: walDirectory, kind: "loki_push", url: config.endpoint.url, logger: logger) else {
            return
        }
        store.holdWAL(name, from: saved.segment)
        var streams: [UInt32: [UInt8]] = [:]
        do {
            for (id, labels) in try LogWALFollower.streamsBefore(saved, directory: walDirectory) { streams[id] = labelText(labels) }
        } catch {
            logger.error("loki_push cannot read the WAL's streams", metadata: ["error": "\(error)"])
        }
        let follower = LogWALFollower(directory: walDirectory, from: saved)
        var batch = Batch()
        var readEnd = saved
        var caughtUp = false
        while !Task.isCancelled {
            if batch.walBytes < config.batchBytes {
                do {
                    let read = try follower.read(maxBytes: config.batchBytes - batch.walBytes)
                    for problem in read.problems { logger.warning("loki_push: \(problem)") }
                    take(read.records, into: &batch, streams: &streams)
                    readEnd = read.position
                    caughtUp = read.caughtUp
                } catch {
                    logger.error("loki_push cannot read the log WAL; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
            }
            metrics.entriesPending.set(Int64(batch.entries))
            if batch.entries == 0 {
                if readEnd != saved, caughtUp || readEnd.segment != saved.segment {
                    // Only stream records were read: nothing to send, but the position moves on.
                    save(readEnd, &saved, &positionFile)
                }
                if caughtUp { try? await Task.sleep(for: .milliseconds(50)) }
                continue
            }
            // A backlog sends full batches; caught up, the oldest entry waits at most batch_wait.
            let now = ContinuousClock.now
            if batch.since == nil { batch.since = now }
            if caughtUp, batch.walBytes < config.batchBytes {
                let deadline = batch.since! + .milliseconds(config.batchWaitMillis)
                if now < deadline {
                    try? await Task.sleep(for: min(.milliseconds(50), deadline - now))
                    continue
                }
            }
            let body = Snappy.compress(encode(&batch))
            let count = batch.entries
            let heldFrom = saved
            let result = await client.sendWithRetries(
                body, minBackoffMillis: config.minBackoffMillis, maxBackoffMillis: config.maxBackoffMillis,
                failed: { retried, reason, attempt in
                    metrics.requestsFailed.increment()
                    if retried, attempt == 1 {
                        logger.warning("loki_push: pushing failed; retrying with backoff", metadata: ["reason": "\(reason)"])
                    }
                },
                overDiskCap: { config.endpoint.isOverDiskCap(from: heldFrom, walDirectory: store.walDirectory) })
            switch result {
            case .accepted:
                metrics.entriesSent.increment(by: Int64(count))
                metrics.bytesSent.increment(by: Int64(batch.lineBytes))
                metrics.highestSentTimestamp.set(Double(batch.newest) / 1e9)
            case .refused(let status, let text):
                metrics.droppedRefused.increment(by: Int64(count))
                refusals.log(
                    "loki_push: the destination refused a push; its entries are dropped", status: status, answer: text, count: count,
                    unit: "entries")
            case .overDiskCap:
                // Everything read after the saved position is given up: read on, dropping
                // (and counting) the oldest, until the WAL kept fits the cap again.
                var dropped = count
                var position = readEnd
                while config.endpoint.isOverDiskCap(from: position, walDirectory: store.walDirectory), let read = try? follower.read(maxBytes: 1 << 20) {
                    var skipped = Batch()
                    take(read.records, into: &skipped, streams: &streams)
                    dropped += skipped.entries
                    position = read.position
                    if read.caughtUp { break }
                }
                readEnd = position
                metrics.droppedOverDiskCap.increment(by: Int64(dropped))
                logger.error("loki_push: the log WAL kept for this destination passed max_disk_usage; the oldest unsent entries are dropped", metadata: [
                    "max_disk_usage": "\(config.endpoint.maxDiskUsageBytes)", "dropped": "\(dropped)",
                ])
            case .cancelled:
                return
            }
            batch = Batch()
            save(readEnd, &saved, &positionFile)
        }
    }

    /// Adds the entries of `records` to the batch, learning streams as they are named.
    private func take(_ records: [LogWALFollower.Record], into batch: inout Batch, streams: inout [UInt32: [UInt8]]) {
        var unknown = 0
        for record in records {
            switch record {
            case .stream(let id, let labels):
                streams[id] = labelText(labels)
                batch.slots[id] = nil
            case .entries(let payload):
                batch.walBytes += payload.count
                LogWALFollower.forEachEntry(payload) { id, nanos, line, fields in
                    let slot: Int
                    if let known = batch.slots[id] {
                        slot = known
                    } else {
                        guard let text = streams[id] else {
                            unknown += 1
                            return
                        }
                        slot = batch.streams.count
                        batch.streams.append((text, []))
                        batch.slots[id] = slot
                    }
                    let lineStart = batch.arena.count
                    batch.arena.append(contentsOf: line)
                    let metadataStart = batch.arena.count
                    fields.forEach { name, value in LokiPushEncoding.appendMetadata(name: name, value: value, to: &batch.arena) }
                    batch.streams[slot].entries.append(
                        PendingEntry(nanos: nanos, line: lineStart..<metadataStart, metadata: metadataStart..<batch.arena.count))
                    batch.entries += 1
                    batch.lineBytes += line.count
                    batch.newest = max(batch.newest, nanos)
                }
            }
        }
        if unknown > 0 {
            metrics.droppedUnknownStream.increment(by: Int64(unknown))
            logger.warning("loki_push: entries of streams the WAL never named are skipped", metadata: ["entries": "\(unknown)"])
        }
    }

    /// The batch as a `PushRequest`, each stream's entries in time order.
    private func encode(_ batch: inout Batch) -> [UInt8] {
        var encoder = ProtobufEncoder(capacity: batch.arena.count + batch.entries * 24 + batch.streams.count * 64)
        for index in batch.streams.indices {
            // Stable: entries of the same time keep the order they were stored in.
            let sorted = batch.streams[index].entries.enumerated().sorted { ($0.element.nanos, $0.offset) < ($1.element.nanos, $1.offset) }
            let entries = sorted.map { item in
                LokiPushEncoding.Entry(nanos: item.element.nanos, line: batch.arena[item.element.line], metadata: batch.arena[item.element.metadata])
            }
            LokiPushEncoding.appendStream(labelText: batch.streams[index].labelText, entries: entries, to: &encoder)
        }
        return encoder.bytes
    }

    /// A stream's labels with the external labels it does not set itself, in Loki's text form.
    private func labelText(_ labels: Labels) -> [UInt8] {
        var pairs = labels.map { (name: $0.name, value: $0.value) }
        for (name, value) in config.externalLabels where labels[name] == nil { pairs.append((name, value)) }
        pairs.sort { $0.name < $1.name }
        return LokiPushEncoding.labelText(pairs)
    }

    private func save(_ position: WALPosition, _ saved: inout WALPosition, _ file: inout PositionFile) {
        do {
            try file.save(position, now: monotonicNanos())
            saved = position
            store.holdWAL(name, from: position.segment)
        } catch {
            logger.error("loki_push cannot save its position; entries may be sent again after a restart", metadata: ["error": "\(error)"])
        }
        if let behind = try? WALTail.bytesFrom(saved, directory: store.walDirectory) {
            metrics.walBytesBehind.set(Int64(behind))
        }
    }

}
