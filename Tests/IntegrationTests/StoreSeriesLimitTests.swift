import Foundation
import TallyTestKit
import Testing

/// `limits.max_series` bounds what the store holds from every path, StatsD
/// included: when series churn (ids in tags that expire and come back as
/// others) has filled the head, a new StatsD series is refused and counted,
/// and the series the store holds carry on.
@Suite("The store's series limit on StatsD")
struct StoreSeriesLimitTests {
    @Test func newStatsDSeriesPastTheStoreLimitAreRefusedAndTheOthersCarryOn() async throws {
        let tally = try await started(maxSeries: 5, perMetric: 3)
        defer { Task { _ = await tally.stop() } }
        // Four series, then two more of `a`: the first fills the store (5), the second is refused.
        try sendTCP(Array("a:1|c\nb:1|c\nc:1|c\nd:1|c\n".utf8), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/query?query=d_total") { _, body in body.contains(#""1""#) }
        try sendTCP(Array("a:1|c|#k:1\na:1|c|#k:2\n".utf8), port: tally.statsdPort)
        _ = try await tally.waitFor("/metrics") { _, body in
            body.contains(#"tally_statsd_store_limit_dropped_lines_total{reason="series_limit"} 1"#)
        }
        try sendTCP(Array("e:1|c\nb:5|c\n".utf8), port: tally.statsdPort)
        let metrics = try await tally.waitFor("/metrics") { _, body in
            body.contains(#"tally_statsd_store_limit_dropped_lines_total{reason="series_limit"} 2"#)
        }
        #expect(metrics.contains(#"tally_statsd_store_limit_dropped_lines_total{reason="series_per_metric_limit"} 0"#))
        // The held series carry on.
        _ = try await tally.waitFor("/api/v1/query?query=b_total") { _, body in body.contains(#""6""#) }
        #expect(try await storedSeries(tally) == 5)
        let names = try await tally.get("/api/v1/label/__name__/values").body
        #expect(names.contains(#""a_total""#) && !names.contains(#""e_total""#), "\(names)")
    }

    @Test func oneNameCannotTakeTheWholeStore() async throws {
        let tally = try await started(maxSeries: 100, perMetric: 3)
        defer { Task { _ = await tally.stop() } }
        try sendTCP(Array((0..<10).map { "user.hits:1|c|#id:\($0)\n" }.joined().utf8), port: tally.statsdPort)
        try sendTCP(Array("other.hits:1|c\n".utf8), port: tally.statsdPort)
        let metrics = try await tally.waitFor("/metrics") { _, body in
            body.contains(#"tally_statsd_store_limit_dropped_lines_total{reason="series_per_metric_limit"} 7"#)
        }
        #expect(metrics.contains(#"tally_statsd_store_limit_dropped_lines_total{reason="series_limit"} 0"#))
        #expect(metrics.contains(#"tally_series_limit_per_metric_dropped_lines_total{name="user_hits_total"} 7"#), "the runaway name is named")
        _ = try await tally.waitFor("/api/v1/query?query=other_hits_total") { _, body in body.contains(#""1""#) }
        #expect(try await storedSeries(tally) == 4)
    }

    /// How many series the store holds (each has a sample by now).
    private func storedSeries(_ tally: TallyProcess) async throws -> Int {
        let body = try await tally.get("/api/v1/series?match%5B%5D=%7B__name__%3D~%22.%2B%22%7D").body
        return body.components(separatedBy: #""__name__""#).count - 1
    }

    /// A tally with these store limits, ready (it has read its config file by then).
    private func started(maxSeries: Int, perMetric: Int) async throws -> TallyProcess {
        let config = try ConfigFile("limits:\n  max_series: \(maxSeries)\n  max_series_per_metric: \(perMetric)\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path], flushInterval: "100ms")
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        return tally
    }
}
