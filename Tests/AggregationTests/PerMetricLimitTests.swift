import Testing

@testable import Aggregation
import SelfMetrics

/// `max_series_per_metric`: one runaway name is stopped at its own limit
/// and counted by name, while other names, and the series it already held,
/// go on; the counters by name are bounded too.
@Suite("Series limit per metric name")
struct PerMetricLimitTests {
    @Test func aRunawayNameStopsAtItsLimitAndOthersGoOn() {
        var config = AggregationConfig()
        config.maxSeriesPerMetric = 3
        let harness = Harness(shards: 2, config: config)
        harness.send((0..<10).map { "runaway.hits:1|c|#user:u\($0)" } + ["calm.hits:1|c|#user:a", "calm.hits:1|c|#user:b"])
        // A series it already holds still counts; a new label set of that name is refused.
        harness.send(["runaway.hits:1|c|#user:u1", "runaway.hits:5|c|#env:x,user:u2"])
        let out = harness.flush(at: 10_000)
        #expect(out.keys.filter { $0.contains("runaway_hits_total") }.count == 3, "\(out.keys.sorted())")
        #expect(out.keys.filter { $0.contains("calm_hits_total") }.count == 2)
        #expect(harness.counter("tally_series_limit_per_metric_dropped_lines_total", [("name", "runaway_hits_total")]) == 8)
        #expect(harness.counter("tally_series_limit_dropped_lines_total") == 0, "max_series is not what refused them")
        #expect(out.first { $0.key.contains(#"user="u1""#) }?.value == 2)
    }

    @Test func countersByNameAreBounded() {
        var config = AggregationConfig()
        config.maxSeriesPerMetric = 1
        let harness = Harness(shards: 1, config: config)
        let names = CountersByName.maxNames + 50
        harness.send((0..<names).flatMap { ["n\($0).x:1|c|#k:a", "n\($0).x:1|c|#k:b"] })
        let text = harness.registry.emitToString()
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("tally_series_limit_per_metric_dropped_lines_total{") }
        #expect(lines.count == CountersByName.maxNames + 1, "the first names, then _other")
        #expect(harness.counter("tally_series_limit_per_metric_dropped_lines_total", [("name", "_other")]) == 50)
    }
}

/// `limits:` on StatsD tags: a line whose new series would carry too many
/// labels, or a name or value too long, is dropped and counted by reason.
@Suite("Label limits on StatsD series")
struct StatsDLabelLimitTests {
    @Test func linesPastTheLabelLimitsAreDroppedAndCountedByReason() {
        var config = AggregationConfig()
        config.labelLimits.maxLabels = 3
        config.labelLimits.maxNameBytes = 10
        config.labelLimits.maxValueBytes = 16
        let harness = Harness(shards: 1, config: config)
        harness.send([
            "wide:1|c|#a:1,b:2,c:3", "long.name:1|c|#abcdefghijk:1", "long.value:1|c|#user:" + String(repeating: "x", count: 17),
            "fine:1|c|#a:1,b:2",
        ])
        let out = harness.flush(at: 10_000)
        #expect(out.count == 1 && out.keys.first?.contains("fine_total") == true, "\(out.keys.sorted())")
        for reason in ["too_many_labels", "label_name_too_long", "label_value_too_long"] {
            #expect(harness.counter("tally_statsd_label_limit_dropped_lines_total", [("reason", reason)]) == 1, "\(reason)")
        }
    }
}
