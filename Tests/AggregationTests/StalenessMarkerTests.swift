import TallyTestKit
import TelemetryModel
import Testing

@testable import Aggregation

/// Series that stop are ended with Prometheus's staleness marker, so
/// instant queries drop them at the next evaluation instead of for the
/// five-minute lookback: a summary's per-interval outputs after an interval
/// without values, every output of a series that expires, every live series
/// when tally shuts down.
@Suite("Staleness markers")
struct StalenessMarkerTests {
    @Test func aTimersIntervalOutputsEndAfterAnIntervalWithoutValues() {
        let harness = Harness(shards: 1)
        harness.send(["api.latency:12|ms", "api.latency:30|ms"])
        let first = harness.flush(at: 10_000)
        #expect(first.count == 8, "four quantiles, count, sum, min, max: \(first.keys.sorted())")
        let second = harness.flush(at: 20_000)
        let ended = second.filter { $0.value.isStaleMarker }.keys.sorted()
        #expect(ended.count == 6 && ended.allSatisfy { $0.contains("quantile") || $0.contains("_min") || $0.contains("_max") }, "\(ended)")
        #expect(second.first { $0.key.contains("api_latency_seconds_count") }?.value == 2, "the cumulative count goes on")
        let third = harness.flush(at: 30_000)
        #expect(third.count == 2 && !third.values.contains { $0.isStaleMarker }, "a marker is written once: \(third)")
        harness.send(["api.latency:5|ms"])
        #expect(harness.flush(at: 40_000).filter { !$0.value.isNaN }.count == 8, "values again: the series come back")
    }

    @Test func anExpiredSeriesEndsEveryOutputItHeldBeforeItsReferencesGo() {
        var config = AggregationConfig()
        config.seriesExpiryMillis = 15_000
        let harness = Harness(shards: 1, config: config)
        harness.send(["queue.depth:7|g", "jobs.done:1|c", "api.latency:3|ms"])
        _ = harness.flush(at: 10_000)
        _ = harness.flush(at: 20_000)
        let before = harness.sink.samples.count
        let third = harness.flush(at: 30_000)
        #expect(third.isEmpty, "expired series are no longer flushed")
        let markers = harness.sink.samples[before...].filter { $0.value.isStaleMarker && $0.timestamp == 30_000 }
        let names = Set(markers.map { $0.labels.metricName })
        #expect(names == ["queue_depth", "jobs_done_total", "api_latency_seconds_count", "api_latency_seconds_sum"],
                "the gauge, the counter and the summary's cumulative outputs (its quantiles ended already): \(names.sorted())")
        #expect(harness.sink.holders(of: Labels([Label(Labels.metricName, "queue_depth")])) == 0, "references released after the markers")
    }

    @Test func shuttingDownEndsEveryLiveSeries() {
        let harness = Harness(shards: 1)
        harness.send(["queue.depth:7|g", "api.latency:3|ms", "users:alice|s"])
        _ = harness.flush(at: 10_000)
        let markers = harness.shards[0].markAllStale(at: 10_001)
        #expect(markers.allSatisfy { $0.value.isStaleMarker && $0.timestamp == 10_001 })
        #expect(markers.count == 1 + 8 + 1, "the gauge, the timer's eight outputs, the set")
    }
}
