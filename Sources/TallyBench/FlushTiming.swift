import Aggregation
import Prometheus
import StatsDWire
import TelemetryModel

/// Discards the shard's sketch rollups (what the archive would keep), so
/// that only the cost of building them is timed.
private struct DiscardedRollups: SketchRollupSink {
    func add(_ rollups: [SketchRollup], intervalEnd: Int64) {}
}

extension TallyBench {
    /// Times a shard's flush of `series` series (the default mix, tagged as
    /// in `measureMemory`, each sent one value per interval) with and without
    /// the sketch rollups that feed the report's day p99, in alternation.
    func timeFlush(series: Int, runs: Int) {
        func build(rollups: Bool) -> (AggregationShard, LineRouter, ShardInput) {
            let registry = PrometheusCollectorRegistry()
            let input = ShardInput(index: 0, ringCapacity: 1 << 12)
            let metrics = AggregationMetrics(registry: registry, shards: 1)
            let shard = AggregationShard(
                config: AggregationConfig(), budget: SeriesBudget(limit: 100_000_000), metrics: metrics, sink: NullSink(),
                rollupSink: rollups ? DiscardedRollups() : nil)
            let router = LineRouter(inputs: [input], parser: StatsDParser(), metrics: metrics, events: NullEvents(),
                                    badLineLog: BadLineLog(clock: SystemClock()) { _ in }, policy: .drop)
            return (shard, router, input)
        }
        let kinds: [(String, Int)] = [("c", 40), ("g", 15), ("ms", 20), ("h", 10), ("s", 15)]
        var lines: [[UInt8]] = []
        var start = 0
        for (kind, weight) in kinds {
            let count = series * weight / 100
            for i in start..<(start + count) {
                let value = kind == "s" ? "u\(i % 7)" : String(1 + i % 900)
                lines.append(Array("flush.\(kind).\(i % 500):\(value)|\(kind)|#env:prod,host:h\(i)".utf8))
            }
            start += count
        }
        func interval(_ shard: AggregationShard, _ router: LineRouter, _ input: ShardInput, at timestamp: Int64) -> UInt64 {
            for (n, line) in lines.enumerated() {
                line.withUnsafeBytes { router.ingest(line: $0, now: timestamp) }
                if n % 512 == 0 {
                    router.flush()
                    while let batch = input.ring.pop() { shard.apply(batch); input.recycle(batch) }
                }
            }
            router.flush()
            while let batch = input.ring.pop() { shard.apply(batch); input.recycle(batch) }
            let started = monotonicNanos()
            shard.flush(at: timestamp) { _ in }
            return monotonicNanos() - started
        }
        let without = build(rollups: false)
        let with = build(rollups: true)
        var best: (without: UInt64, with: UInt64) = (.max, .max)
        for run in 0..<max(1, runs) {
            let timestamp = 10_000 * Int64(run + 1)
            best.without = min(best.without, interval(without.0, without.1, without.2, at: timestamp))
            best.with = min(best.with, interval(with.0, with.1, with.2, at: timestamp))
        }
        let n = Double(max(1, series))
        print("flush of \(series) series (best of \(runs), alternated): \(String(format: "%.1f", Double(best.without) / n)) ns per series"
            + " without rollups, \(String(format: "%.1f", Double(best.with) / n)) with (\(String(format: "%.2f", Double(best.with) / Double(max(1, best.without))))x);"
            + " \(String(format: "%.1f", Double(best.without) / 1e6)) ms and \(String(format: "%.1f", Double(best.with) / 1e6)) ms per interval")
    }
}
