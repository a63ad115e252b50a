import Foundation
import TallyTestKit
import Testing

/// The OTLP/HTTP receiver against real senders: the OpenTelemetry Python
/// SDK (PyPI's opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http,
/// which .ci/deps --test installs) and curl; every value comes back exact
/// through PromQL and LogQL under the names docs/otlp.md gives.
@Suite("OTLP/HTTP receiver", .serialized)
struct OTLPReceiverTests {
    static let sdkScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Stubs/otlp_sdk_send.py").path

    /// Every series of a PromQL instant query, as `name{label="value",…}` (sorted, job and instance left out) → value.
    static func values(_ tally: TallyProcess, _ query: String) async throws -> [String: String] {
        let now = Date().timeIntervalSince1970 + 1
        let (status, body) = try await tally.get("/api/v1/query?query=" + urlEncoded(query) + "&time=\(now)")
        #expect(status == 200, "\(body)")
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let result = (object?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        var answer: [String: String] = [:]
        for series in result {
            let metric = series["metric"] as? [String: String] ?? [:]
            let name = metric["__name__"] ?? ""
            let labels = metric.filter { !["__name__", "job", "instance"].contains($0.key) }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",")
            answer[labels.isEmpty ? name : "\(name){\(labels)}"] = (series["value"] as? [Any])?.last as? String
        }
        return answer
    }

    static func sendWithSDK(_ tally: TallyProcess, service: String, temporality: String) async throws -> [String: String] {
        let (status, output) = try await runProcess("/usr/bin/env", ["python3", sdkScript, "\(tally.otlpPort)", service, temporality])
        #expect(status == 0, "\(output)")
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: String]) ?? [:]
    }

    @Test func theSDKsMetricsComeBackExactThroughPromQLForBothTemporalities() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        for (service, temporality) in [("shop", "cumulative"), ("shopd", "delta")] {
            _ = try await Self.sendWithSDK(tally, service: service, temporality: temporality)
            let job = "team/\(service)"
            let got = try await Self.values(tally, #"{job="\#(job)", instance="pod-1", __name__!="target_info"}"#)
            // Two collections: 3+4 orders in eu, 5 in us; the queue 10-3; the gauge's last value; five timings.
            let expected: [String: String] = [
                #"orders_placed_total{region="eu"}"#: "7",
                #"orders_placed_total{region="us"}"#: "5",
                "queue_items": "7",
                #"cpu_temperature_celsius{core="0"}"#: "41.5",
                #"request_duration_seconds_bucket{le="0",route="/buy"}"#: "0",
                #"request_duration_seconds_bucket{le="5",route="/buy"}"#: "4",
                #"request_duration_seconds_bucket{le="10",route="/buy"}"#: "5",
                #"request_duration_seconds_bucket{le="+Inf",route="/buy"}"#: "5",
                #"request_duration_seconds_count{route="/buy"}"#: "5",
                #"request_duration_seconds_sum{route="/buy"}"#: "8.723",
            ]
            for (series, value) in expected { #expect(got[series] == value, "\(temporality) \(series): \(got)") }
            let info = try await Self.values(tally, #"target_info{job="\#(job)"}"#)
            #expect(info.keys.contains { $0.contains(#"cloud_region="eu-west-1""#) && $0.contains(#"deployment_environment="ci""#) }, "\(info)")
        }
        let (_, metadata) = try await tally.get("/api/v1/metadata?metric=orders_placed_total")
        #expect(metadata.contains(#""type":"counter""#) && metadata.contains("Orders placed"), "\(metadata)")
        #expect(await tally.stop() == 0)
    }

    @Test func theSDKsLogsComeBackThroughLogQLWithServiceLevelAndTraceIds() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let ids = try await Self.sendWithSDK(tally, service: "shop", temporality: "cumulative")
        let trace = try #require(ids["trace_id"])
        let span = try #require(ids["span_id"])
        let start = Int64(Date().timeIntervalSince1970 - 300) * 1_000_000_000
        func lines(_ query: String) async throws -> [String] {
            let (status, body) = try await tally.get("/loki/api/v1/query_range?query=" + urlEncoded(query) + "&start=\(start)&limit=100")
            #expect(status == 200, "\(body)")
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let streams = (object?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
            return streams.flatMap { ($0["values"] as? [[String]] ?? []).map { $0[1] } }.sorted()
        }
        #expect(try await lines(#"{service="shop", source="otlp"}"#) == ["order placed", "payment failed", "payment slow"])
        #expect(try await lines(#"{service="shop", level="warn"}"#) == ["payment slow"])
        #expect(try await lines(#"{service="shop", level="error", env="ci"}"#) == ["payment failed"])
        #expect(try await lines(#"{service="shop"} | trace_id="\#(trace)""#) == ["payment slow"])
        #expect(try await lines(#"{service="shop"} | span_id="\#(span)" | order_id="o-18""#) == ["payment slow"])
        #expect(try await lines(#"{service="shop"} | order_id="o-17" | line_format "{{.cloud_region}}""#) == ["eu-west-1"])
        #expect(await tally.stop() == 0)
    }
}
