import AsyncHTTPClient
import BlockCodec
import Foundation
import NIOCore
import ProtobufWire
import TallyTestKit
import Testing

/// `/api/v1/status/tsdb`, the cardinality figures, beside a real Prometheus
/// (Debian's package) that received the same series over remote_write.
@Suite("TSDB status beside Prometheus", .serialized)
struct TSDBStatusTests {
    /// Six metric names of 1 to 120 series, labels whose values repeat across
    /// names and differ in length: one remote_write body for both servers.
    static func writeBody(now: Int64) -> [UInt8] {
        var encoder = ProtobufEncoder()
        for (m, count) in [1, 3, 7, 20, 50, 120].enumerated() {
            for i in 0..<count {
                let labels: [(name: String, value: String)] = [
                    ("__name__", "card_metric_\(m)"),
                    ("instance", "host-\(i % 13):9100"),
                    ("job", i % 2 == 0 ? "api" : "web"),
                    ("path", "/v\(i)/" + String(repeating: "x", count: i % 5)),
                ]
                let samples = (0..<3).map { (timestamp: now - Int64(2 - $0) * 10_000, value: Double(i * 10 + $0)) }
                RemoteWriteEncoding.appendSeries(labels: labels, samples: samples, to: &encoder)
            }
        }
        return Snappy.compress(encoder.bytes)
    }

    static let writeHeaders = [
        ("Content-Type", "application/x-protobuf"), ("Content-Encoding", "snappy"), ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ]

    /// The answer's head stats and its four lists, each as name → value.
    static func figures(_ body: String) throws -> (head: [String: Int64], lists: [String: [String: Int]], order: [String: [String]]) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body.prefix(300))")
        #expect(object["status"] as? String == "success")
        let data = try #require(object["data"] as? [String: Any])
        let head = (data["headStats"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.int64Value }
        var lists: [String: [String: Int]] = [:]
        var order: [String: [String]] = [:]
        for key in ["seriesCountByMetricName", "labelValueCountByLabelName", "memoryInBytesByLabelName", "seriesCountByLabelValuePair"] {
            let entries = data[key] as? [[String: Any]] ?? []
            lists[key] = Dictionary(entries.map { ($0["name"] as? String ?? "", $0["value"] as? Int ?? -1) }, uniquingKeysWith: { a, _ in a })
            order[key] = entries.map { $0["name"] as? String ?? "" }
        }
        return (head, lists, order)
    }

    @Test func cardinalityFiguresMatchPrometheusForTheSameSeries() async throws {
        let prometheus = try PrometheusServer(extraArguments: ["--web.enable-remote-write-receiver"])
        let tally = try TallyProcess()
        try await prometheus.waitReady()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let body = Self.writeBody(now: Int64(Date().timeIntervalSince1970 * 1000))
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(prometheus.port)/api/v1/write")
        request.method = .POST
        for (name, value) in Self.writeHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let sent = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(sent.status.code == 204)
        #expect(try await tally.post("/api/v1/write", body: body, headers: Self.writeHeaders).status == 204)

        // Prometheus 2.42 lists ten entries, whatever the limit: compare those, and everything tally lists.
        let theirs = try Self.figures(try await prometheus.get("/api/v1/status/tsdb").body)
        let ours = try Self.figures(try await tally.get("/api/v1/status/tsdb").body)
        #expect(ours.head == theirs.head)
        #expect(ours.head["numSeries"] == 201 && ours.head["numLabelPairs"] == 141)
        for (key, list) in theirs.lists {
            // Prometheus orders equal values at random: the entries above the last value must match,
            // and as many entries must be listed.
            let cut = list.values.min() ?? 0
            let mine = ours.lists[key] ?? [:]
            #expect(mine.count == list.count && mine.filter { $0.value > cut } == list.filter { $0.value > cut }
                && mine.values.allSatisfy { $0 >= cut },
                "\(key): tally \(ours.order[key] ?? []) Prometheus \(theirs.order[key] ?? [])")
        }
        // All of tally's lists at once, against what the series hold.
        let all = try Self.figures(try await tally.get("/api/v1/status/tsdb?limit=1000").body)
        let counts = [1, 3, 7, 20, 50, 120]
        var byName: [String: Int] = [:]
        for (m, count) in counts.enumerated() { byName["card_metric_\(m)"] = count }
        #expect(all.lists["seriesCountByMetricName"] == byName)
        #expect(all.lists["labelValueCountByLabelName"] == ["__name__": 6, "instance": 13, "job": 2, "path": 120])
        // The bytes of each distinct value: "api" and "web"; six names of 13 bytes.
        #expect(all.lists["memoryInBytesByLabelName"]?["job"] == 6 && all.lists["memoryInBytesByLabelName"]?["__name__"] == 78)
        let apiSeries = 1 + 2 + 4 + 10 + 25 + 60
        #expect(all.lists["seriesCountByLabelValuePair"]?["job=api"] == apiSeries)
        let pairCount = 6 + 13 + 2 + 120
        #expect(all.lists["seriesCountByLabelValuePair"]?.count == pairCount)
        // Largest first, equal values by name.
        let pairs = all.order["seriesCountByLabelValuePair"] ?? []
        let pairCounts = all.lists["seriesCountByLabelValuePair"] ?? [:]
        var ordered = true
        for (a, b) in zip(pairs, pairs.dropFirst()) {
            let (x, y) = (pairCounts[a] ?? 0, pairCounts[b] ?? 0)
            if x < y || (x == y && a > b) { ordered = false }
        }
        #expect(ordered, "\(pairs.prefix(20))")
        let three = try Self.figures(try await tally.get("/api/v1/status/tsdb?limit=3").body)
        #expect(three.order["seriesCountByMetricName"] == ["card_metric_5", "card_metric_4", "card_metric_3"])
        #expect(three.order.values.allSatisfy { $0.count <= 3 })
        // A limit that is not a positive number: Prometheus's error.
        for bad in ["0", "-2", "ten"] {
            let answer = try await tally.get("/api/v1/status/tsdb?limit=\(bad)")
            #expect(answer.status == 400 && answer.body.contains(#""errorType":"bad_data""#), "\(answer)")
        }
        #expect(await tally.stop() == 0)
    }

    @Test func anEmptyHeadAnswersAsPrometheusDoes() async throws {
        let prometheus = try PrometheusServer()
        let tally = try TallyProcess()
        try await prometheus.waitReady()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let theirs = try Self.figures(try await prometheus.get("/api/v1/status/tsdb").body)
        let ours = try Self.figures(try await tally.get("/api/v1/status/tsdb").body)
        #expect(ours.head == theirs.head)
        #expect(ours.lists == theirs.lists)
        // The head's growth, as a range answer: one point, now, of no series.
        let growth = try await tally.get("/api/v1/status/head_series").body
        #expect(growth.hasPrefix(#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"tally_storage_head_series"},"values":[["#)
            && growth.hasSuffix(#","0"]]}]}}"#), "\(growth)")
        #expect(await tally.stop() == 0)
    }
}
