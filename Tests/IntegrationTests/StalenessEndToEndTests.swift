import Foundation
import TallyTestKit
import Testing

/// Through `tally serve` and its PromQL API: a StatsD series that stops is
/// gone from instant queries at the next evaluation (a staleness marker),
/// not five minutes later at the end of the lookback; a timer's quantiles
/// end after an interval without values while its count goes on; a restart
/// ends what the stopped process was serving.
@Suite("Staleness markers, end to end", .serialized)
struct StalenessEndToEndTests {
    static func resultCount(_ tally: TallyProcess, _ query: String, parameters: String = "") async throws -> Int {
        let body = try await tally.get("/api/v1/query?query=" + urlEncoded(query) + parameters).body
        let root = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return ((root?["data"] as? [String: Any])?["result"] as? [Any])?.count ?? -1
    }

    static func waitCount(_ tally: TallyProcess, _ query: String, _ expected: Int) async throws -> Int {
        // Generous: the whole suite starts at once on two cores, and a first flush can wait its turn.
        let deadline = ContinuousClock.now + .seconds(60)
        var count = -1
        while ContinuousClock.now < deadline {
            count = try await resultCount(tally, query)
            if count == expected { return count }
            try await Task.sleep(for: .milliseconds(100))
        }
        return count
    }

    /// The timestamps (ms) of a series' stored samples over the last 5 minutes (markers left out).
    static func sampleTimes(_ tally: TallyProcess, _ selector: String) async throws -> [Int64] {
        let now = Date().timeIntervalSince1970
        let answer = try rangeSamples(try await tally.get("/api/v1/query?query=" + urlEncoded(selector + "[5m]") + "&time=\(now)").body)
        return answer.values.first?.map(\.timestamp) ?? []
    }

    /// Instant queries at chosen times (not polled at "now"), so a loaded machine cannot miss a window.
    static func resultCount(_ tally: TallyProcess, _ query: String, at millis: Int64) async throws -> Int {
        try await resultCount(tally, query, parameters: "&time=\(Double(millis) / 1000)")
    }

    @Test func stoppedSeriesLeaveInstantQueriesAtOnce() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-stale")
        defer { scratch.remove() }
        let config = scratch.path + "/stale.yaml"
        try "aggregation:\n  series_expiry: 1s\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        try sendUDP(datagram(["stale.depth:5|g", "stale.latency:12|ms"]), port: tally.statsdPort)
        // Past series_expiry (1 s) the gauge is gone from an instant query at "now", well inside the 5 min lookback.
        #expect(try await Self.waitCount(tally, "count_over_time(stale_depth[5m])", 1) == 1)
        #expect(try await Self.waitCount(tally, "stale_depth", 0) == 0)
        #expect(try await Self.waitCount(tally, "stale_latency_seconds_count", 0) == 0)
        let gauge = try await Self.sampleTimes(tally, "stale_depth")
        let quantile = try await Self.sampleTimes(tally, #"stale_latency_seconds{quantile="0.99"}"#)
        let count = try await Self.sampleTimes(tally, "stale_latency_seconds_count")
        let first = try #require(gauge.first)
        let lastQuantile = try #require(quantile.last)
        #expect(gauge.count >= 5 && quantile.count == 1 && count.count == gauge.count, "\(gauge.count) \(quantile.count) \(count.count)")
        // While it was held, the gauge answered instant queries; the timer's quantile only for the interval
        // that had values: one flush (200 ms) later it is ended, while the cumulative count goes on.
        #expect(try await Self.resultCount(tally, "stale_depth", at: first) == 1)
        #expect(try await Self.resultCount(tally, #"stale_latency_seconds{quantile="0.99"}"#, at: lastQuantile) == 1)
        #expect(try await Self.resultCount(tally, #"stale_latency_seconds{quantile="0.99"}"#, at: lastQuantile + 201) == 0)
        #expect(try await Self.resultCount(tally, "stale_latency_seconds_count", at: lastQuantile + 201) == 1)
        // The data stays queryable over a range (range selectors leave markers out, as Prometheus does).
        #expect(try await Self.resultCount(tally, "last_over_time(stale_depth[5m])") == 1)
        #expect(await tally.stop() == 0)
    }

    @Test func aRestartEndsWhatTheStoppedProcessServed() async throws {
        let first = try TallyProcess()
        _ = try await first.waitFor("/readyz") { status, _ in status == 200 }
        try sendUDP(datagram(["restart.depth:9|g"]), port: first.statsdPort)
        #expect(try await Self.waitCount(first, "restart_depth", 1) == 1)
        #expect(await first.stop() == 0)
        let second = try TallyProcess(reusing: first)
        _ = try await second.waitFor("/readyz") { status, _ in status == 200 }
        #expect(try await Self.resultCount(second, "restart_depth") == 0, "ended at shutdown, not five minutes later")
        #expect(try await Self.resultCount(second, "count_over_time(restart_depth[5m])") == 1, "its samples are kept")
        #expect(await second.stop() == 0)
    }
}
