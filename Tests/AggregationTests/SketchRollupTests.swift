import Synchronization
import Testing
import TelemetryModel
@testable import Aggregation

/// What the shards hand a `SketchRollupSink`: per interval, one sketch per
/// summary family holding every value of all its series.
final class RecordingRollupSink: SketchRollupSink {
    let received = Mutex<[(end: Int64, rollups: [SketchRollup])]>([])
    let families: SketchFamilySelection

    init(families: SketchFamilySelection = .all) {
        self.families = families
    }

    func keeps(family name: String) -> Bool { families.contains(name) }

    func add(_ rollups: [SketchRollup], intervalEnd: Int64) {
        received.withLock { $0.append((intervalEnd, rollups)) }
    }

    /// Every rollup handed over at `end`, merged by name (the shards hand theirs separately).
    func merged(at end: Int64) -> [String: SketchRollup] {
        var out: [String: SketchRollup] = [:]
        for (at, rollups) in received.withLock({ $0 }) where at == end {
            for rollup in rollups { out[rollup.name, default: SketchRollup(name: rollup.name, kind: rollup.kind)].merge(rollup) }
        }
        return out
    }
}

@Suite("Sketch rollups")
struct SketchRollupTests {
    let mapping = SketchMapping(relativeAccuracy: 0.01)

    @Test func everySeriesOfAFamilyGoesIntoOneRollupPerInterval() {
        let sink = RecordingRollupSink()
        let harness = Harness(shards: 2, rollupSink: sink)
        // Two series of one timer (by tag), and a histogram; 100 values each.
        var lines: [String] = []
        for i in 1...100 {
            lines.append("api.latency:\(i)|ms|#route:a")
            lines.append("api.latency:\(i * 10)|ms|#route:b")
            lines.append("resp.bytes:\(i)|h")
        }
        harness.send(lines)
        _ = harness.flush(at: 10_000)
        let first = sink.merged(at: 10_000)
        #expect(Set(first.keys) == ["api_latency_seconds", "resp_bytes"])
        let latency = try! #require(first["api_latency_seconds"])
        #expect(latency.count == 200)
        #expect(latency.kind == .timer)
        // The p99 of all 200 values (ms → s): the values 1...100 and 10...1000, rank 197 of 0...199 is 980 ms.
        let p99 = latency.quantile(0.99, mapping: mapping) ?? 0
        #expect(abs(p99 - 0.98) <= 0.98 * 0.01 + 1e-12, "\(p99)")
        #expect(first["resp_bytes"]?.quantile(1, mapping: mapping) == 100)
        // An interval without values hands over nothing; the next one only its own values.
        _ = harness.flush(at: 20_000)
        #expect(sink.merged(at: 20_000).isEmpty)
        harness.send(["api.latency:5|ms|#route:a"])
        _ = harness.flush(at: 30_000)
        #expect(sink.merged(at: 30_000)["api_latency_seconds"]?.count == 1)
    }

    @Test func aFamilyThatEndsAndComesBackStillRollsUp() {
        var config = AggregationConfig()
        config.seriesExpiryMillis = 10_000
        let sink = RecordingRollupSink()
        let harness = Harness(shards: 1, config: config, rollupSink: sink)
        harness.send(["job.time:7|ms"])
        _ = harness.flush(at: 10_000)
        _ = harness.flush(at: 30_000) // expired: the family's last series is gone
        harness.send(["job.time:9|ms"])
        _ = harness.flush(at: 40_000)
        #expect(sink.merged(at: 40_000)["job_time_seconds"]?.quantile(0.5, mapping: mapping) == 0.009)
    }

    /// A rollup is named at each flush from a key of its family: a series
    /// reached through another spelling (tags in another order), or a family
    /// whose StatsD name needs sanitising, still gets its output name.
    @Test func rollupsAreNamedFromAnySpellingOfTheirFamily() {
        let sink = RecordingRollupSink()
        let harness = Harness(shards: 1, rollupSink: sink)
        harness.send(["db.query-time:4|ms|#a:1,b:2", "db.query-time:6|ms|#b:2,a:1", "web/resp:3|d"])
        _ = harness.flush(at: 10_000)
        // Only the second spelling has values in the next interval.
        harness.send(["db.query-time:8|ms|#b:2,a:1"])
        _ = harness.flush(at: 20_000)
        let first = sink.merged(at: 10_000)
        #expect(Set(first.keys) == ["db_query_time_seconds", "web_resp"])
        #expect(first["db_query_time_seconds"]?.count == 2)
        #expect(first["web_resp"]?.kind == .distribution)
        #expect(sink.merged(at: 20_000)["db_query_time_seconds"]?.count == 1)
    }

    /// Only the families the sink keeps are rolled up; the others' series
    /// still give their quantiles.
    @Test func onlyTheFamiliesTheSinkKeepsRollUp() {
        let sink = RecordingRollupSink(families: SketchFamilySelection(patterns: ["$service_latency_seconds"]))
        let harness = Harness(shards: 2, rollupSink: sink)
        harness.send(["api.latency:4|ms", "checkout.latency:6|ms|#route:a", "db.query:3|ms", "resp.bytes:9|h"])
        let samples = harness.flush(at: 10_000)
        #expect(Set(sink.merged(at: 10_000).keys) == ["api_latency_seconds", "checkout_latency_seconds"])
        #expect(samples[#"db_query_seconds{quantile="0.5"}"#] == 0.003)
    }

    @Test func familySelectionPatterns() {
        let selection = SketchFamilySelection(patterns: ["$service_latency_seconds", "rpc_$service_$service_seconds", "fixed_name"])
        for name in ["api_latency_seconds", "a_b_latency_seconds", "x_latency_seconds_latency_seconds", "rpc_a_b_seconds",
                     "rpc_a_b_c_seconds", "fixed_name"] {
            #expect(selection.contains(name), "\(name)")
        }
        for name in ["_latency_seconds", "api_latency_seconds_count", "latency_seconds", "rpc__seconds", "rpc_a_seconds",
                     "fixed_name2", "xfixed_name", ""] {
            #expect(!selection.contains(name), "\(name)")
        }
        #expect(SketchFamilySelection.all.contains("anything"))
        #expect(!SketchFamilySelection(patterns: []).contains("api_latency_seconds"))
    }

    @Test func rollupsRoundTripThroughTheirEncoding() throws {
        var rollup = SketchRollup(name: "api_latency_seconds", kind: .timer)
        for value in [1.0, 2, 3, 250, 1_000] { rollup.sketch.add(value, mapping: mapping) }
        let bytes = SketchRollup.encode([rollup], relativeAccuracy: 0.01)
        let decoded = try SketchRollup.decode(bytes, relativeAccuracy: 0.01)
        #expect(decoded.map(\.name) == ["api_latency_seconds"])
        #expect(decoded.first?.kind == .timer && decoded.first?.count == 5)
        #expect(decoded.first?.quantile(1, mapping: mapping) == 1)
        #expect(throws: AggregateWire.Refusal.self) { try SketchRollup.decode(bytes, relativeAccuracy: 0.02) }
    }
}
