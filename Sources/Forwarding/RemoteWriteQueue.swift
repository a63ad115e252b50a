import BlockCodec
import DurableFiles
import Logging
import Prometheus
import ProtobufWire
import ServiceLifecycle
import Synchronization
import TelemetryModel
import TimeSeriesStorage

/// Sends every sample tally stores to one remote_write destination, read
/// from the WAL, with a durable read position (`PositionFile`): after a
/// restart or a kill -9 it resumes where the destination last acknowledged,
/// so nothing is lost and at most the round in flight is sent twice.
///
/// The reader splits what it reads into shards by series (so a series'
/// samples keep their order) and hands them out in chunks of at most one
/// request per shard, up to `capacity` samples per shard in flight. Each
/// shard sends its requests one after the other and the shards at once,
/// retrying 5xx, 429 and connection errors with exponential backoff
/// (Retry-After honoured) and dropping what a 4xx refuses. The position is
/// saved past a chunk once it and every chunk before it are settled.
/// Ingest never waits for it: the store writes the WAL, and the queue
/// holds the WAL segments it has still to read (`TSDB.holdWAL`), up to
/// `max_disk_usage`, past which the oldest unsent samples are dropped.
public final class RemoteWriteQueue: Service, Sendable {
    public let config: RemoteWriteConfig
    public let name: String
    private let store: TSDB
    private let client: PushClient
    private let metrics: RemoteWriteMetrics
    private let logger: Logger
    private let positionDirectory: String
    private let refusals: RefusalLog

    public init(
        config: RemoteWriteConfig, store: TSDB, dataDirectory: String, registry: PrometheusCollectorRegistry,
        version: String, logger: Logger
    ) throws(ForwardingError) {
        self.config = config
        name = config.endpoint.effectiveName
        self.store = store
        client = try PushClient(
            endpoint: config.endpoint,
            contentHeaders: [
                ("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf"),
                ("X-Prometheus-Remote-Write-Version", "0.1.0"),
            ],
            retryOnHTTP429: config.queue.retryOnHTTP429, maxConnections: config.queue.maxShards, version: version)
        metrics = RemoteWriteMetrics(registry: registry, name: name, url: config.endpoint.url)
        var logger = logger
        logger[metadataKey: "remote_write"] = "\(name)"
        self.logger = logger
        refusals = RefusalLog(logger: logger)
        positionDirectory = dataDirectory + "/remote_write/" + name
    }

    /// A sample waiting to be sent: its series' reference, time and value.
    struct Pending: Sendable {
        var ref: UInt32
        var timestamp: Int64
        var value: Double
    }

    /// A series as this destination sends it: its label fields after
    /// relabelling (nil: dropped by relabelling) and its shard hash.
    struct Series: Sendable {
        var labelFields: [UInt8]?
        var hash: Int
    }

    /// The series met in the WAL, by reference: the store's references are
    /// dense slot numbers, so an array indexed by them serves as the map.
    struct SeriesTable: Sendable {
        private(set) var entries: [Series?] = []

        subscript(ref: UInt32) -> Series? {
            get { Int(ref) < entries.count ? entries[Int(ref)] : nil }
            set {
                let slot = Int(ref)
                if slot >= entries.count { entries += [Series?](repeating: nil, count: slot + 1 - entries.count) }
                entries[slot] = newValue
            }
        }
    }

    public func run() async throws {
        // On shutdown the round in flight is abandoned: its samples stay after
        // the saved position and go out again at the next start.
        await cancelWhenGracefulShutdown { await self.sendLoop() }
        await client.shutdown()
    }

    private func sendLoop() async {
        var positionFile = PositionFile(directory: positionDirectory)
        let walDirectory = store.walDirectory
        guard var saved = positionFile.begin(walDirectory: walDirectory, kind: "remote_write", url: config.endpoint.url, logger: logger) else {
            return
        }
        store.holdWAL(name, from: saved.segment)

        var series = SeriesTable()
        do {
            for (ref, labels) in try WALFollower.seriesBefore(saved, directory: walDirectory) { series[ref.raw] = describe(labels) }
        } catch {
            logger.error("remote_write cannot read the WAL's series", metadata: ["error": "\(error)"])
        }
        var reader = Reader(follower: WALFollower(directory: walDirectory, from: saved), series: series)
        var shards = max(1, config.queue.minShards)
        while !Task.isCancelled {
            metrics.shards.set(Int64(shards))
            let outcome = await generation(shards: shards, reader: &reader, saved: &saved, positionFile: &positionFile)
            switch outcome {
            case .cancelled:
                return
            case .overDiskCap:
                // Everything read after the saved position is given up: read on from there,
                // dropping (and counting) the oldest until the WAL kept fits the cap again.
                reader.follower = WALFollower(directory: walDirectory, from: saved)
                let (skipped, dropped) = skipOverCap(reader.follower, from: saved, series: &reader.series)
                logger.error("remote_write: the WAL kept for this destination passed max_disk_usage; the oldest unsent samples are dropped", metadata: [
                    "max_disk_usage": "\(config.endpoint.maxDiskUsageBytes)", "dropped": "\(dropped)",
                ])
                save(skipped, &saved, &positionFile)
            case .reshard(let wanted):
                shards = wanted
            }
        }
    }

    /// The WAL as this destination reads it: the follower and the series it has met.
    struct Reader {
        var follower: WALFollower
        var series: SeriesTable
    }

    enum GenerationEnd {
        case cancelled
        case overDiskCap
        case reshard(Int)
    }

    /// Runs `shards` shard workers, each sending its parts in order, while
    /// the reader cuts the WAL into chunks for them; saves the position as
    /// chunks settle. Ends to change the number of shards (once nothing is
    /// in flight), on cancellation, or when the WAL kept passes the cap.
    private func generation(
        shards: Int, reader: inout Reader, saved: inout WALPosition, positionFile: inout PositionFile
    ) async -> GenerationEnd {
        let tracker = SendTracker()
        var inputs: [AsyncStream<Part>.Continuation] = []
        var streams: [AsyncStream<Part>] = []
        for _ in 0..<shards {
            let (stream, continuation) = AsyncStream<Part>.makeStream()
            streams.append(stream)
            inputs.append(continuation)
        }
        let heldFrom = saved
        return await withTaskGroup(of: Void.self) { group in
            for stream in streams {
                group.addTask { await self.shardWorker(stream, tracker: tracker, heldFrom: heldFrom) }
            }
            defer {
                for input in inputs { input.finish() }
            }
            let perSend = max(1, config.queue.maxSamplesPerSend)
            let capacity = max(perSend, config.queue.capacity)
            // The chunk being filled: a part per shard, each at most one request.
            var parts = [[Pending]](repeating: [], count: shards)
            var filled = 0
            var filledSince: ContinuousClock.Instant?
            // Every sample before `readEnd` is in `parts` or in a chunk cut before.
            var readEnd = reader.follower.position
            var lastCutEnd = readEnd
            var incoming: [Pending] = []
            var caughtUp = false
            var backlogRounds = 0
            var quietRounds = 0
            var wantShards: Int?

            /// Hands the filled parts to their shards as one chunk ending at `end`.
            func cut(end: WALPosition, series: SeriesTable) {
                let used = parts.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) }
                let chunk = tracker.open(parts: used, samples: filled, end: end)
                for shard in parts.indices where !parts[shard].isEmpty {
                    inputs[shard].yield(Part(chunk: chunk, samples: parts[shard], series: series))
                    parts[shard] = []
                    parts[shard].reserveCapacity(perSend)
                }
                if caughtUp {
                    backlogRounds = 0
                } else {
                    backlogRounds += 1
                    quietRounds = 0
                }
                filled = 0
                filledSince = nil
                lastCutEnd = end
            }

            while true {
                if Task.isCancelled {
                    group.cancelAll()
                    return .cancelled
                }
                let settled = tracker.collect()
                if settled.sent > 0 || settled.failed > 0 {
                    metrics.samplesSent.increment(by: Int64(settled.sent))
                    metrics.samplesFailed.increment(by: Int64(settled.failed))
                    metrics.bytesSent.increment(by: Int64(settled.bytes))
                    if let newest = settled.newest { metrics.highestSentTimestamp.set(Double(newest) / 1_000) }
                }
                if let position = settled.saveable {
                    save(position, &saved, &positionFile)
                    updateBehind(saved)
                }
                metrics.samplesPending.set(Int64(settled.inFlight + filled))
                if settled.overDiskCap {
                    group.cancelAll()
                    return .overDiskCap
                }
                // More shards while a backlog lasts, fewer once it has long been gone; the
                // number changes between chunks with nothing in flight (the reader pauses for it).
                if wantShards == nil {
                    if backlogRounds >= 2, shards < config.queue.maxShards {
                        wantShards = min(config.queue.maxShards, shards * 2)
                    } else if quietRounds >= 100, shards > config.queue.minShards {
                        wantShards = max(config.queue.minShards, shards - 1)
                    }
                }
                if let wanted = wantShards {
                    if filled > 0 { cut(end: readEnd, series: reader.series) }
                    if settled.inFlight == 0 { return .reshard(wanted) }
                    try? await Task.sleep(for: .milliseconds(1))
                    continue
                }
                // Read while there is room in flight (`capacity` samples per shard, as Prometheus
                // counts it), a request's worth at a time. A sample whose shard's part is full
                // cuts the chunk: every request but the last of a backlog is full, and none is
                // split into a full one and a small rest. That chunk ends where the batch began
                // (everything before is in it or before it), so a restart may send again the part
                // of one batch that it held.
                let room = capacity * shards - settled.inFlight - filled
                var progressed = false
                if room > 0 {
                    let before = reader.follower.position
                    do {
                        let batch = try reader.follower.read(maxSamples: min(room, perSend))
                        for problem in batch.problems { logger.warning("remote_write: \(problem)") }
                        incoming.removeAll(keepingCapacity: true)
                        take(batch.entries, into: &incoming, series: &reader.series)
                        caughtUp = batch.caughtUp
                        var partFull = false
                        for sample in incoming {
                            // Known: `take` let only samples of described series through.
                            let shard = Int(UInt(bitPattern: reader.series[sample.ref]!.hash) % UInt(shards))
                            if parts[shard].count >= perSend {
                                cut(end: before, series: reader.series)
                                partFull = false
                            }
                            parts[shard].append(sample)
                            filled += 1
                            if parts[shard].count >= perSend { partFull = true }
                        }
                        progressed = batch.position != before
                        readEnd = batch.position
                        // A full part goes now: waiting for the next sample could wait for room that only it frees.
                        if partFull { cut(end: readEnd, series: reader.series) }
                    } catch {
                        logger.error("remote_write cannot read the WAL; retrying", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: .seconds(1))
                        continue
                    }
                }
                if filled == 0 {
                    if readEnd != lastCutEnd {
                        // Only series records (or dropped samples) were read: a chunk with nothing to send.
                        _ = tracker.open(parts: 0, samples: 0, end: readEnd)
                        lastCutEnd = readEnd
                        continue
                    }
                    if caughtUp {
                        if settled.inFlight == 0 { quietRounds += 1 }
                        try? await Task.sleep(for: .milliseconds(50))
                    } else if !progressed {
                        try? await Task.sleep(for: .milliseconds(1)) // wait for room, or for the WAL
                    }
                    continue
                }
                // Caught up: what was read goes at the deadline (or once a part fills). With a
                // backlog: read on, waiting for room rather than cutting small chunks.
                let now = ContinuousClock.now
                if filledSince == nil { filledSince = now }
                if caughtUp {
                    let deadline = filledSince! + .milliseconds(config.queue.batchSendDeadlineMillis)
                    if now >= deadline {
                        cut(end: readEnd, series: reader.series)
                    } else {
                        try? await Task.sleep(for: min(.milliseconds(50), deadline - now))
                    }
                } else if capacity * shards - settled.inFlight - filled <= 0 {
                    try? await Task.sleep(for: .milliseconds(1))
                }
            }
        }
    }

    /// One shard's share of a chunk, and the series table as it was when
    /// the chunk was cut (a copy-on-write share, copied only if a series
    /// record arrives while the part is in flight).
    struct Part: Sendable {
        var chunk: Int
        var samples: [Pending]
        var series: SeriesTable
    }

    /// Sends a shard's parts one after the other, each in requests of at
    /// most max_samples_per_send, retrying until settled.
    private func shardWorker(_ parts: AsyncStream<Part>, tracker: SendTracker, heldFrom: WALPosition) async {
        for await part in parts {
            var sent = 0, failed = 0, bytes = 0
            var newest: Int64?
            var start = 0
            let perSend = max(1, config.queue.maxSamplesPerSend)
            while start < part.samples.count {
                let end = min(part.samples.count, start + perSend)
                var encoder = ProtobufEncoder(capacity: (end - start) * 128)
                for sample in part.samples[start..<end] {
                    // Known: only samples of series with label fields are cut into chunks.
                    RemoteWriteEncoding.appendSeries(
                        labelFields: part.series[sample.ref]!.labelFields!, timestamp: sample.timestamp, value: sample.value, to: &encoder)
                }
                let body = Snappy.compress(encoder.bytes)
                let count = end - start
                let result = await client.sendWithRetries(
                    body, minBackoffMillis: config.queue.minBackoffMillis, maxBackoffMillis: config.queue.maxBackoffMillis,
                    failed: { retried, reason, attempt in
                        metrics.requestsFailed.increment()
                        guard retried else { return }
                        metrics.samplesRetried.increment(by: Int64(count))
                        if attempt == 1 {
                            logger.warning("remote_write: sending failed; retrying with backoff", metadata: ["reason": "\(reason)"])
                        }
                    },
                    overDiskCap: { config.endpoint.isOverDiskCap(from: heldFrom, walDirectory: store.walDirectory) })
                switch result {
                case .accepted:
                    sent += end - start
                    bytes += body.count
                    let top = part.samples[start..<end].lazy.map(\.timestamp).max()!
                    newest = max(newest ?? top, top)
                case .refused(let status, let text):
                    refusals.log(
                        "remote_write: the destination refused a request; its samples are dropped", status: status, answer: text, count: count,
                        unit: "samples")
                    failed += end - start
                case .overDiskCap:
                    tracker.markOverDiskCap()
                    return
                case .cancelled:
                    return
                }
                start = end
            }
            tracker.settle(chunk: part.chunk, samples: part.samples.count, sent: sent, failed: failed, bytes: bytes, newest: newest)
        }
    }

    /// Relabels a series and encodes its label fields once.
    private func describe(_ labels: Labels) -> Series {
        guard let out = RelabelRule.apply(config.relabel, to: labels), !out.metricName.isEmpty else {
            return Series(labelFields: nil, hash: 0)
        }
        return Series(labelFields: RemoteWriteEncoding.labelFields(out.map { (name: $0.name, value: $0.value) }), hash: out.hashValue)
    }

    private func take(_ entries: [WALFollower.Entry], into pending: inout [Pending], series: inout SeriesTable) {
        var unknown = 0
        var relabelled = 0
        for entry in entries {
            switch entry {
            case .series(let ref, let labels):
                series[ref.raw] = describe(labels)
            case .samples(let samples):
                for sample in samples {
                    guard let known = series[sample.ref.raw] else {
                        unknown += 1
                        continue
                    }
                    guard known.labelFields != nil else {
                        relabelled += 1
                        continue
                    }
                    pending.append(Pending(ref: sample.ref.raw, timestamp: sample.timestamp, value: sample.value))
                }
            }
        }
        if unknown > 0 {
            metrics.droppedUnknownSeries.increment(by: Int64(unknown))
            logger.warning("remote_write: samples of series the WAL never named are skipped", metadata: ["samples": "\(unknown)"])
        }
        if relabelled > 0 { metrics.droppedByRelabel.increment(by: Int64(relabelled)) }
    }

    private func save(_ position: WALPosition, _ saved: inout WALPosition, _ file: inout PositionFile) {
        do {
            try file.save(position, now: monotonicNanos())
            saved = position
            store.holdWAL(name, from: position.segment)
        } catch {
            logger.error("remote_write cannot save its position; samples may be sent again after a restart", metadata: ["error": "\(error)"])
        }
    }

    private func updateBehind(_ position: WALPosition) {
        if let behind = try? WALTail.bytesFrom(position, directory: store.walDirectory) {
            metrics.walBytesBehind.set(Int64(behind))
        }
    }


    /// Reads on, dropping samples (counted) and learning series, until the
    /// WAL from the position on fits in max_disk_usage again; returns where
    /// it stopped and how many samples it dropped.
    private func skipOverCap(_ follower: WALFollower, from position: WALPosition, series: inout SeriesTable) -> (WALPosition, Int) {
        var position = position
        var dropped = 0
        while config.endpoint.isOverDiskCap(from: position, walDirectory: store.walDirectory) {
            guard let batch = try? follower.read(maxSamples: 100_000) else { break }
            for entry in batch.entries {
                switch entry {
                case .series(let ref, let labels): series[ref.raw] = describe(labels)
                case .samples(let samples): dropped += samples.count
                }
            }
            position = batch.position
            if batch.caughtUp { break }
        }
        metrics.droppedOverDiskCap.increment(by: Int64(dropped))
        return (position, dropped)
    }
}
