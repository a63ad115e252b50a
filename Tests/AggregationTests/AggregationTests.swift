import Testing
import TallyTestKit
import TelemetryModel
@testable import Aggregation

@Suite("Aggregation: exact values per StatsD type")
struct AggregationTests {
    @Test func countersAreCumulativeAndScaledBySampleRate() {
        let h = Harness()
        h.send(["hits:3|c", "hits:1|c|@0.1", "hits:2|c|@0.5"])
        let first = h.flush(at: 10_000)
        #expect(first["hits_total"] == 17)
        h.send(["hits:5|c"])
        let second = h.flush(at: 20_000)
        #expect(second["hits_total"] == 22)
        // An idle interval keeps the cumulative value.
        let idle = h.flush(at: 30_000)
        #expect(idle["hits_total"] == 22)
    }

    /// A flush hands its samples over in slices as it makes them: the same
    /// samples as in one piece, no slice much past its size.
    @Test func aFlushInSlicesGivesTheSameSamples() {
        var lines = (0..<1_000).map { "c\($0):\($0)|c" }
        lines += (0..<50).map { "t\($0):\($0 + 1)|ms" }
        let whole = Harness(shards: 1)
        let sliced = Harness(shards: 1)
        whole.send(lines)
        sliced.send(lines)
        let expected = whole.flush(at: 10_000)
        var got: [String: Double] = [:]
        var sizes: [Int] = []
        let total = sliced.shards[0].flush(at: 10_000, sliceSize: 100) { samples in
            sizes.append(samples.count)
            for sample in samples { got[sliced.sink.labels(of: sample.ref).description] = sample.value }
        }
        #expect(got == expected)
        #expect(total == expected.count && sizes.reduce(0, +) == total)
        #expect(sizes.count >= 10 && sizes.allSatisfy { $0 < 100 + 8 })
    }

    @Test func gaugesKeepTheLastValueAndApplyDeltas() {
        let h = Harness()
        h.send(["q:10|g", "q:+5|g", "q:-3|g"])
        let at10000 = h.flush(at: 10_000)
        #expect(at10000["q"] == 12)
        h.send(["q:4|g"])
        let at20000 = h.flush(at: 20_000)
        #expect(at20000["q"] == 4)
        h.send(["fresh:-2|g"])
        let at30000 = h.flush(at: 30_000)
        #expect(at30000["fresh"] == -2, "a delta on a new gauge starts from zero")
        h.send(["multi:1:2:+3|g"])
        let at40000 = h.flush(at: 40_000)
        #expect(at40000["multi"] == 5, "set to 1, then 2, then +3")
    }

    @Test func timersGiveQuantilesMinMaxCountAndSumInSeconds() throws {
        let h = Harness()
        h.send(["lat:100|ms", "lat:200|ms", "lat:300|ms|@0.5", "lat:400:500|ms"])
        let out = h.flush(at: 10_000)
        #expect(out["lat_seconds_count"] == 6)
        let sum = try #require(out["lat_seconds_sum"])
        let expectedSum: Double = 1.8
        #expect(abs(sum - expectedSum) < 1e-12)
        #expect(out["lat_seconds_min"] == 0.1)
        #expect(out["lat_seconds_max"] == 0.5)
        let p50 = try #require(out[#"lat_seconds{quantile="0.5"}"#])
        #expect(abs(p50 - 0.3) <= 0.3 * 0.01 + 1e-12)
        // Next interval: count and sum stay cumulative, quantiles only with data.
        h.send(["lat:1000|ms"])
        let next = h.flush(at: 20_000)
        #expect(next["lat_seconds_count"] == 7)
        #expect(next["lat_seconds_max"] == 1.0)
        let idle = h.flush(at: 30_000)
        #expect(idle["lat_seconds_count"] == 7)
        // An interval without values ends the quantiles, min and max (a staleness marker), then nothing.
        #expect(idle[#"lat_seconds{quantile="0.99"}"#]?.isStaleMarker == true)
        #expect(idle["lat_seconds_min"]?.isStaleMarker == true)
        let later = h.flush(at: 40_000)
        #expect(later[#"lat_seconds{quantile="0.99"}"#] == nil && later["lat_seconds_min"] == nil)
    }

    @Test func millisecondsBecomeTheSecondsTheyRead() {
        let h = Harness()
        h.send(["api:87|ms"])
        let out = h.flush(at: 10_000)
        #expect(out["api_seconds_sum"] == 0.087)
        #expect(out["api_seconds_max"] == 0.087)
        #expect(out[#"api_seconds{quantile="0.5"}"#] == 0.087)
    }

    @Test func histogramsAndDistributionsHaveNoUnitAndMerge() {
        let h = Harness()
        h.send(["size:10|h", "size:20|d", "size:30|h"])
        let out = h.flush(at: 10_000)
        #expect(out["size_count"] == 3)
        #expect(out["size_sum"] == 60)
        #expect(out[#"size{quantile="0.5"}"#].map { abs($0 - 20) <= 0.2 } == true)
    }

    @Test func setsCountDistinctMembersPerInterval() {
        let h = Harness()
        h.send(["users:alice|s", "users:bob|s", "users:alice|s", "users:carol|s|#env:prod"])
        let out = h.flush(at: 10_000)
        #expect(out["users"] == 2)
        #expect(out[#"users{env="prod"}"#] == 1)
        h.send(["users:dave|s"])
        let at20000 = h.flush(at: 20_000)
        #expect(at20000["users"] == 1)
        let at30000 = h.flush(at: 30_000)
        #expect(at30000["users"] == 0)
    }

    @Test func tagOrderAndSpellingVariantsAreOneSeries() {
        let h = Harness(shards: 4)
        h.send(["api.req:1|c|#b:2,a:1", "api.req:1|c|#a:1,b:2", "api_req:1|c|#a:1,b:2", "api-req:1|c|#b:2,a:1"])
        let out = h.flush(at: 10_000)
        #expect(out[#"api_req_total{a="1", b="2"}"#] == 4)
        #expect(out.count == 1)
    }

    @Test func conflictingTypesForOneOutputSeriesAreRejectedAndCounted() {
        let h = Harness()
        h.send(["x:1|g", "x:u1|s", "y_total:1|g", "y:1|c"])
        let out = h.flush(at: 10_000)
        #expect(out["x"] == 1)
        #expect(out["y_total"] == 1)
        #expect(h.counter("tally_statsd_type_conflict_lines_total") == 2)
    }

    @Test func oneMetricNameKeepsOneTypeWhateverTheTags() {
        let h = Harness()
        h.send(["x:1|g|#a:1", "x:u1|s|#a:2", "x:2|g|#a:3"])
        let out = h.flush(at: 10_000)
        #expect(out.keys.sorted() == [#"x{a="1"}"#, #"x{a="3"}"#])
        #expect(h.counter("tally_statsd_type_conflict_lines_total") == 1)
    }

    @Test func idleSeriesExpireAndReleaseTheirBudget() {
        var config = AggregationConfig()
        config.seriesExpiryMillis = 25_000
        let h = Harness(config: config)
        h.send(["a:1|c", "b:1|g"])
        _ = h.flush(at: 10_000)
        #expect(h.budget.activeCount == 2)
        h.send(["b:2|g"])
        let at20000 = h.flush(at: 20_000)
        #expect(at20000.keys.sorted() == ["a_total", "b"])
        h.send(["b:3|g"])
        _ = h.flush(at: 30_000)
        // a was last updated in the interval ending at 10 s: gone after 25 s.
        let out = h.flush(at: 40_000)
        #expect(out["a_total"] == nil)
        #expect(out["b"] == 3)
        #expect(h.budget.activeCount == 1)
        #expect(h.counter("tally_series_expired_total") == 1)
        // A returning series starts afresh.
        h.send(["a:5|c"])
        let at50000 = h.flush(at: 50_000)
        #expect(at50000["a_total"] == 5)
    }

    /// `/api/v1/metadata` lists the families held: one is recorded with its
    /// first series and forgotten with its last, so churning names do not pile up.
    @Test func theCatalogForgetsAFamilyWithItsLastSeries() {
        var config = AggregationConfig()
        config.seriesExpiryMillis = 15_000
        let h = Harness(config: config)
        h.send(["gone:1|c|#a:1", "gone:1|c|#a:2", "kept:1|ms", "churn.1:1|g"])
        _ = h.flush(at: 10_000)
        #expect(h.catalog.all.keys.sorted() == ["churn_1", "gone_total", "kept_seconds"])
        #expect(h.catalog.all["kept_seconds"]?.type == "summary")
        for at in [20_000, 30_000] as [Int64] {
            h.send(["gone:1|c|#a:2", "kept:2|ms"])
            _ = h.flush(at: at)
        }
        // gone{a="1"} and churn_1 expired (15 s after their last interval); gone keeps one series.
        #expect(h.catalog.all.keys.sorted() == ["gone_total", "kept_seconds"])
        for round in 0..<50 {
            h.send(["kept:3|ms", "churn.\(round + 2):1|g"])
            _ = h.flush(at: 40_000 + Int64(round) * 10_000)
        }
        // Each churned name lived for one interval and expired: only the latest (and what is held) remain.
        let left = h.catalog.all.keys.sorted()
        #expect(left.count <= 4 && left.contains("kept_seconds") && !left.contains("churn_2"), "\(left)")
        // A declared family wins over a StatsD kind and is not forgotten with it.
        h.catalog.record(family: "kept_seconds", type: "histogram", help: "declared")
        #expect(h.catalog.all["kept_seconds"]?.help == "declared")
    }

    @Test func sinkReferencesAreTakenOnceAndGivenBackOnExpiry() {
        var config = AggregationConfig()
        config.seriesExpiryMillis = 15_000
        let h = Harness(config: config)
        h.send(["t:1|ms", "t:2|ms", "c:1|c|#b:2,a:1", "c:1|c|#a:1,b:2", "s:x|s"])
        _ = h.flush(at: 10_000)
        let outputs = [
            Labels(name: "t_seconds_count"), Labels(name: "t_seconds_sum"), Labels(name: "t_seconds_min"),
            Labels(name: "t_seconds_max"), Labels(name: "t_seconds", ["quantile": "0.99"]),
            Labels(name: "c_total", ["a": "1", "b": "2"]), Labels(name: "s"),
        ]
        for labels in outputs { #expect(h.sink.holders(of: labels) == 1, "\(labels)") }
        _ = h.flush(at: 20_000)
        _ = h.flush(at: 30_000)
        for labels in outputs { #expect(h.sink.holders(of: labels) == 0, "\(labels)") }
        // Back again: registered afresh, once.
        h.send(["t:3|ms"])
        _ = h.flush(at: 40_000)
        #expect(h.sink.holders(of: Labels(name: "t_seconds_count")) == 1)
    }

    @Test func theSeriesCapDropsNewSeriesAndCountsThem() {
        let h = Harness(maxSeries: 2)
        h.send(["a:1|c|#x:1,y:2", "b:1|c", "c:1|c", "a:1|c|#x:1,y:2"])
        let out = h.flush(at: 10_000)
        #expect(out.count == 2)
        #expect(h.counter("tally_series_limit_dropped_lines_total") == 1)
        // A refused series never reaches the store; another spelling of a held one still passes.
        #expect(h.sink.registeredSeries == 2)
        h.send(["d:1|c", "a:1|c|#y:2,x:1"])
        let later = h.flush(at: 20_000)
        #expect(later[#"a_total{x="1", y="2"}"#] == 3)
        #expect(h.sink.registeredSeries == 2)
        #expect(h.counter("tally_series_limit_dropped_lines_total") == 2)
    }

    @Test func badLinesAreCountedByReasonAndTheRestOfTheDatagramIsTaken() {
        let h = Harness()
        h.send(["foo:bar|c", "ok:1|c", ":1|c", "ok:1|c", "x:1|zz", "x:1|c|@2", "ok:1|c"])
        let at10000 = h.flush(at: 10_000)
        #expect(at10000["ok_total"] == 3)
        #expect(h.counter("tally_statsd_bad_lines_total", [("reason", "invalid_value")]) == 1)
        #expect(h.counter("tally_statsd_bad_lines_total", [("reason", "empty_name")]) == 1)
        #expect(h.counter("tally_statsd_bad_lines_total", [("reason", "unknown_type")]) == 1)
        #expect(h.counter("tally_statsd_bad_lines_total", [("reason", "invalid_sample_rate")]) == 1)
    }

    @Test func linesOverTheLengthLimitAreRejected() {
        let h = Harness(maxLineLength: 32)
        h.send([String(repeating: "a", count: 40) + ":1|c", "ok:1|c"])
        let at10000 = h.flush(at: 10_000)
        #expect(at10000["ok_total"] == 1)
        #expect(h.counter("tally_statsd_bad_lines_total", [("reason", "line_too_long")]) == 1)
    }

    @Test func eventsGoToTheEventSink() {
        let h = Harness()
        h.send(["_e{2,5}:hi|there", "_sc|db|0"])
        #expect(h.events.events.map(\.title) == ["hi", "db"])
        #expect(h.counter("tally_statsd_events_total") == 1)
        #expect(h.counter("tally_statsd_service_checks_total") == 1)
    }

    @Test func fullRingsDropAndCountUnderTheDropPolicy() {
        let h = Harness(shards: 1, ringCapacity: 2)
        // Three full batches and a partial one: the ring holds two.
        let line = "k:1|c|#" + String(repeating: "t", count: 1000)
        for _ in 0..<4 {
            datagram(Array(repeating: line, count: 60)).withUnsafeBytes { h.router.ingest(lines: $0, now: 0) }
            h.router.flush()
        }
        h.drain()
        let total = h.flush(at: 10_000).values.first ?? 0
        let dropped = h.counter("tally_ring_dropped_lines_total", [("shard", "0")])
        #expect(Int64(total) + dropped == 240)
        #expect(dropped > 0)
    }

    @Test func multiValueLinesCountEveryValue() {
        let h = Harness()
        h.send(["c:1:2:3|c", "t:1:2:3:4|ms|@0.5"])
        let out = h.flush(at: 10_000)
        #expect(out["c_total"] == 6)
        #expect(out["t_seconds_count"] == 8)
    }

    @Test func shardsSplitTheWork() {
        let h = Harness(shards: 4)
        h.send((0..<400).map { "m\($0):1|c" })
        let perShard = h.shards.map(\.activeSeries)
        #expect(perShard.reduce(0, +) == 400)
        #expect(perShard.allSatisfy { $0 > 50 }, "\(perShard)")
    }
}
