#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import TelemetryModel

/// An agent's durable queue to its central tally. Each flush of each shard
/// hands over the interval's StatsD state (an encoded `AggregateRequest`),
/// which is appended to a write-ahead log of its own (`DATA/agent/wal`);
/// a sender reads the log from a durable position (`DATA/agent/position`),
/// sends what it finds in requests of up to `batch_size`, saves the
/// position once the centre has acknowledged, and deletes the segments read.
/// So a central tally that is down, or an agent restarted or killed with
/// -9, loses nothing: at most the request in flight is sent twice (the
/// centre then counts that interval's increments twice). 5xx, 429 and
/// connection errors are retried with backoff for as long as it takes; a
/// 4xx drops the request (counted, logged); past `max_disk_usage` the
/// oldest state is dropped (counted).
public final class AggregateForwardQueue: AggregateExportSink, Service {
    public let config: AgentConfig
    private let directory: String
    private let wal: Mutex<WAL>
    private let client: PushClient
    private let logger: Logger
    private let refusals: RefusalLog
    private let sentExports: Counter
    private let sentBytes: Counter
    private let droppedRefused: Counter
    private let droppedOverDiskCap: Counter
    private let failedRequests: Counter
    private let bytesBehind: Gauge
    private let writeErrors: Counter

    public init(
        config: AgentConfig, dataDirectory: String, registry: PrometheusCollectorRegistry, version: String, logger: Logger
    ) throws(ForwardingError) {
        self.config = config
        directory = dataDirectory + "/agent"
        do {
            try FileSystem.makeDirectory(directory)
            wal = Mutex(try WAL(directory: directory + "/wal", segmentBytes: 16 << 20))
        } catch {
            throw ForwardingError(description: "cannot open the agent's queue in \(directory): \(error)")
        }
        client = try PushClient(
            endpoint: config.endpoint, contentHeaders: [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "snappy")],
            maxConnections: 1, version: version)
        var logger = logger
        logger[metadataKey: "agent"] = "\(config.endpoint.url)"
        self.logger = logger
        refusals = RefusalLog(logger: logger)
        let labels = [("url", config.endpoint.url)]
        func counter(_ name: String, _ help: String, _ extra: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help), labels: labels + extra)
        }
        sentExports = counter("tally_agent_sent_exports", "Shard intervals of StatsD state the central tally acknowledged.")
        sentBytes = counter("tally_agent_sent_bytes", "Bytes of StatsD state (before snappy) the central tally acknowledged.")
        let dropped = "Shard intervals of StatsD state not forwarded, by reason."
        droppedRefused = counter("tally_agent_dropped_exports", dropped, [("reason", "refused")])
        droppedOverDiskCap = counter("tally_agent_dropped_exports", dropped, [("reason", "max_disk_usage")])
        failedRequests = counter("tally_agent_failed_requests", "Requests to the central tally that failed (and were retried or dropped).")
        writeErrors = counter("tally_agent_queue_write_errors", "Exports that could not be written to the agent's queue (lost).")
        bytesBehind = registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: "tally_agent_queue_bytes", unitName: "", helpText: "Bytes of the agent's queue not yet acknowledged."),
            labels: labels)
    }

    /// One record kind: a request's worth of aggregates.
    struct Export: WALEntry {
        let bytes: [UInt8]
        var walKind: UInt8 { 1 }
        func encodePayload(into out: inout [UInt8]) { out.append(contentsOf: bytes) }
    }

    public func exportAggregates(_ request: [UInt8]) {
        do {
            try wal.withLock { wal throws(StorageError) in try wal.log([Export(bytes: request)]) }
        } catch {
            writeErrors.increment()
            logger.error("cannot write to the agent's queue; this interval's state is not forwarded", metadata: ["error": "\(error)"])
        }
    }

    public func run() async throws {
        // On shutdown the request in flight is abandoned: it stays after the
        // saved position and goes out again at the next start.
        await cancelWhenGracefulShutdown { await self.sendLoop() }
        syncWAL()
        await client.shutdown()
    }

    private var walDirectory: String { directory + "/wal" }

    private func sendLoop() async {
        var positionFile = PositionFile(directory: directory)
        var saved = positionFile.load() ?? WALPosition(segment: 0, offset: 0)
        // Each pass reads on from the saved position; a pass ends when the queue passed its cap (and dropped).
        while !Task.isCancelled {
            await send(from: &saved, positionFile: &positionFile)
        }
    }

    /// Sends the queue from `saved` on, saving as the centre acknowledges,
    /// until cancelled or over the disk cap (the oldest then dropped).
    private func send(from saved: inout WALPosition, positionFile: inout PositionFile) async {
        let tail = WALTail(directory: walDirectory, from: saved)
        var lastSync = ContinuousClock.now
        while !Task.isCancelled {
            if ContinuousClock.now - lastSync >= .seconds(1) {
                syncWAL()
                lastSync = ContinuousClock.now
            }
            var body: [UInt8] = []
            var exports = 0
            let read: WALTail.Progress
            do {
                read = try tail.read(maxUnits: config.batchBytes) { kind, payload in
                    guard kind == 1 else { return nil }
                    body.append(contentsOf: payload)
                    exports += 1
                    return payload.count
                }
            } catch {
                logger.error("the agent cannot read its queue; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            for problem in read.problems { logger.warning("agent queue: \(problem)") }
            if body.isEmpty {
                if read.position != saved { save(read.position, &saved, &positionFile) }
                if read.caughtUp { try? await Task.sleep(for: .milliseconds(50)) }
                continue
            }
            let heldFrom = saved
            let compressed = Snappy.compress(body)
            let result = await client.sendWithRetries(
                compressed, minBackoffMillis: config.minBackoffMillis, maxBackoffMillis: config.maxBackoffMillis,
                failed: { retried, reason, attempt in
                    failedRequests.increment()
                    if retried, attempt == 1 {
                        logger.warning("agent: forwarding to the central tally failed; retrying with backoff", metadata: ["reason": "\(reason)"])
                    }
                },
                overDiskCap: { config.endpoint.isOverDiskCap(from: heldFrom, walDirectory: walDirectory) })
            switch result {
            case .accepted:
                sentExports.increment(by: Int64(exports))
                sentBytes.increment(by: Int64(body.count))
                save(read.position, &saved, &positionFile)
            case .refused(let status, let text):
                droppedRefused.increment(by: Int64(exports))
                refusals.log(
                    "agent: the central tally refused a request; its state is dropped", status: status, answer: text, count: exports,
                    unit: "exports")
                save(read.position, &saved, &positionFile)
            case .overDiskCap:
                // Drop the oldest: skip whole segments until what is left fits the cap.
                var position = read.position
                var dropped = exports
                while config.endpoint.isOverDiskCap(from: position, walDirectory: walDirectory), let segments = try? WAL.segments(in: walDirectory), let next = segments.first(where: { $0 > position.segment }) {
                    dropped += 1
                    position = WALPosition(segment: next, offset: 0)
                }
                droppedOverDiskCap.increment(by: Int64(dropped))
                logger.error("agent: the queue passed max_disk_usage; the oldest state is dropped", metadata: [
                    "max_disk_usage": "\(config.endpoint.maxDiskUsageBytes)",
                ])
                save(position, &saved, &positionFile)
                return
            case .cancelled:
                return
            }
        }
    }

    private func syncWAL() {
        do {
            try wal.withLock { wal throws(StorageError) in try wal.sync() }
        } catch {
            logger.error("cannot fsync the agent's queue", metadata: ["error": "\(error)"])
        }
    }

    /// Saves the position and deletes the segments wholly before it.
    private func save(_ position: WALPosition, _ saved: inout WALPosition, _ file: inout PositionFile) {
        do {
            try file.save(position, now: monotonicNanos())
            saved = position
            for segment in (try? WAL.segments(in: walDirectory)) ?? [] where segment < position.segment {
                try FileSystem.removeTree(walDirectory + "/" + WAL.segmentName(segment))
            }
        } catch {
            logger.error("the agent cannot save its queue position; state may be sent again after a restart", metadata: ["error": "\(error)"])
        }
        bytesBehind.set(Int64((try? WALTail.bytesFrom(saved, directory: walDirectory)) ?? 0))
    }

}
