import TallyTestKit
import TelemetryModel
import Testing
@testable import PromQL

/// Damaged PromQL is refused with Prometheus's kind of error or, when it still
/// parses, evaluated within the limits: never a crash or a hang.
@Suite("PromQL on damaged queries")
struct PromQLGarbageTests {
    static let corpus = [
        #"sum by (job) (rate(http_requests_total{job=~"api|web", code!="500"}[5m] offset 1m))"#,
        #"histogram_quantile(0.99, sum by (le) (rate(latency_bucket[5m])))"#,
        #"max_over_time(memory_bytes[1h:5m]) @ 1000 > bool 3"#,
        #"label_replace(up, "host", "$1", "instance", "(.*):\\d+")"#,
        #"topk(2, count_values("v", up)) or on (job) group_left (x) vector(1)"#,
        #"-(abs(delta(memory_bytes[10m])) ^ 2) % 7 unless ignoring (instance) up == 0"#,
        #"quantile_over_time(0.9, memory_bytes[30m]) / scalar(sum(up)) and time() > 0"#,
        #"round(predict_linear(memory_bytes[1h], 3600), 0.5) + day_of_week() * hour(timestamp(up))"#,
    ]

    @Test(arguments: corpus.indices)
    func damagedQueriesAreRefusedOrEvaluated(_ index: Int) {
        let series = (0..<6).map { s in
            SeriesPoints(
                labels: Labels(name: s < 3 ? "up" : "memory_bytes", ["job": s % 2 == 0 ? "api" : "web", "instance": "h\(s):80"]),
                points: (0..<200).map { Point(timestamp: Int64($0) * 15_000, value: Double(($0 * (s + 1)) % 97)) })
        }
        var limits = QueryLimits()
        limits.maxSamples = 200_000
        let engine = Engine(querier: GarbageQuerier(data: series), limits: limits)
        var mutator = Mutator(seed: UInt64(index) + 9100)
        var parsed = 0
        for _ in 0..<1_500 {
            let text = mutator.mutate(Self.corpus[index])
            guard let expr = try? Parser.parse(text) else { continue }
            parsed += 1
            _ = expr.description
            _ = try? engine.instant(expr, at: 1_500_000)
            _ = try? engine.range(expr, start: 0, end: 3_000_000, step: 60_000)
        }
        #expect(parsed > 0)
    }
}

private struct GarbageQuerier: SeriesQuerier {
    let data: [SeriesPoints]
    func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [SeriesPoints] {
        data.filter { matchers.allMatch($0.labels) }.map { s in
            SeriesPoints(labels: s.labels, points: s.points.filter { $0.timestamp >= start && $0.timestamp <= end })
        }
    }
    func series(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [Labels] {
        select(matchers, start: start, end: end).map(\.labels)
    }
}
