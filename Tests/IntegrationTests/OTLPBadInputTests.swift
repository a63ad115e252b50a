import Foundation
import TallyTestKit
import Testing

/// curl's JSON and gzip bodies, and every kind of bad input on /v1/metrics
/// and /v1/logs: each gets its 4xx with a google.rpc.Status message and is
/// counted in /metrics, and nothing else of the request or of later ones is lost.
extension OTLPReceiverTests {
    static func metricsBody(name: String, value: String, nanos: Int64, extra: String = "") -> String {
        """
        {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"curl"}}]},
         "scopeMetrics":[{"metrics":[{"name":"\(name)","unit":"By","gauge":{"dataPoints":[
           {"timeUnixNano":"\(nanos)","asDouble":\(value),"attributes":[{"key":"disk.device","value":{"stringValue":"sda"}}]}]}}\(extra)]}]}]}
        """
    }

    /// curl's answer: (status, body).
    static func curl(_ port: Int, _ path: String, _ arguments: [String]) async throws -> (Int, String) {
        let (_, output) = try await runProcess("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "-X", "POST"] + arguments + ["http://127.0.0.1:\(port)\(path)"])
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func curlSendsJSONAndGzipBodies() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-otlp")
        defer { scratch.remove() }
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let nanos = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let plain = scratch.path + "/plain.json"
        try Self.metricsBody(name: "disk.free", value: "1234.5", nanos: nanos).write(toFile: plain, atomically: true, encoding: .utf8)
        let (status, body) = try await Self.curl(tally.otlpPort, "/v1/metrics", ["-H", "Content-Type: application/json", "--data-binary", "@" + plain])
        #expect(status == 200 && body == "{}", "\(status) \(body)")
        let zipped = scratch.path + "/zipped.json"
        try Self.metricsBody(name: "disk.used", value: "99", nanos: nanos).write(toFile: zipped, atomically: true, encoding: .utf8)
        _ = try await runProcess("/usr/bin/env", ["gzip", "-f", zipped])
        let (gzipStatus, _) = try await Self.curl(
            tally.otlpPort, "/v1/metrics", ["-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip", "--data-binary", "@\(zipped).gz"])
        #expect(gzipStatus == 200)
        let got = try await Self.values(tally, #"{job="curl"}"#)
        #expect(got[#"disk_free_bytes{disk_device="sda"}"#] == "1234.5", "\(got)")
        #expect(got[#"disk_used_bytes{disk_device="sda"}"#] == "99", "\(got)")
        #expect(await tally.stop() == 0)
    }

    @Test func pointsPastTheLabelLimitsAreRefusedInPartialSuccess() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-otlp")
        defer { scratch.remove() }
        let config = scratch.path + "/limits.yaml"
        try "limits:\n  max_label_value_length: 16\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let nanos = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let long = String(repeating: "x", count: 20)
        let second = #",{"name":"disk.long","unit":"By","gauge":{"dataPoints":[{"timeUnixNano":"\#(nanos)","asDouble":5,"attributes":[{"key":"disk.device","value":{"stringValue":"\#(long)"}}]}]}}"#
        let file = scratch.path + "/body.json"
        try Self.metricsBody(name: "disk.short", value: "7", nanos: nanos, extra: second).write(toFile: file, atomically: true, encoding: .utf8)
        let (status, body) = try await Self.curl(tally.otlpPort, "/v1/metrics", ["-H", "Content-Type: application/json", "--data-binary", "@" + file])
        #expect(status == 200 && body.contains(#""rejectedDataPoints":"1""#) && body.contains("more than 16"), "\(body)")
        let got = try await Self.values(tally, #"{job="curl"}"#)
        #expect(got[#"disk_short_bytes{disk_device="sda"}"#] == "7" && got.count == 1, "\(got)")
        let metrics = try await tally.get("/metrics").body
        #expect(RemoteWriteRetryTests.value(metrics, #"tally_otlp_rejected_data_points_total{reason="label_value_too_long"}"#) == 1)
        #expect(await tally.stop() == 0)
    }

    @Test func seriesPastTheSeriesLimitPerMetricAreRefusedInPartialSuccess() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-otlp")
        defer { scratch.remove() }
        let config = scratch.path + "/limits.yaml"
        try "limits:\n  max_series_per_metric: 2\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let nanos = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        // Three devices of one metric: two series are made, the third is refused; existing ones carry on.
        let points = (1...3).map { #"{"timeUnixNano":"\#(nanos)","asDouble":\#($0),"attributes":[{"key":"disk.device","value":{"stringValue":"d\#($0)"}}]}"# }
        let body = #"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"curl"}}]},"scopeMetrics":[{"metrics":[{"name":"disk.free","unit":"By","gauge":{"dataPoints":[\#(points.joined(separator: ","))]}}]}]}]}"#
        let file = scratch.path + "/body.json"
        try body.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, answer) = try await Self.curl(tally.otlpPort, "/v1/metrics", ["-H", "Content-Type: application/json", "--data-binary", "@" + file])
        #expect(status == 200 && answer.contains(#""rejectedDataPoints":"1""#) && answer.contains("limits.max_series_per_metric"), "\(answer)")
        let got = try await Self.values(tally, #"{job="curl"}"#)
        #expect(got.count == 2, "\(got)")
        let metrics = try await tally.get("/metrics").body
        #expect(RemoteWriteRetryTests.value(metrics, #"tally_otlp_rejected_data_points_total{reason="series_per_metric_limit"}"#) == 1)
        #expect(RemoteWriteRetryTests.value(metrics, #"tally_push_series_limit_per_metric_refused_samples_total{name="disk_free_bytes"}"#) == 1)
        #expect(await tally.stop() == 0)
    }

    @Test func badInputGetsAClear4xxIsCountedAndLosesNothingElse() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-otlp")
        defer { scratch.remove() }
        let config = scratch.path + "/otlp.yaml"
        try "otlp:\n  max_request_size: 64KiB\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let port = tally.otlpPort
        let nanos = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let json = [("Content-Type", "application/json")]
        let protobuf = [("Content-Type", "application/x-protobuf")]
        func post(_ path: String, _ body: String, _ headers: [(String, String)]) async throws -> (status: Int, body: String) {
            try await tally.post(path, body: Array(body.utf8), headers: headers, port: port)
        }

        // A good request first, so the series exist.
        #expect(try await post("/v1/metrics", Self.metricsBody(name: "good", value: "1", nanos: nanos), json).status == 200)
        var (status, body) = try await post("/v1/metrics", "\u{0A}\u{05}\u{0A}\u{03}", protobuf)  // a truncated ResourceMetrics
        #expect(status == 400 && body.contains("not a valid protobuf ExportMetricsServiceRequest"), "\(status) \(body)")
        (status, body) = try await post("/v1/metrics", #"{"resourceMetrics":[{"#, json)
        #expect(status == 400 && body.contains(#""code":3"#) && body.contains("not a valid JSON"), "\(body)")
        (status, body) = try await post("/v1/logs", "", json)
        #expect(status == 400 && body.contains("empty request body"), "\(body)")
        (status, body) = try await post("/v1/metrics", "{}", [("Content-Type", "text/plain")])
        #expect(status == 415, "\(body)")
        (status, body) = try await post("/v1/metrics", "not gzip", json + [("Content-Encoding", "gzip")])
        #expect(status == 400 && body.contains("gzip"), "\(body)")
        (status, body) = try await post("/v1/metrics", "{}", json + [("Content-Encoding", "br")])
        #expect(status == 415, "\(body)")
        (status, body) = try await post("/v1/metrics", String(repeating: " ", count: 70_000) + "{}", json)
        #expect(status == 413 && body.contains("otlp.max_request_size"), "\(body)")
        // Unknown fields are skipped, as OTLP asks of receivers.
        (status, body) = try await post("/v1/metrics", #"{"resourceMetrics":[],"comesLater":{"x":1}}"#, json)
        #expect(status == 200, "\(body)")
        // NaN and Inf are values; an older point of a known series is refused alone (partial success);
        // a histogram with the wrong number of counts is refused alone.
        let mixed = Self.metricsBody(name: "good", value: "2", nanos: nanos - 60_000_000_000, extra: """
            ,{"name":"weird","gauge":{"dataPoints":[{"timeUnixNano":"\(nanos)","asDouble":"NaN"},
                                                   {"timeUnixNano":"\(nanos)","asDouble":"Infinity","attributes":[{"key":"k","value":{"stringValue":"inf"}}]}]}},
             {"name":"broken","histogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"\(nanos)","count":"1","bucketCounts":["1"],"explicitBounds":[1,2]}]}}
            """)
        (status, body) = try await post("/v1/metrics", mixed, json)
        #expect(status == 200 && body.contains(#""rejectedDataPoints":"2""#) && body.contains("errorMessage"), "\(body)")
        let weird = try await Self.values(tally, #"weird{job="curl"}"#)
        #expect(weird == ["weird": "NaN", #"weird{k="inf"}"#: "+Inf"], "\(weird)")
        #expect(try await Self.values(tally, #"good_bytes{job="curl"}"#).values.first == "1")

        let metrics = try await tally.get("/metrics").body
        for line in [
            #"tally_otlp_rejected_requests_total{signal="metrics",reason="bad_body"} 3"#,
            #"tally_otlp_rejected_requests_total{signal="logs",reason="empty"} 1"#,
            #"tally_otlp_rejected_requests_total{signal="metrics",reason="unsupported_media_type"} 1"#,
            #"tally_otlp_rejected_requests_total{signal="metrics",reason="unsupported_encoding"} 1"#,
            #"tally_otlp_rejected_requests_total{signal="metrics",reason="too_large"} 1"#,
            #"tally_otlp_rejected_data_points_total{reason="out_of_order"} 1"#,
            #"tally_otlp_rejected_data_points_total{reason="invalid"} 1"#,
        ] {
            #expect(metrics.contains(line), "missing \(line)")
        }
        #expect(tally.isRunning)
        #expect(await tally.stop() == 0)
    }
}
