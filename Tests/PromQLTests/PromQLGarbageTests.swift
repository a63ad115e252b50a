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
        let engine = Engine(querier: FixedSeriesQuerier(series), limits: limits)
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

@Suite("PromQL nesting bound")
struct PromQLNestingTests {
    /// Deep trees are refused with a parse error, before anything recurses
    /// deep enough to run out of stack (this crashed the server at ~8,000).
    static func deep(_ kind: Int) -> String {
        switch kind {
        case 0: String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)
        case 1: "1" + String(repeating: "+1", count: 100_000)
        case 2: String(repeating: "-", count: 100_000) + "1"
        case 3: "1" + String(repeating: "^1", count: 100_000)
        case 4: String(repeating: "abs(", count: 50_000) + "vector(1)" + String(repeating: ")", count: 50_000)
        case 5: String(repeating: "sum(", count: 50_000) + "up" + String(repeating: ")", count: 50_000)
        default: String(repeating: "(1+", count: 600) + "1" + String(repeating: ")", count: 600) + String(repeating: "+1", count: 600)
        }
    }

    @Test(arguments: 0..<7)
    func deepExpressionsAreRefused(_ kind: Int) {
        let message = onLargeStack { () -> String? in
            do throws(PromQLError) {
                _ = try Parser.parse(Self.deep(kind))
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message?.contains("nested more than 1000 levels deep") == true, "\(message ?? "parsed")")
    }

    /// The deepest trees accepted, a chain and a nest of parentheses, parse,
    /// print and evaluate.
    @Test func treesUpToTheBoundParseAndEvaluate() {
        let values = onLargeStack { () -> [Double] in
            let chain = "1" + String(repeating: "+1", count: Parser.maxDepth - 1)
            let nest = String(repeating: "(", count: Parser.maxDepth - 1) + "2" + String(repeating: ")", count: Parser.maxDepth - 1)
            let signs = String(repeating: "-+", count: (Parser.maxDepth - 4) / 2) + "-2 ^ 2" // 499 minuses on 2 ^ 2
            let engine = Engine(querier: FixedSeriesQuerier([]))
            return [chain, nest, signs].compactMap { text in
                guard let expr = try? Parser.parse(text), case .scalar(_, let value) = try? engine.instant(expr, at: 0) else { return nil }
                _ = expr.description
                return value
            }
        }
        #expect(values == [Double(Parser.maxDepth), 2, -4])
    }
}
