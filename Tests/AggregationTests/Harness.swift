import Prometheus
import StatsDWire
import TallyTestKit
import TelemetryModel
@testable import Aggregation

/// Routers and shards wired together in process: lines in, samples out.
final class Harness {
    let inputs: [ShardInput]
    let shards: [AggregationShard]
    let router: LineRouter
    let events: CapturingEventSink
    let registry = PrometheusCollectorRegistry()
    let metrics: AggregationMetrics
    let budget: SeriesBudget
    let sink = CapturingSampleSink()
    let catalog = MetricCatalog()

    init(shards count: Int = 2, config: AggregationConfig = AggregationConfig(), maxSeries: Int = 1_000_000,
         ringCapacity: Int = 64, maxLineLength: Int = 65_536, exportsAggregates: Bool = false,
         rollupSink: (any SketchRollupSink)? = nil) {
        events = CapturingEventSink()
        inputs = (0..<count).map { ShardInput(index: $0, ringCapacity: ringCapacity) }
        metrics = AggregationMetrics(registry: registry, shards: count)
        let budget = SeriesBudget(limit: maxSeries)
        let metrics = self.metrics
        let sink = self.sink
        let catalog = self.catalog
        self.budget = budget
        shards = (0..<count).map { _ in
            AggregationShard(
                config: config, budget: budget, metrics: metrics, sink: sink, catalog: catalog, exportsAggregates: exportsAggregates,
                rollupSink: rollupSink)
        }
        router = LineRouter(inputs: inputs, parser: StatsDParser(), metrics: metrics, events: events,
                            badLineLog: BadLineLog(clock: ManualClock()) { _ in }, policy: .drop,
                            maxLineLength: maxLineLength)
    }

    /// Sends lines as one datagram and lets the shards apply them.
    func send(_ lines: [String]) {
        datagram(lines).withUnsafeBytes { router.ingest(lines: $0, now: 5_000) }
        router.flush()
        drain()
    }

    func drain() {
        for (input, shard) in zip(inputs, shards) {
            while let batch = input.ring.pop() {
                shard.apply(batch)
                input.recycle(batch)
            }
        }
    }

    /// Flushes every shard at `timestamp`; returns the samples by series text.
    func flush(at timestamp: Int64) -> [String: Double] {
        var out: [String: Double] = [:]
        for shard in shards {
            for sample in shard.flush(at: timestamp) {
                out[sink.labels(of: sample.ref).description] = sample.value
            }
        }
        return out
    }

    func counter(_ name: String, _ labels: [(String, String)] = []) -> Int64 {
        (registry.emitToString().split(separator: "\n").first { line in
            line.hasPrefix(name) && labels.allSatisfy { line.contains("\($0.0)=\"\($0.1)\"") }
        }?.split(separator: " ").last).flatMap { Int64($0) } ?? 0
    }
}
