import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import TallyTestKit
import Testing
import PromQL
import TelemetryModel
import TimeSeriesStorage
@testable import HTTPAPI

struct FixedClock: WallClock {
    var now: Int64
    func nowMillis() -> Int64 { now }
}

/// The storage engine in a temporary directory, removed when the last
/// reference (the application's) goes.
final class ScratchStore: SampleSink, SeriesQuerier {
    let directory: TemporaryDirectory
    let db: TSDB

    init() throws {
        directory = try TemporaryDirectory(prefix: "tally-api")
        db = try TSDB(directory: directory.path)
    }

    deinit { directory.remove() }

    func register(_ labels: Labels) -> SeriesRef { db.register(labels) }
    func release(_ refs: [SeriesRef]) { db.release(refs) }
    func register(_ labels: [Labels], within limits: SeriesLimits) -> [SeriesLimits.Registration] { db.register(labels, within: limits) }
    func append(_ samples: [RefSample]) { db.append(samples) }
    func register(_ labels: [Labels]) -> [SeriesRef] { db.register(labels) }
    func appendReporting(_ samples: [RefSample]) -> SampleAppendReport { db.appendReporting(samples) }
    func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) throws(StoredDataError) -> [SeriesPoints] { try db.select(matchers, start: start, end: end) }
    func series(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [Labels] { db.series(matchers, start: start, end: end) }
}

/// An application over a store with known samples.
func makeApp(ready: Bool = true) throws -> some ApplicationProtocol {
    let store = try ScratchStore()
    store.append([
        Sample(labels: Labels(name: "req_total", ["env": "prod", "code": "200"]), timestamp: 1_000_000, value: 10),
        Sample(labels: Labels(name: "req_total", ["env": "dev", "code": "500"]), timestamp: 1_000_000, value: 1),
        Sample(labels: Labels(name: "temp"), timestamp: 1_000_000, value: .nan),
    ])
    store.append([
        Sample(labels: Labels(name: "req_total", ["env": "prod", "code": "200"]), timestamp: 1_010_000, value: 12.5),
        Sample(labels: Labels(name: "temp"), timestamp: 1_010_000, value: 1e21),
    ])
    let events = MemoryEventStore(capacity: 10)
    events.record(TelemetryEvent(kind: .event, title: "deploy", text: "v1", timestamp: 1_005_000,
                                 alertType: "success", tags: [Label("service", "api")]))
    let registry = PrometheusCollectorRegistry()
    registry.makeCounter(descriptor: MetricNameDescriptor(
        metricName: "tally_test", unitName: "total",
        helpText: "A test counter.")).increment(by: Int64(3))
    let dependencies = APIDependencies(querier: store, events: events, registry: registry,
                                       isReady: { ready }, clock: FixedClock(now: 1_020_000))
    dependencies.catalog.record(family: "req_total", kind: .counter)
    dependencies.catalog.record(family: "temp", kind: .gauge)
    return Application(router: buildAPIRouter(dependencies))
}

func json(_ response: TestResponse) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    return object as? [String: Any] ?? [:]
}

@Suite("Prometheus HTTP API")
struct PrometheusAPITests {
    @Test func instantQueryReturnsTheNewestSampleWithinTheLookback() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/v1/query?query=req_total%7Benv%3D%22prod%22%7D&time=1015", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"req_total","code":"200","env":"prod"},"value":[1015,"12.5"]}]}}"#)
            }
            // Before the second sample, the first one answers.
            try await client.execute(uri: "/api/v1/query?query=req_total%7Benv%3D%22prod%22%7D&time=1005.5", method: .get) { response in
                #expect(String(buffer: response.body).contains(#""value":[1005.500,"10"]"#))
            }
            // More than five minutes later, nothing.
            try await client.execute(uri: "/api/v1/query?query=req_total&time=1400", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
            }
        }
    }

    @Test func valuesAreWrittenAsPrometheusDoes() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/v1/query?query=temp&time=1000", method: .get) { response in
                #expect(String(buffer: response.body).contains(#"[1000,"NaN"]"#))
            }
            try await client.execute(uri: "/api/v1/query?query=temp&time=2023-01-01T00:00:00Z", method: .get) { response in
                #expect(String(buffer: response.body).contains(#""result":[]"#))
            }
            try await client.execute(uri: "/api/v1/query?query=temp&time=1010", method: .get) { response in
                #expect(String(buffer: response.body).contains(#""1000000000000000000000""#))
            }
        }
        #expect(formatSampleValue(0.1) == "0.1")
        #expect(formatSampleValue(1e-7) == "0.0000001")
        #expect(formatSampleValue(-2.5e20) == "-250000000000000000000")
        #expect(formatSampleValue(3) == "3")
        #expect(formatSampleValue(.infinity) == "+Inf")
        #expect(formatSampleValue(-.infinity) == "-Inf")
        #expect(formatSampleValue(123.456) == "123.456")
    }

    @Test func rangeQueryStepsThroughTime() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/v1/query_range?query=req_total&start=995&end=1015&step=5", method: .get) { response in
                let body = try json(response)
                let data = body["data"] as? [String: Any]
                #expect(data?["resultType"] as? String == "matrix")
                let result = data?["result"] as? [[String: Any]] ?? []
                #expect(result.count == 2)
                let prod = result.first { ($0["metric"] as? [String: String])?["env"] == "prod" }
                let values = prod?["values"] as? [[Any]] ?? []
                #expect(values.map { "\($0[0])=\($0[1])" } == ["1000=10", "1005=10", "1010=12.5", "1015=12.5"])
            }
        }
    }

    @Test func postedFormsWorkAsGrafanaSendsThem() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(
                uri: "/api/v1/query", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "query=req_total%7Bcode%3D~%225..%22%7D&time=1010")
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""code":"500""#))
            }
        }
    }

    @Test func aFormLargerThanTheBodyLimitIs413NamingTheSetting() async throws {
        try await makeApp().test(.router) { client in
            let form = "query=up&pad=" + String(repeating: "x", count: 1 << 20)
            try await client.execute(
                uri: "/api/v1/query", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: form)
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body)
                        == #"{"status":"error","errorType":"too_large","error":"the request body is larger than 1048576 bytes (http.max_body_size)"}"#)
            }
        }
    }

    @Test func expressionsAreEvaluatedInEveryResultType() async throws {
        try await makeApp().test(.router) { client in
            // Grafana's health check.
            try await client.execute(uri: "/api/v1/query?query=1%2B1&time=1015", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"resultType":"scalar","result":[1015,"2"]}}"#)
            }
            try await client.execute(uri: "/api/v1/query?query=sum%20by%20(env)%20(req_total)&time=1015", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"env":"dev"},"value":[1015,"1"]},{"metric":{"env":"prod"},"value":[1015,"12.5"]}]}}"#)
            }
            try await client.execute(uri: "/api/v1/query?query=req_total%7Benv%3D%22prod%22%7D%5B1m%5D&time=1015", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"req_total","code":"200","env":"prod"},"values":[[1000,"10"],[1010,"12.5"]]}]}}"#)
            }
            try await client.execute(uri: "/api/v1/query?query=%22hello%22&time=1015", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"resultType":"string","result":[1015,"hello"]}}"#)
            }
            try await client.execute(uri: "/api/v1/query_range?query=rate(req_total%5B1m%5D)&start=1005&end=1015&step=5", method: .get) { response in
                #expect(String(buffer: response.body).hasPrefix(#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"code":"200","env":"prod"},"values":[[1010,"#))
            }
            // A range vector cannot be graphed.
            try await client.execute(uri: "/api/v1/query_range?query=req_total%5B1m%5D&start=1005&end=1015&step=5", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains(#"invalid expression type \"range vector\" for range query"#))
            }
            // Two series with the same labels once the name is gone: Prometheus's 422.
            let query = urlEncoded(#"label_replace(label_replace(req_total, "code", "", "code", ".*"), "env", "", "env", ".*")"#)
            try await client.execute(uri: "/api/v1/query?query=\(query)&time=1005", method: .get) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body) == #"{"status":"error","errorType":"execution","error":"vector cannot contain metrics with the same labelset"}"#)
            }
        }
    }

    @Test func metadataBuildInfoAndExemplarsAnswerAsGrafanaExpects() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/v1/metadata", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":{"req_total":[{"type":"counter","help":"StatsD counter (c), cumulative since the series was first seen.","unit":""}],"temp":[{"type":"gauge","help":"StatsD gauge (g), the last value.","unit":""}]}}"#)
            }
            try await client.execute(uri: "/api/v1/metadata?metric=temp&limit=5", method: .get) { response in
                #expect(String(buffer: response.body).contains(#""temp""#) && !String(buffer: response.body).contains("req_total"))
            }
            try await client.execute(uri: "/api/v1/status/buildinfo", method: .get) { response in
                #expect(String(buffer: response.body).hasPrefix(#"{"status":"success","data":{"application":"tally","version":""#))
            }
            try await client.execute(uri: "/api/v1/query_exemplars?query=req_total&start=0&end=2000", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":[]}"#)
            }
        }
    }

    @Test func formatQueryPrintsTheCanonicalForm() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/v1/format_query?query=sum(rate(x%5B90s%5D))%20by%20(job)", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":"sum by (job) (rate(x[1m30s]))"}"#)
            }
            try await client.execute(
                uri: "/api/v1/format_query", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "query=foo(x)")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains(#"unknown function with name \"foo\""#))
            }
        }
    }

    @Test func badRequestsGetPrometheusErrors() async throws {
        let cases: [(String, String)] = [
            ("/api/v1/query?query=", #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: no expression found in input"}"#),
            ("/api/v1/query?query=up&time=yesterday", #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp"}"#),
            ("/api/v1/query_range?query=up&start=10&end=5&step=1", #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": end timestamp must not be before start time"}"#),
            ("/api/v1/query_range?query=up&start=0&end=100000&step=1", #"{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11000 points per timeseries. Try decreasing the query resolution (?step=XX)"}"#),
            ("/api/v1/query_range?query=up&start=0&end=10&step=0", #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"}"#),
            ("/api/v1/query_range?query=up&start=0&end=10", #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": missing"}"#),
            ("/api/v1/series", #"{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}"#),
            ("/api/v1/label/0bad/values", #"{"status":"error","errorType":"bad_data","error":"invalid label name: \"0bad\""}"#),
        ]
        try await makeApp().test(.router) { client in
            for (uri, body) in cases {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(String(buffer: response.body) == body, "\(uri)")
                    #expect(response.headers[.contentType] == "application/json")
                }
            }
        }
    }

    @Test func seriesLabelsAndLabelValues() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/v1/series?match[]=req_total&match[]=temp", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":[{"__name__":"req_total","code":"200","env":"prod"},{"__name__":"req_total","code":"500","env":"dev"},{"__name__":"temp"}]}"#)
            }
            try await client.execute(uri: "/api/v1/labels", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":["__name__","code","env"]}"#)
            }
            try await client.execute(uri: "/api/v1/label/env/values", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":["dev","prod"]}"#)
            }
            try await client.execute(uri: "/api/v1/label/__name__/values?match[]=%7Benv%3D%22dev%22%7D", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":["req_total"]}"#)
            }
            try await client.execute(uri: "/api/v1/series?match[]=temp&start=2000", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":[]}"#)
            }
        }
    }

    @Test func eventsAreServedAsJSON() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api/v1/events?start=1000&end=1010", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":[{"type":"event","timestamp":1005,"title":"deploy","text":"v1","alert_type":"success","tags":{"service":"api"}}]}"#)
            }
            try await client.execute(uri: "/api/v1/events?start=2000", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"status":"success","data":[]}"#)
            }
        }
    }

    @Test func operationalEndpoints() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("tally_test_total 3"))
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
        try await makeApp(ready: false).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
    }
}

@Suite("Form decoding")
struct FormDecodingTests {
    @Test func percentEscapesPlusAndRepeatedKeys() {
        let form = FormParameters(encoded: "match%5B%5D=%7B__name__%3D~%22e2e_.*%22%7D&match[]=up&q=a+b%2Bc&empty=&flag")
        #expect(form.all("match[]") == [#"{__name__=~"e2e_.*"}"#, "up"])
        #expect(form["q"] == "a b+c")
        #expect(form["empty"] == "")
        #expect(form["flag"] == "")
    }
}
