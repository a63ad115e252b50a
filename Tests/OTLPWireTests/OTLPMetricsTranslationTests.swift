import Foundation
import OTLPWire
import TelemetryModel
import Testing

/// The translation rules of docs/otlp.md, one by one, on JSON requests.
struct OTLPMetricsTranslationTests {
    static func request(_ metrics: String, resource: String = #"[{"key":"service.name","value":{"stringValue":"api"}}]"#) -> [UInt8] {
        Array(#"{"resourceMetrics":[{"resource":{"attributes":\#(resource)},"scopeMetrics":[{"metrics":[\#(metrics)]}]}]}"#.utf8)
    }

    static func translate(_ metrics: String, deltas: DeltaAccumulator = DeltaAccumulator()) throws -> [String: Double] {
        let result = try OTLPMetricsTranslation.translate(request(metrics), encoding: .json, nowMillis: 1_000, deltas: deltas)
        var values: [String: Double] = [:]
        for sample in result.samples where sample.labels.metricName != "target_info" {
            let others = sample.labels.filter { $0.name != Labels.metricName && $0.name != "job" }.map { "\($0.name)=\($0.value)" }
            values[sample.labels.metricName + (others.isEmpty ? "" : "{" + others.joined(separator: ",") + "}")] = sample.value
        }
        return values
    }

    static func gauge(_ name: String, unit: String = "") -> String {
        #"{"name":"\#(name)","unit":"\#(unit)","gauge":{"dataPoints":[{"timeUnixNano":"2000000","asDouble":1}]}}"#
    }

    static func sum(_ name: String, unit: String = "", monotonic: Bool = true, temporality: Int = 2, value: String = "1", time: String = "2000000") -> String {
        #"{"name":"\#(name)","unit":"\#(unit)","sum":{"isMonotonic":\#(monotonic),"aggregationTemporality":\#(temporality),"dataPoints":[{"timeUnixNano":"\#(time)","asInt":"\#(value)"}]}}"#
    }

    @Test(arguments: [
        (gauge("http.server.active_requests"), "http_server_active_requests"),
        (gauge("process.memory.usage", unit: "By"), "process_memory_usage_bytes"),
        (gauge("system.cpu.utilization", unit: "1"), "system_cpu_utilization_ratio"),
        (gauge("request.latency", unit: "ms"), "request_latency_milliseconds"),
        (gauge("network.io", unit: "By/s"), "network_io_bytes_per_second"),
        (gauge("queue_seconds", unit: "s"), "queue_seconds"),
        (gauge("2xx.responses", unit: "{response}"), "_2xx_responses"),
        (gauge("weird..name--x"), "weird_name_x"),
        (sum("http.requests", unit: "{request}"), "http_requests_total"),
        (sum("bytes.sent", unit: "By"), "bytes_sent_bytes_total"),
        (sum("jobs_total"), "jobs_total"),
        (sum("queue.length", monotonic: false), "queue_length"),
    ])
    func metricNamesFollowPrometheusRules(metric: String, expected: String) throws {
        #expect(try Self.translate(metric).keys.sorted() == [expected])
    }

    @Test func attributeKeysBecomeLabelNamesAndCollidingKeysJoinTheirValues() throws {
        let metric = #"{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"2000000","asDouble":1,"attributes":[{"key":"http.method","value":{"stringValue":"GET"}},{"key":"http_method","value":{"stringValue":"get"}},{"key":"9lives","value":{"intValue":"9"}},{"key":"_private","value":{"boolValue":true}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"doubleValue":1.5}]}}}]}]}}"#
        let labels = try #require(Self.translate(metric).keys.first)
        #expect(labels == #"g{http_method=GET;get,key_9lives=9,key_private=true,tags=["a",1.5]}"#)
    }

    @Test func resourceAttributesGiveJobInstanceAndTargetInfo() throws {
        let resource = #"[{"key":"service.name","value":{"stringValue":"api"}},{"key":"service.namespace","value":{"stringValue":"shop"}},{"key":"service.instance.id","value":{"stringValue":"pod-7"}},{"key":"k8s.pod.name","value":{"stringValue":"api-7"}}]"#
        let result = try OTLPMetricsTranslation.translate(
            Self.request(Self.gauge("g"), resource: resource), encoding: .json, nowMillis: 1_000, deltas: DeltaAccumulator())
        let g = try #require(result.samples.first { $0.labels.metricName == "g" })
        #expect(g.labels["job"] == "shop/api" && g.labels["instance"] == "pod-7" && g.labels["k8s_pod_name"] == nil)
        let info = try #require(result.samples.first { $0.labels.metricName == "target_info" })
        #expect(info.labels["k8s_pod_name"] == "api-7" && info.labels["job"] == "shop/api" && info.value == 1 && info.timestamp == 2)
    }

    @Test func deltaSumsBecomeRunningTotals() throws {
        let deltas = DeltaAccumulator()
        #expect(try Self.translate(Self.sum("hits", temporality: 1, value: "5"), deltas: deltas) == ["hits_total": 5])
        #expect(try Self.translate(Self.sum("hits", temporality: 1, value: "3", time: "3000000"), deltas: deltas) == ["hits_total": 8])
        // Cumulative points are stored as they are.
        #expect(try Self.translate(Self.sum("hits", temporality: 2, value: "3", time: "3000000")) == ["hits_total": 3])
    }

    @Test func theDeltaSeriesCapRefusesNewSeriesAndSaysSo() throws {
        let deltas = DeltaAccumulator(maxSeries: 1)
        _ = try Self.translate(Self.sum("a", temporality: 1), deltas: deltas)
        let result = try OTLPMetricsTranslation.translate(
            Self.request(Self.sum("b", temporality: 1)), encoding: .json, nowMillis: 1_000, deltas: deltas)
        #expect(result.rejected == ["delta_series_limit": 1])
        #expect(result.firstProblem?.contains("otlp.max_delta_series") == true)
    }

    @Test func histogramsBecomeCumulativeBucketsSumAndCount() throws {
        let metric = #"{"name":"rpc.duration","unit":"s","histogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"2000000","count":"6","sum":4.5,"bucketCounts":["1","2","3"],"explicitBounds":[0.005,1e-5]}]}}"#
        #expect(try Self.translate(metric) == [
            "rpc_duration_seconds_bucket{le=0.005}": 1, "rpc_duration_seconds_bucket{le=0.00001}": 3,
            "rpc_duration_seconds_bucket{le=+Inf}": 6, "rpc_duration_seconds_sum": 4.5, "rpc_duration_seconds_count": 6,
        ])
    }

    @Test func exponentialHistogramsBecomeClassicBuckets() throws {
        // Scale 0: base 2. Positive buckets from index 1: (2,4] holds 1, (4,8] holds 2; negative index 0: [-2,-1) holds 1; zero bucket 1.
        let metric = #"{"name":"size","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"2000000","count":"5","sum":12,"scale":0,"zeroCount":"1","positive":{"offset":1,"bucketCounts":["1","2"]},"negative":{"offset":0,"bucketCounts":["1"]}}]}}"#
        #expect(try Self.translate(metric) == [
            "size_bucket{le=-1}": 1, "size_bucket{le=0}": 2, "size_bucket{le=4}": 3, "size_bucket{le=8}": 5, "size_bucket{le=+Inf}": 5,
            "size_sum": 12, "size_count": 5,
        ])
    }

    @Test func summariesGiveQuantilesSumAndCount() throws {
        let metric = #"{"name":"lat","summary":{"dataPoints":[{"timeUnixNano":"2000000","count":"10","sum":3,"quantileValues":[{"quantile":0.5,"value":0.2},{"quantile":0.99,"value":0.9}]}]}}"#
        #expect(try Self.translate(metric) == ["lat{quantile=0.5}": 0.2, "lat{quantile=0.99}": 0.9, "lat_sum": 3, "lat_count": 10])
    }

    @Test func aPointFlaggedWithoutValueIsAStalenessMarker() throws {
        let metric = #"{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"2000000","asDouble":1,"flags":1}]}}"#
        let value = try #require(Self.translate(metric)["g"])
        #expect(value.bitPattern == 0x7FF0_0000_0000_0002)
    }

    @Test func aPointWithoutTimeTakesTheReceiveTime() throws {
        let result = try OTLPMetricsTranslation.translate(
            Self.request(#"{"name":"g","gauge":{"dataPoints":[{"asDouble":1}]}}"#), encoding: .json, nowMillis: 77, deltas: DeltaAccumulator())
        #expect(result.samples.first?.timestamp == 77)
    }

    @Test func unreadableBodiesAreErrorsThatSayWhy() {
        #expect(throws: OTLPError.self) {
            try OTLPMetricsTranslation.translate(Array("{\"resourceMetrics\":".utf8), encoding: .json, nowMillis: 0, deltas: DeltaAccumulator())
        }
        #expect(throws: OTLPError.self) {
            try OTLPMetricsTranslation.translate([0x0A, 0x05, 0x0A], encoding: .protobuf, nowMillis: 0, deltas: DeltaAccumulator())
        }
    }
}
