import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import TallyTestKit
import TelemetryModel
import Testing
@testable import HTTPAPI

@Suite("Query log")
struct QueryLogTests {
    @Test func theRingKeepsTheLastQueriesOldestFirst() {
        let log = QueryLog(capacity: 3)
        for i in 0..<5 {
            log.record(language: "promql", query: "q\(i)", rangeSeconds: 0, duration: .milliseconds(i), at: Int64(i))
        }
        #expect(log.entries(since: 0).map(\.query) == ["q2", "q3", "q4"])
        #expect(log.entries(since: 4).map(\.query) == ["q4"])
    }

    @Test func queriesFasterThanTheMinimumAreNotKept() {
        let log = QueryLog(capacity: 10, minimumDuration: .milliseconds(5))
        log.record(language: "promql", query: "fast", rangeSeconds: 0, duration: .milliseconds(4), at: 1)
        log.record(language: "promql", query: "slow", rangeSeconds: 0, duration: .milliseconds(5), at: 1)
        #expect(log.entries(since: 0).map(\.query) == ["slow"])
        let none = QueryLog(capacity: 0)
        none.record(language: "promql", query: "q", rangeSeconds: 0, duration: .seconds(1), at: 1)
        #expect(none.entries(since: 0).isEmpty)
    }

    @Test func aLongQueryIsKeptUpToItsBound() {
        let log = QueryLog(capacity: 1)
        log.record(language: "logql", query: String(repeating: "é", count: 2_000), rangeSeconds: 0, duration: .zero, at: 1)
        let kept = log.entries(since: 0).first?.query ?? ""
        #expect(kept.utf8.count <= QueryLog.maxQueryBytes && kept.hasPrefix("éé"))
    }

    /// The same text over the same span is one group; the same text over another span is another.
    @Test func topGroupsByQueryAndSpanAndRanksThreeWays() {
        let log = QueryLog()
        log.record(language: "promql", query: "a", rangeSeconds: 3600, duration: .milliseconds(10), at: 100)
        log.record(language: "promql", query: "a", rangeSeconds: 3600, duration: .milliseconds(30), at: 100)
        log.record(language: "promql", query: "a", rangeSeconds: 3600, duration: .milliseconds(20), at: 100)
        log.record(language: "promql", query: "a", rangeSeconds: 0, duration: .milliseconds(1), at: 100)
        log.record(language: "logql", query: "{b=\"1\"}", rangeSeconds: 60, duration: .milliseconds(50), at: 100)
        log.record(language: "promql", query: "old", rangeSeconds: 0, duration: .seconds(9), at: 10)
        let top = log.top(2, since: 50)
        #expect(top.byCount.map(\.query) == ["a", "a"] && top.byCount.map(\.count) == [3, 1])
        #expect(top.byAverage.map(\.query) == ["{b=\"1\"}", "a"])
        #expect(abs(top.byAverage[1].avgDurationSeconds - 0.020) < 1e-9)
        #expect(top.bySum.map(\.query) == ["a", "{b=\"1\"}"] && abs(top.bySum[0].sumDurationSeconds - 0.060) < 1e-9)
        #expect(!top.byAverage.contains { $0.query == "old" }, "older than `since`")
    }
}

@Suite("Status endpoints")
struct StatusEndpointTests {
    static func app(status: ServerStatus?) throws -> some ApplicationProtocol {
        let store = try ScratchStore()
        var dependencies = APIDependencies(querier: store, events: MemoryEventStore(capacity: 1), registry: PrometheusCollectorRegistry(),
                                           isReady: { true }, clock: FixedClock(now: 1_020_000))
        dependencies.serverStatus = status
        return Application(router: buildAPIRouter(dependencies))
    }

    static let status = ServerStatus(
        startTimeMillis: 1_000_000, workingDirectory: "/srv", dataDirectory: "/srv/data", configFile: "/etc/tally/tally.yaml",
        configYAML: "query:\n  timeout: 1m\n", flags: ["--http": "0.0.0.0:9470", "--config": "/etc/tally/tally.yaml"],
        listeners: [.init(name: "statsd", transport: "udp", address: "0.0.0.0:8125"), .init(name: "http", transport: "http", address: "0.0.0.0:9470", tls: true)],
        retentionMillis: 15 * 86_400_000, corruptionCount: 1
    ) {
        StorageStatus(walSegments: [.init(name: "00000001", bytes: 100)], headSeries: 7, headChunks: 9,
                      blocks: [.init(ulid: "01J0000000000000000000000A", minTime: 0, maxTime: 7_199_999, series: 7, samples: 840, bytes: 4_096, level: 1)],
                      logWALSegments: [], logSegments: [.init(name: "s1", bytes: 10)])
    }

    @Test func runtimeConfigAndFlagsAnswerInPrometheussShapes() async throws {
        try await Self.app(status: Self.status).test(.router) { client in
            try await client.execute(uri: "/api/v1/status/runtimeinfo", method: .get) { response in
                let data = try json(response)["data"] as? [String: Any] ?? [:]
                #expect(data["startTime"] as? String == "1970-01-01T00:16:40.000Z")
                #expect(data["CWD"] as? String == "/srv" && data["storageRetention"] as? String == "15d")
                #expect(data["corruptionCount"] as? Int == 1 && data["reloadConfigSuccess"] as? Bool == true)
                #expect(data["configFile"] as? String == "/etc/tally/tally.yaml" && data["dataDir"] as? String == "/srv/data")
            }
            try await client.execute(uri: "/api/v1/status/config", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"yaml":"query:\n  timeout: 1m\n"}}"#)
            }
            try await client.execute(uri: "/api/v1/status/flags", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"--config":"/etc/tally/tally.yaml","--http":"0.0.0.0:9470"}}"#)
            }
        }
    }

    @Test func listenersAndStorageListWhatTheServerHas() async throws {
        try await Self.app(status: Self.status).test(.router) { client in
            try await client.execute(uri: "/api/v1/status/listeners", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":[{"name":"statsd","transport":"udp","address":"0.0.0.0:8125","tls":false},{"name":"http","transport":"http","address":"0.0.0.0:9470","tls":true}]}"#)
            }
            try await client.execute(uri: "/api/v1/status/storage", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"head":{"series":7,"chunks":9},"wal":[{"name":"00000001","bytes":100}],"blocks":[{"ulid":"01J0000000000000000000000A","minTime":0,"maxTime":7199999,"series":7,"samples":840,"bytes":4096,"level":1}],"logWAL":[],"logSegments":[{"name":"s1","bytes":10}]}}"#)
            }
        }
    }

    @Test func withoutAServerStatusOnlyTopQueriesIsServed() async throws {
        try await Self.app(status: nil).test(.router) { client in
            try await client.execute(uri: "/api/v1/status/runtimeinfo", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/status/top_queries", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    /// Queries answered by the API land in the query log, grouped as VictoriaMetrics groups them.
    @Test func topQueriesCountsTheQueriesTheAPIAnswered() async throws {
        try await Self.app(status: nil).test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/api/v1/query_range?query=up&start=900&end=1000&step=10", method: .get) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/api/v1/query?query=up&time=1000", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/query?query=sum(", method: .get) { #expect($0.status == .badRequest) }
            // Fails as it runs: kept, as a slow failing query is the one an operator looks for.
            let failing = "label_replace(vector(1),\"x\",\"$1\",\"y\",\"(\")".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            try await client.execute(uri: "/api/v1/query?query=\(failing)&time=1000", method: .get) { #expect($0.status == .unprocessableContent) }
            try await client.execute(uri: "/api/v1/status/top_queries?topN=5&maxLifetime=1h", method: .get) { response in
                let body = try json(response)
                #expect(body["topN"] as? String == "5" && body["maxLifetime"] as? String == "1h" && body["lastQueriesCount"] as? Int == 2_000)
                let byCount = body["topByCount"] as? [[String: Any]] ?? []
                #expect(byCount.count == 3, "a query that failed to parse is not kept: \(byCount)")
                #expect(byCount.first?["query"] as? String == "up" && byCount.first?["timeRangeSeconds"] as? Int == 100 && byCount.first?["count"] as? Int == 2)
                #expect(byCount.first?["language"] as? String == "promql")
                #expect((body["topByAvgDuration"] as? [Any])?.count == 3 && (body["topBySumDuration"] as? [Any])?.count == 3)
            }
            try await client.execute(uri: "/api/v1/status/top_queries?topN=0", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}
