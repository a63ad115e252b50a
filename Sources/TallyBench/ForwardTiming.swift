import Aggregation
import BlockCodec
import Prometheus
import ProtobufWire
import StatsDWire
import TelemetryModel

extension TallyBench {
    /// Agent mode's costs for one interval of `series` series (the default
    /// mix c/g/ms/h/s, ten values each), beside the reference of a central
    /// tally taking the lines themselves: the agent's export (ns per
    /// aggregate, bytes per aggregate), the central's decode and routing of
    /// the request, and its shards taking it in.
    func timeForwarding(series: Int, runs: Int) {
        let kinds: [(String, Int)] = [("c", 40), ("g", 15), ("ms", 20), ("h", 10), ("s", 15)]
        var lines: [[UInt8]] = []
        var first = 0
        for (kind, weight) in kinds {
            let count = series * weight / 100
            for i in first..<(first + count) {
                for round in 0..<10 {
                    let value = kind == "s" ? "u\(round)" : String(1 + (i * 7 + round * 13) % 900)
                    lines.append(Array("fwd.\(kind).\(i):\(value)|\(kind)|#env:prod,host:h\(i % 16)".utf8))
                }
            }
            first += count
        }
        let lineBytes = lines.reduce(0) { $0 + $1.count + 1 }

        /// One shard behind one router, as the bench's other runs use.
        final class Tally {
            let input = ShardInput(index: 0, ringCapacity: 1 << 14)
            let shard: AggregationShard
            let router: LineRouter

            init(exporting: Bool) {
                let registry = PrometheusCollectorRegistry()
                let metrics = AggregationMetrics(registry: registry, shards: 1)
                shard = AggregationShard(
                    config: AggregationConfig(), budget: SeriesBudget(limit: 100_000_000), metrics: metrics, sink: NullSink(),
                    exportsAggregates: exporting)
                router = LineRouter(
                    inputs: [input], parser: StatsDParser(), metrics: metrics, events: NullEvents(),
                    badLineLog: BadLineLog(clock: SystemClock()) { _ in }, policy: .keep)
            }

            func drain() {
                while !router.flush() { apply() }
                apply()
            }

            func apply() {
                while let batch = input.ring.pop() {
                    shard.apply(batch)
                    input.recycle(batch)
                }
            }
        }

        var export: [UInt64] = [], decode: [UInt64] = [], merge: [UInt64] = [], direct: [UInt64] = []
        var request: [UInt8] = []
        for _ in 0..<max(1, runs) {
            let agent = Tally(exporting: true)
            for line in lines { line.withUnsafeBytes { agent.router.ingest(line: $0, now: 0) } }
            agent.drain()
            var encoder = ProtobufEncoder(capacity: series * 64)
            var start = monotonicNanos()
            agent.shard.exportAggregates(into: &encoder)
            export.append(monotonicNanos() - start)
            request = encoder.bytes

            // The central and the reference take a first interval (creating the series), then the timed one:
            // the steady state, in which every interval brings the same series again.
            let central = Tally(exporting: false)
            for pass in 0..<2 {
                start = monotonicNanos()
                let taken = request.withUnsafeBytes { raw in
                    (try? central.router.route(aggregateRequest: raw, relativeAccuracy: 0.01, hllPrecision: 14)) ?? -1
                }
                precondition(taken == series / 100 * 100, "the central took \(taken) aggregates of \(series)")
                let decoded = monotonicNanos() - start
                start = monotonicNanos()
                central.drain()
                if pass == 1 {
                    decode.append(decoded)
                    merge.append(monotonicNanos() - start)
                }
                _ = central.shard.flush(at: 10_000 * Int64(pass + 1))
            }

            let reference = Tally(exporting: false)
            for pass in 0..<2 {
                start = monotonicNanos()
                for line in lines { line.withUnsafeBytes { reference.router.ingest(line: $0, now: 0) } }
                reference.drain()
                if pass == 1 { direct.append(monotonicNanos() - start) }
                _ = reference.shard.flush(at: 10_000 * Int64(pass + 1))
            }
        }
        let count = Double(series / 100 * 100)
        func perAggregate(_ runs: [UInt64]) -> String { format2(Double(runs.min() ?? 0) / count) }
        print("agent mode, \(series / 100 * 100) series × 10 values (c/g/ms/h/s 40/15/20/10/15), series known, best of \(max(1, runs)):")
        print("  agent export: \(perAggregate(export)) ns/aggregate, \(format2(Double(request.count) / count)) bytes/aggregate "
            + "(\(format2(Double(Snappy.compress(request).count) / count)) after snappy; the lines: \(format2(Double(lineBytes) / count)) bytes/series)")
        print("  central decode + route: \(perAggregate(decode)) ns/aggregate; shards take it in: \(perAggregate(merge)) ns/aggregate; "
            + "total \(format2(Double((decode.min() ?? 0) + (merge.min() ?? 0)) / count)) ns/aggregate")
        print("  reference, the central taking the 10 lines of each series itself: \(perAggregate(direct)) ns/series")
    }
}
