import Aggregation
import DurableFiles
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ProtobufWire
import ServiceLifecycle
import Synchronization
import TelemetryModel

/// Runs the aggregation shards, each on its own event loop thread: it drains
/// the shard's ring, applies the batches, and at every interval boundary
/// (aligned to the wall clock, so all shards stamp the same time) hands the
/// interval's samples to the sink. On graceful shutdown it drains what is
/// left in the rings, flushes the open interval, and ends every series with
/// a staleness marker before returning.
public final class AggregationService: Service {
    public let inputs: [ShardInput]
    private let group: MultiThreadedEventLoopGroup
    private let shards: [ShardState]
    private let sink: any SampleSink
    private let clock: any WallClock
    private let flushIntervalMillis: Int64
    private let logger: Logger
    private let flushDuration: DurationHistogram
    /// The longest flush since start (nanoseconds) and its gauge: while a
    /// shard flushes it does not drain its ring, so this is the longest its
    /// ingest stood still (a block cut or checkpoint must not lengthen it).
    private let longestFlushNanos = Atomic<Int64>(0)
    private let longestFlush: Gauge
    private let activeSeries: Gauge
    private let budget: SeriesBudget
    /// An agent's queue to the central tally, which each flush's state goes to first.
    private let exporter: (any AggregateExportSink)?

    /// One shard and the event loop it lives on. Invariant that makes the
    /// unchecked `Sendable` sound: after `init`, every access to `shard`,
    /// `nextFlush` and `stopped` happens on `eventLoop` (ticks and the final
    /// drain are all submitted to it), so they are never touched concurrently.
    final class ShardState: @unchecked Sendable {
        let eventLoop: any EventLoop
        let shard: AggregationShard
        let input: ShardInput
        var nextFlush: Int64
        var stopped = false
        /// Consecutive ticks that found the ring empty (for the idle back-off).
        var idleTicks = 0

        init(eventLoop: any EventLoop, shard: AggregationShard, input: ShardInput, nextFlush: Int64) {
            self.eventLoop = eventLoop
            self.shard = shard
            self.input = input
            self.nextFlush = nextFlush
        }
    }

    public init(
        shardCount: Int, ringCapacity: Int, config: AggregationConfig, maxSeries: Int,
        flushIntervalMillis: Int64, sink: any SampleSink, clock: any WallClock,
        metrics: AggregationMetrics, registry: PrometheusCollectorRegistry, logger: Logger,
        catalog: MetricCatalog? = nil, exporter: (any AggregateExportSink)? = nil, rollupSink: (any SketchRollupSink)? = nil
    ) {
        precondition(shardCount > 0 && flushIntervalMillis > 0)
        self.exporter = exporter
        group = MultiThreadedEventLoopGroup(numberOfThreads: shardCount)
        budget = SeriesBudget(limit: maxSeries)
        let inputs = (0..<shardCount).map { ShardInput(index: $0, ringCapacity: ringCapacity) }
        self.inputs = inputs
        let now = clock.nowMillis()
        let firstFlush = (now / flushIntervalMillis + 1) * flushIntervalMillis
        let loops = Array(group.makeIterator())
        let budget = self.budget
        shards = inputs.enumerated().map { index, input in
            ShardState(
                eventLoop: loops[index % loops.count],
                shard: AggregationShard(
                    config: config, budget: budget, metrics: metrics, sink: sink, catalog: catalog, exportsAggregates: exporter != nil,
                    rollupSink: rollupSink),
                input: input, nextFlush: firstFlush)
        }
        self.sink = sink
        self.clock = clock
        self.flushIntervalMillis = flushIntervalMillis
        self.logger = logger
        flushDuration = registry.makeDurationHistogram(descriptor: MetricNameDescriptor(
            metricName: "tally_flush_duration", unitName: "seconds",
            helpText: "Time one shard takes to flush an interval into storage."),
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                      .milliseconds(500), .seconds(2), .seconds(10)])
        longestFlush = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_flush_duration_max", unitName: "seconds",
            helpText: "The longest flush of any shard since start: the longest its input ring went undrained."))
        activeSeries = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_series_active", unitName: "",
            helpText: "Series held by the aggregation shards."))
    }

    public func run() async throws {
        for state in shards {
            state.eventLoop.execute { self.tick(state) }
        }
        try? await gracefulShutdown()
        // Drain every ring and flush the open interval, shard by shard.
        var flushed = 0
        for state in shards {
            flushed += try await state.eventLoop.submit {
                state.stopped = true
                while let batch = state.input.ring.pop() {
                    state.shard.apply(batch)
                    state.input.recycle(batch)
                }
                let now = self.clock.nowMillis()
                let flushed = self.flush(state, at: now)
                // Every series ends here: instant queries stop returning them, as for a Prometheus target that went away.
                let markers = state.shard.markAllStale(at: now + 1)
                if !markers.isEmpty { self.sink.append(markers) }
                return flushed
            }.get()
        }
        logger.info("drained the shards and flushed the open interval", metadata: ["samples": "\(flushed)"])
        try await group.shutdownGracefully()
    }

    private func tick(_ state: ShardState) {
        guard !state.stopped else { return }
        var drained = 0
        while drained < 256, let batch = state.input.ring.pop() {
            state.shard.apply(batch)
            state.input.recycle(batch)
            drained += 1
        }
        let now = clock.nowMillis()
        if now >= state.nextFlush {
            flush(state, at: state.nextFlush)
            // Skip intervals missed while the machine was suspended.
            state.nextFlush = max(state.nextFlush + flushIntervalMillis,
                                  (now / flushIntervalMillis + 1) * flushIntervalMillis)
        }
        if drained > 0 {
            state.idleTicks = 0
            state.eventLoop.execute { self.tick(state) }
        } else {
            // Poll every millisecond while traffic flows, backing off when idle (an idle tally
            // otherwise wakes 200 times a second per shard), but never past the next flush;
            // a ring holds far more than 50 ms of traffic.
            state.idleTicks += 1
            let wait = min(idleWaitMillis(afterIdleTicks: state.idleTicks), max(1, state.nextFlush - now))
            state.eventLoop.scheduleTask(in: .milliseconds(wait)) { self.tick(state) }
        }
    }

    @discardableResult
    private func flush(_ state: ShardState, at timestamp: Int64) -> Int {
        let started = ContinuousClock.now
        if let exporter {
            var encoder = ProtobufEncoder()
            state.shard.exportAggregates(into: &encoder)
            if !encoder.bytes.isEmpty { exporter.exportAggregates(encoder.bytes) }
        }
        // Handed over in slices: a flush of millions of series never holds all its samples at once.
        let samples = state.shard.flush(at: timestamp) { sink.append($0) }
        // What a burst left in the pool goes back to the system (4 MiB or more at a time).
        if state.input.trimPool() >= ShardInput.keptAfterTrim { AllocatorTuning.releaseFreeMemory() }
        let took = Int64((ContinuousClock.now - started).nanoseconds)
        flushDuration.recordNanoseconds(took)
        let (before, longest) = longestFlushNanos.max(took, ordering: .relaxed)
        if longest != before { longestFlush.set(Double(longest) / 1e9) }
        activeSeries.set(Int64(budget.activeCount))
        return samples
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
