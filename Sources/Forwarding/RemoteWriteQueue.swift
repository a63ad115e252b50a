import BlockCodec
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
/// A round reads up to `min(capacity, shards × max_samples_per_send)`
/// samples (or what came within `batch_send_deadline`), splits them into
/// shards by series (so a series' samples keep their order), sends each
/// shard's requests one after the other and the shards at once, retrying
/// 5xx, 429 and connection errors with exponential backoff (Retry-After
/// honoured) and dropping what a 4xx refuses. Only when every request of
/// the round is settled is the position saved and the next round read.
/// Ingest never waits for it: the store writes the WAL, and the queue
/// holds the WAL segments it has still to read (`TSDB.holdWAL`), up to
/// `max_disk_usage`, past which the oldest unsent samples are dropped.
public final class RemoteWriteQueue: Service, Sendable {
    public let config: RemoteWriteConfig
    public let name: String
    private let store: TSDB
    private let client: RemoteWriteClient
    private let metrics: RemoteWriteMetrics
    private let logger: Logger
    private let positionDirectory: String
    /// The last time a refused request's body was logged (rate limit), in nanoseconds.
    private let lastRefusalLog = Atomic<UInt64>(0)

    public init(
        config: RemoteWriteConfig, store: TSDB, dataDirectory: String, registry: PrometheusCollectorRegistry,
        version: String, logger: Logger
    ) throws(ForwardingError) {
        self.config = config
        name = config.effectiveName
        self.store = store
        client = try RemoteWriteClient(config: config, version: version)
        metrics = RemoteWriteMetrics(registry: registry, name: name, url: config.url)
        var logger = logger
        logger[metadataKey: "remote_write"] = "\(name)"
        self.logger = logger
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

    enum RoundResult {
        case settled(sent: Int, failed: Int, newest: Int64?, bytes: Int)
        /// Given up because the WAL kept behind passed max_disk_usage.
        case overDiskCap
        case cancelled
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
        var saved: WALPosition
        do {
            if let position = positionFile.load() {
                saved = position
                logger.info("remote_write resumes from its saved WAL position", metadata: ["position": "\(position)"])
            } else {
                saved = try WALFollower.end(directory: walDirectory)
                try positionFile.save(saved, now: Self.nanos())
                logger.info("remote_write starts with what is stored from now on", metadata: ["url": "\(config.url)"])
            }
        } catch {
            logger.error("remote_write cannot read or save its position; not sending", metadata: ["error": "\(error)"])
            return
        }
        store.holdWAL(name, from: saved.segment)

        var series: [UInt32: Series] = [:]
        do {
            for (ref, labels) in try WALFollower.seriesBefore(saved, directory: walDirectory) { series[ref.raw] = describe(labels) }
        } catch {
            logger.error("remote_write cannot read the WAL's series", metadata: ["error": "\(error)"])
        }
        let follower = WALFollower(directory: walDirectory, from: saved)
        var pending: [Pending] = []
        var pendingSince: ContinuousClock.Instant?
        var readPosition = saved
        var shards = max(1, config.queue.minShards)
        var quietRounds = 0
        var caughtUp = false
        metrics.shards.set(Int64(shards))

        while !Task.isCancelled {
            let target = max(1, min(config.queue.capacity, shards * config.queue.maxSamplesPerSend))
            if pending.count < target {
                do {
                    let batch = try follower.read(maxSamples: target - pending.count)
                    for problem in batch.problems { logger.warning("remote_write: \(problem)") }
                    take(batch.entries, into: &pending, series: &series)
                    readPosition = batch.position
                    caughtUp = batch.caughtUp
                } catch {
                    logger.error("remote_write cannot read the WAL; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
            }
            metrics.samplesPending.set(Int64(pending.count))
            if pending.isEmpty {
                if readPosition != saved {
                    save(readPosition, &saved, &positionFile)
                }
                updateBehind(saved)
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            let now = ContinuousClock.now
            if pendingSince == nil { pendingSince = now }
            let deadline = pendingSince! + .milliseconds(config.queue.batchSendDeadlineMillis)
            if pending.count < target, caughtUp, now < deadline {
                try? await Task.sleep(for: min(.milliseconds(50), deadline - now))
                continue
            }
            let snapshot = series
            let heldFrom = saved
            switch await round(pending, series: snapshot, shards: shards, heldFrom: heldFrom) {
            case .settled(let sent, let failed, let newest, let bytes):
                metrics.samplesSent.increment(by: Int64(sent))
                metrics.samplesFailed.increment(by: Int64(failed))
                metrics.bytesSent.increment(by: Int64(bytes))
                if let newest { metrics.highestSentTimestamp.set(Double(newest) / 1_000) }
            case .overDiskCap:
                metrics.droppedOverDiskCap.increment(by: Int64(pending.count))
                logger.error("remote_write: the WAL kept for this destination passed max_disk_usage; the oldest unsent samples are dropped", metadata: [
                    "max_disk_usage": "\(config.maxDiskUsageBytes)", "dropped": "\(pending.count)",
                ])
                readPosition = skipOverCap(follower, from: readPosition, series: &series)
            case .cancelled:
                return
            }
            pending.removeAll(keepingCapacity: true)
            pendingSince = nil
            metrics.samplesPending.set(Int64(0))
            save(readPosition, &saved, &positionFile)
            updateBehind(saved)
            // More shards while there is a backlog; fewer once it has been gone a while.
            if !caughtUp {
                quietRounds = 0
                shards = min(max(1, config.queue.maxShards), shards * 2)
            } else {
                quietRounds += 1
                if quietRounds >= 10 {
                    quietRounds = 0
                    shards = max(max(1, config.queue.minShards), shards - 1)
                }
            }
            metrics.shards.set(Int64(shards))
        }
    }

    private static func nanos() -> UInt64 { monotonicNanos() }

    /// Relabels a series and encodes its label fields once.
    private func describe(_ labels: Labels) -> Series {
        guard let out = RelabelRule.apply(config.relabel, to: labels), !out.metricName.isEmpty else {
            return Series(labelFields: nil, hash: 0)
        }
        return Series(labelFields: RemoteWriteEncoding.labelFields(out.map { (name: $0.name, value: $0.value) }), hash: out.hashValue)
    }

    private func take(_ entries: [WALFollower.Entry], into pending: inout [Pending], series: inout [UInt32: Series]) {
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
            try file.save(position, now: Self.nanos())
            saved = position
            store.holdWAL(name, from: position.segment)
        } catch {
            logger.error("remote_write cannot save its position; samples may be sent again after a restart", metadata: ["error": "\(error)"])
        }
    }

    private func updateBehind(_ position: WALPosition) {
        if let behind = try? WALFollower.bytesFrom(position, directory: store.walDirectory) {
            metrics.walBytesBehind.set(Int64(behind))
        }
    }

    private func overDiskCap(_ position: WALPosition) -> Bool {
        guard config.maxDiskUsageBytes > 0 else { return false }
        return ((try? WALFollower.bytesFrom(position, directory: store.walDirectory)) ?? 0) > Int(config.maxDiskUsageBytes)
    }

    /// Reads on, dropping samples (counted) and learning series, until the
    /// WAL from the position on fits in max_disk_usage again.
    private func skipOverCap(_ follower: WALFollower, from position: WALPosition, series: inout [UInt32: Series]) -> WALPosition {
        var position = position
        while overDiskCap(position) {
            guard let batch = try? follower.read(maxSamples: 100_000) else { break }
            for entry in batch.entries {
                switch entry {
                case .series(let ref, let labels): series[ref.raw] = describe(labels)
                case .samples(let samples): metrics.droppedOverDiskCap.increment(by: Int64(samples.count))
                }
            }
            position = batch.position
            if batch.caughtUp { break }
        }
        return position
    }

    /// Sends one round: every shard's requests, the shards at once.
    private func round(_ pending: [Pending], series: [UInt32: Series], shards: Int, heldFrom: WALPosition) async -> RoundResult {
        var groups = [[Pending]](repeating: [], count: shards)
        for sample in pending {
            // Known: `take` let only samples of described series through.
            let hash = series[sample.ref]!.hash
            groups[Int(UInt(bitPattern: hash) % UInt(shards))].append(sample)
        }
        return await withTaskGroup(of: RoundResult.self) { group in
            for samples in groups where !samples.isEmpty {
                group.addTask { await self.sendShard(samples, series: series, heldFrom: heldFrom) }
            }
            var sent = 0, failed = 0, bytes = 0
            var newest: Int64?
            var result: RoundResult?
            for await outcome in group {
                switch outcome {
                case .settled(let s, let f, let n, let b):
                    sent += s
                    failed += f
                    bytes += b
                    if let n { newest = max(newest ?? n, n) }
                case .overDiskCap, .cancelled:
                    if result == nil {
                        result = outcome
                        group.cancelAll()
                    }
                }
            }
            return result ?? .settled(sent: sent, failed: failed, newest: newest, bytes: bytes)
        }
    }

    /// One shard's samples, in requests of at most max_samples_per_send, in order.
    private func sendShard(_ samples: [Pending], series: [UInt32: Series], heldFrom: WALPosition) async -> RoundResult {
        var sent = 0, failed = 0, bytes = 0
        var newest: Int64?
        var start = 0
        while start < samples.count {
            let end = min(samples.count, start + max(1, config.queue.maxSamplesPerSend))
            var encoder = ProtobufEncoder(capacity: (end - start) * 128)
            for sample in samples[start..<end] {
                // Known: `take` let only samples of series with label fields through.
                RemoteWriteEncoding.appendSeries(
                    labelFields: series[sample.ref]!.labelFields!, timestamp: sample.timestamp, value: sample.value, to: &encoder)
            }
            let body = Snappy.compress(encoder.bytes)
            var backoff = max(1, config.queue.minBackoffMillis)
            sending: while true {
                if Task.isCancelled { return .cancelled }
                switch await client.send(body) {
                case .accepted:
                    sent += end - start
                    bytes += body.count
                    newest = max(newest ?? .min, samples[start..<end].map(\.timestamp).max()!)
                    break sending
                case .refused(let status, let text):
                    failed += end - start
                    metrics.requestsFailed.increment()
                    logRefusal(status, text, samples: end - start)
                    break sending
                case .retry(let after, let reason):
                    metrics.requestsFailed.increment()
                    metrics.samplesRetried.increment(by: Int64(end - start))
                    if backoff == max(1, config.queue.minBackoffMillis) {
                        logger.warning("remote_write: sending failed; retrying with backoff", metadata: ["reason": "\(reason)"])
                    }
                    let wait = after ?? backoff
                    backoff = min(max(backoff * 2, 1), max(1, config.queue.maxBackoffMillis))
                    do {
                        try await Task.sleep(for: .milliseconds(wait))
                    } catch {
                        return .cancelled
                    }
                    if overDiskCap(heldFrom) { return .overDiskCap }
                }
            }
            start = end
        }
        return .settled(sent: sent, failed: failed, newest: newest, bytes: bytes)
    }

    /// Logs a refused request's answer, at most once every 10 seconds.
    private func logRefusal(_ status: Int, _ text: String, samples: Int) {
        let now = Self.nanos()
        let last = lastRefusalLog.load(ordering: .relaxed)
        guard now &- last >= 10_000_000_000 || last == 0 else { return }
        lastRefusalLog.store(now, ordering: .relaxed)
        logger.error("remote_write: the destination refused a request; its samples are dropped", metadata: [
            "status": "\(status)", "samples": "\(samples)", "answer": "\(text)",
        ])
    }
}
