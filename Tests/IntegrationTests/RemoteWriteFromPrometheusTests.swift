import Foundation
import TallyTestKit
import Testing

/// A real Prometheus (Debian's package) scrapes itself and sends what it
/// scrapes to tally over remote_write: the series appear in tally with the
/// values and timestamps Prometheus itself returns.
@Suite("remote_write from Prometheus into tally serve", .serialized)
struct RemoteWriteFromPrometheusTests {
    /// The raw samples of a range selector, by series: `{labels: [(t, v)]}`.
    static func samples(_ body: String) throws -> [String: [String]] {
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let data = object?["data"] as? [String: Any]
        let result = data?["result"] as? [[String: Any]] ?? []
        var out: [String: [String]] = [:]
        for series in result {
            let metric = (series["metric"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let values = (series["values"] as? [[Any]] ?? []).map { "\($0[0])@\($0[1])" }
            out[metric.joined(separator: ",")] = values
        }
        return out
    }

    @Test func seriesPrometheusScrapesArriveWithItsValues() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let prometheus = try PrometheusServer(configuration: { port in
            """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: prometheus
                static_configs:
                  - targets: ["127.0.0.1:\(port)"]
            remote_write:
              - url: http://127.0.0.1:\(tally.httpPort)/api/v1/write
                queue_config:
                  batch_send_deadline: 500ms
                  min_backoff: 100ms
                metadata_config:
                  send_interval: 1s
            """
        })
        try await prometheus.waitReady()
        // Ten scrapes' worth.
        _ = try await tally.waitFor("/api/v1/query?query=" + urlEncoded("count_over_time(up{job=\"prometheus\"}[1m])"), timeout: .seconds(60)) { _, body in
            guard let range = body.range(of: #""value":\[[0-9.]+,""#, options: .regularExpression) else { return false }
            return Int(body[range.upperBound...].prefix { $0.isNumber }) ?? 0 >= 10
        }
        let selector = #"{job="prometheus",__name__=~"up|scrape_samples_scraped|prometheus_tsdb_head_series|go_goroutines|prometheus_http_requests_total"}"#
        // Compare a window that ends a few seconds back, so that every sample in it has been sent.
        var lastDifference = ""
        for _ in 0..<40 {
            let time = Date().timeIntervalSince1970 - 3
            let path = "/api/v1/query?query=" + urlEncoded(selector + "[20s]") + "&time=\(time)"
            let expected = try Self.samples(try await prometheus.get(path).body)
            let received = try Self.samples(try await tally.get(path).body)
            #expect(expected.count >= 5)
            if expected == received, expected.values.allSatisfy({ $0.count >= 10 }) {
                lastDifference = ""
                break
            }
            let missing = Set(expected.keys).subtracting(received.keys).sorted()
            let unequal = expected.keys.filter { received[$0] != nil && received[$0] != expected[$0] }.sorted()
            lastDifference = "missing series \(missing.prefix(3)); unequal \(unequal.prefix(3).map { "\($0): \(expected[$0]!.suffix(3)) vs \(received[$0]!.suffix(3))" })"
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(lastDifference.isEmpty, "\(lastDifference)")
        // Prometheus sends its metric metadata too: /api/v1/metadata shows the families' types.
        let metadata = try await tally.waitFor("/api/v1/metadata?metric=prometheus_http_requests_total", timeout: .seconds(30)) { _, body in
            body.contains(#""type":"counter""#)
        }
        #expect(metadata.contains("Counter of HTTP requests"), "\(metadata)")
        let metrics = try await tally.get("/metrics").body
        #expect(metrics.contains("tally_remote_write_received_samples_total "))
        #expect(!metrics.contains(#"tally_remote_write_rejected_requests_total{reason="bad_protobuf"} 1"#))
        #expect(await tally.stop() == 0)
    }
}
