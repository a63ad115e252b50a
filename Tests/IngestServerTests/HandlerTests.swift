import Aggregation
import ConnectionAdmission
import LogStorage
import LogWire
import Logging
import NIOCore
import NIOEmbedded
import Prometheus
import StatsDWire
import TallyTestKit
import Testing
import TelemetryModel
@testable import IngestServer

/// Handlers in an `EmbeddedChannel`, with real routers, rings and shards.
final class Fixture {
    let registry = PrometheusCollectorRegistry()
    let inputs: [ShardInput]
    let shard: AggregationShard
    let factory: RouterFactory
    let metrics: IngestMetrics
    let events = CapturingEventSink()
    let sink = CapturingSampleSink()

    init(maxLineBytes: Int = 65_536, ringCapacity: Int = 64) {
        inputs = [ShardInput(index: 0, ringCapacity: ringCapacity)]
        let aggregationMetrics = AggregationMetrics(registry: registry, shards: 1)
        shard = AggregationShard(config: AggregationConfig(), budget: SeriesBudget(limit: 1000), metrics: aggregationMetrics, sink: sink)
        factory = RouterFactory(inputs: inputs, parser: StatsDParser(), metrics: aggregationMetrics, events: events,
                                badLineLog: BadLineLog(clock: ManualClock()) { _ in }, maxLineBytes: maxLineBytes)
        metrics = IngestMetrics(registry: registry)
    }

    func totals(at timestamp: Int64 = 10_000) -> [String: Double] {
        while let batch = inputs[0].ring.pop() {
            shard.apply(batch)
            inputs[0].recycle(batch)
        }
        var out: [String: Double] = [:]
        for sample in shard.flush(at: timestamp) { out[sink.labels(of: sample.ref).description] = sample.value }
        return out
    }

    func metric(_ prefix: String) -> Int64 {
        registry.emitToString().split(separator: "\n").first { $0.hasPrefix(prefix) }
            .flatMap { $0.split(separator: " ").last }.flatMap { Int64(Double($0) ?? -1) } ?? 0
    }
}

@Suite("Datagram handler")
struct DatagramHandlerTests {
    @Test func everyLineOfEveryDatagramIsTaken() throws {
        let fixture = Fixture()
        let channel = EmbeddedChannel(handler: DatagramHandler(factory: fixture.factory, metrics: fixture.metrics.udp, clock: ManualClock()))
        let remote = try SocketAddress(ipAddress: "127.0.0.1", port: 5000)
        for _ in 0..<3 {
            let buffer = ByteBuffer(bytes: datagram(["a:1|c", "bad|c", "a:2|c|@0.5", "", "b:7|g"]))
            try channel.writeInbound(AddressedEnvelope(remoteAddress: remote, data: buffer))
        }
        channel.pipeline.fireChannelReadComplete()
        // A small burst waits up to a millisecond for company before it is pushed.
        #expect(fixture.totals().isEmpty)
        channel.embeddedEventLoop.advanceTime(by: DatagramHandler.pushDelay)
        let out = fixture.totals()
        #expect(out["a_total"] == 15)
        #expect(out["b"] == 7)
        #expect(fixture.metric(#"tally_statsd_received_lines_total{transport="udp"}"#) == 12)
        #expect(fixture.metric(#"tally_statsd_received_datagrams_total{transport="udp"}"#) == 3)
        #expect(try channel.finish().isClean)
    }

    @Test func aNulByteLosesOnlyItsOwnLine() throws {
        let fixture = Fixture()
        let channel = EmbeddedChannel(handler: DatagramHandler(factory: fixture.factory, metrics: fixture.metrics.udp, clock: ManualClock()))
        let bytes = Array("m22:1|c".utf8) + [0] + Array("hidden:1|c\nsentinel:1|c\n".utf8)
        try channel.writeInbound(AddressedEnvelope(remoteAddress: try SocketAddress(ipAddress: "127.0.0.1", port: 1), data: ByteBuffer(bytes: bytes)))
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.advanceTime(by: DatagramHandler.pushDelay)
        #expect(fixture.totals()["sentinel_total"] == 1)
        #expect(try channel.finish().isClean)
    }
}

extension DatagramHandlerTests {
    @Test func aFullBurstIsPushedAtOnce() throws {
        let fixture = Fixture()
        let channel = EmbeddedChannel(handler: DatagramHandler(factory: fixture.factory, metrics: fixture.metrics.udp, clock: ManualClock()))
        let remote = try SocketAddress(ipAddress: "127.0.0.1", port: 5000)
        let lines = (0..<DatagramHandler.pushThreshold).map { _ in "burst:1|c" }
        try channel.writeInbound(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: datagram(lines))))
        channel.pipeline.fireChannelReadComplete()
        #expect(fixture.totals()["burst_total"] == Double(DatagramHandler.pushThreshold))
        #expect(try channel.finish().isClean)
    }
}

@Suite("Stream line handler")
struct StreamLineHandlerTests {
    func makeChannel(_ fixture: Fixture) throws -> EmbeddedChannel {
        let handler = StreamLineHandler(factory: fixture.factory, metrics: fixture.metrics, clock: ManualClock(), backlog: ClosingBacklog())
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test func linesSplitAcrossReadsAreJoined() throws {
        let fixture = Fixture()
        let channel = try makeChannel(fixture)
        for piece in ["a:1|", "c\na:2", "|c\nb:5|g\na:", "3|c"] {
            try channel.writeInbound(ByteBuffer(string: piece))
            channel.pipeline.fireChannelReadComplete()
        }
        // The final line has no newline: it counts once the stream ends.
        _ = try channel.finish()
        let out = fixture.totals()
        #expect(out["a_total"] == 6)
        #expect(out["b"] == 5)
    }

    @Test func anOverlongLineIsCountedAndSkippedToItsNewline() throws {
        let fixture = Fixture(maxLineBytes: 100)
        let channel = try makeChannel(fixture)
        try channel.writeInbound(ByteBuffer(string: "ok:1|c\n" + String(repeating: "x", count: 80)))
        try channel.writeInbound(ByteBuffer(string: String(repeating: "y", count: 80)))
        try channel.writeInbound(ByteBuffer(string: String(repeating: "z", count: 500) + ":1|c\nok:1|c\n"))
        try channel.writeInbound(ByteBuffer(string: String(repeating: "w", count: 200) + "\nok:1|c\n"))
        channel.pipeline.fireChannelReadComplete()
        #expect(fixture.totals()["ok_total"] == 3)
        #expect(fixture.metric(#"tally_statsd_bad_lines_total{reason="line_too_long"}"#) == 2)
        _ = try channel.finish()
    }

    @Test func aFullRingPausesReadingInsteadOfDropping() throws {
        let fixture = Fixture(ringCapacity: 2)
        let channel = try makeChannel(fixture)
        let line = "k:1|c|#tag:" + String(repeating: "t", count: 2000) + "\n"
        // About 32 lines fill a 64 KiB batch; 200 lines need seven batches.
        try channel.writeInbound(ByteBuffer(string: String(repeating: line, count: 200)))
        channel.pipeline.fireChannelReadComplete()
        #expect(fixture.metric("tally_statsd_tcp_backpressure_pauses_total") == 1)
        // The shard drains the ring; the handler's retries push the rest.
        var total = 0.0
        for _ in 0..<20 {
            if let value = fixture.totals().values.first { total = value }
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(2))
        }
        #expect(total == 200)
        #expect(fixture.metric(#"tally_ring_dropped_lines_total{shard="0"}"#) == 0)
        _ = try channel.finish()
    }

    /// Admission sits before the line handler: past the limit a new connection is closed and
    /// counted unless one has been silent `minimumWait`, which then gives way and is counted too.
    @Test func connectionsBeyondTheLimitAreClosedAndCounted() throws {
        let fixture = Fixture()
        let limiter = ConnectionLimiter(limit: 1, minimumWait: .seconds(3600), observer: fixture.metrics.admission)
        func connect() throws -> EmbeddedChannel {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandlers([
                AdmissionHandler(limiter: limiter),
                StreamLineHandler(factory: fixture.factory, metrics: fixture.metrics, clock: ManualClock(), backlog: ClosingBacklog()),
            ])
            try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            return channel
        }
        let first = try connect()
        let second = try connect()
        #expect(!second.isActive)
        #expect(fixture.metric("tally_statsd_tcp_rejected_connections_total") == 1)
        #expect(fixture.metric("tally_statsd_tcp_connections") == 1)
        #expect(limiter.current == 1)
        _ = try first.finish()
        #expect(limiter.current == 0)
        #expect(fixture.metric("tally_statsd_tcp_connections") == 0)

        // With no wait required, the silent connection gives way to the new one.
        let patient = ConnectionLimiter(limit: 1, minimumWait: .zero, observer: fixture.metrics.admission)
        let silent = EmbeddedChannel(handler: AdmissionHandler(limiter: patient))
        try silent.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let newcomer = EmbeddedChannel(handler: AdmissionHandler(limiter: patient))
        try newcomer.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(newcomer.isActive)
        #expect(!silent.isActive)
        #expect(fixture.metric("tally_statsd_tcp_evicted_connections_total") == 1)
        #expect(patient.current == 1)
        _ = try newcomer.finish()
    }
}

@Suite("Log stream handler")
struct LogStreamHandlerTests {
    /// With the writer's two-batch ring full, the connection stops reading (counted) instead of
    /// dropping; once the writer drains, reading resumes and every line is stored.
    @Test func aFullWriterRingPausesReadingAndLosesNothing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let registry = PrometheusCollectorRegistry()
        let metrics = LogIngestMetrics(registry: registry)
        let store = try LogStore(directory: dir.path, now: 1_000_000_000)
        let clock = ManualClock()
        let writers = LogWriters(store: store, lanes: 1, ringCapacity: 2, clock: clock, metrics: metrics, logger: Logger(label: "test"))
        let router = LogLineRouter(decoder: LogDecoder(), writers: writers, metrics: metrics, listener: "logs_tcp", format: .lines, policy: .keep)
        let channel = EmbeddedChannel(handler: LogStreamHandler(
            framer: MessageFramer(mode: .lines, maxBytes: 65_536), router: router, clock: clock, metrics: metrics, backlog: ClosingBacklog()))
        try await channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        // About 400 KB: six batches of 64 KiB, three times what the ring holds while the writer is stopped.
        let line = #"{"service":"flood","msg":"\#(String(repeating: "x", count: 100))"}"# + "\n"
        try channel.writeInbound(ByteBuffer(string: String(repeating: line, count: 3_500)))
        channel.pipeline.fireChannelReadComplete()
        let paused = registry.emitToString().contains("tally_logs_tcp_backpressure_pauses_total 1")
        #expect(paused, "the connection paused")
        #expect(router.hasPending, "the batches the ring refused are held, not dropped")
        // The writer starts; the handler's retries (every millisecond) hand the rest over.
        writers.start()
        for _ in 0..<5_000 where router.hasPending {
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(!router.hasPending)
        await writers.stop()
        var stored = 0
        for selection in try store.select([try LabelMatcher("service", .equal, "flood")], start: 0, end: .max) {
            try selection.forEachEntry(start: 0, end: .max) { _ in
                stored += 1
                return true
            }
        }
        #expect(stored == 3_500)
        #expect(!registry.emitToString().contains(#"tally_logs_dropped_lines_total{reason="ring_full"} 1"#))
        _ = try channel.finish()
    }
}
