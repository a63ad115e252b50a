import BlockCodec
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import ProtobufWire
import TallyTestKit
import Testing
import TelemetryModel
@testable import HTTPAPI

/// `POST /api/v1/write` over the real storage engine: what a sender gets
/// back for each kind of request, what is stored, and what is counted.
@Suite("remote_write receiver")
struct RemoteWriteReceiverTests {
    typealias Series = ([(name: String, value: String)], [(timestamp: Int64, value: Double)])

    struct Fixture {
        let store: ScratchStore
        let registry: PrometheusCollectorRegistry
        let app: Application<RouterResponder<TallyRequestContext>>
        let dependencies: APIDependencies

        init(maxBody: Int = 1 << 20, labelLimits: LabelLimits = LabelLimits(), seriesLimits: SeriesLimits = SeriesLimits()) throws {
            store = try ScratchStore()
            registry = PrometheusCollectorRegistry()
            var dependencies = APIDependencies(
                querier: store, events: MemoryEventStore(capacity: 1), registry: registry, isReady: { true },
                clock: FixedClock(now: 1_700_000_100_000))
            dependencies.sampleSink = store
            dependencies.maxWriteBytes = maxBody
            dependencies.labelLimits = labelLimits
            dependencies.seriesLimits = seriesLimits
            self.dependencies = dependencies
            app = Application(router: buildAPIRouter(dependencies))
        }

        /// The counter's value in /metrics, or nil when absent.
        func counter(_ name: String, _ reason: String? = nil) -> Int? {
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            let wanted = reason.map { "\(name){reason=\"\($0)\"} " } ?? "\(name) "
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") where line.hasPrefix(wanted) {
                return Int(line.dropFirst(wanted.count))
            }
            return nil
        }
    }

    static func named(_ name: String) throws -> [LabelMatcher] {
        [try LabelMatcher("__name__", .equal, name)]
    }

    static func body(_ series: [Series], metadata: (String, Int, String)? = nil) -> [UInt8] {
        var encoder = ProtobufEncoder()
        if let (family, type, help) = metadata {
            RemoteWriteEncoding.appendMetadata(family: family, type: type, help: help, unit: "", to: &encoder)
        }
        for (labels, samples) in series {
            RemoteWriteEncoding.appendSeries(labels: labels, samples: samples, to: &encoder)
        }
        return Snappy.compress(encoder.bytes)
    }

    static let protobufHeaders: HTTPFields = [
        .contentType: "application/x-protobuf", .contentEncoding: "snappy",
        HTTPField.Name("X-Prometheus-Remote-Write-Version")!: "0.1.0",
    ]

    func post(_ client: some TestClientProtocol, _ bytes: [UInt8], headers: HTTPFields = protobufHeaders) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: "/api/v1/write", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            (response.status, String(buffer: response.body))
        }
    }

    @Test func samplesAreStoredBitForBitAndAnswered204() async throws {
        let fixture = try Fixture()
        let stale = Double(bitPattern: 0x7FF0_0000_0000_0002)
        let request = Self.body([
            ([("__name__", "up"), ("instance", "a:9100"), ("job", "node")], [(1_700_000_000_000, 1), (1_700_000_015_000, 0)]),
            ([("__name__", "temp"), ("room", "b")], [(1_700_000_000_000, .infinity), (1_700_000_015_000, .nan), (1_700_000_030_000, stale)]),
            // Labels out of name order are sorted, as long as no name repeats.
            ([("job", "x"), ("__name__", "unsorted")], [(1_700_000_000_000, -0.0)]),
        ], metadata: ("up", 2, "Whether the target is up."))
        try await fixture.app.test(.router) { client in
            let (status, text) = try await post(client, request)
            #expect(status == .noContent, "\(text)")
        }
        let up = try fixture.store.select(try Self.named("up"), start: 0, end: .max)
        #expect(up.map(\.labels) == [Labels(name: "up", ["instance": "a:9100", "job": "node"])])
        #expect(up.first?.points == [Point(timestamp: 1_700_000_000_000, value: 1), Point(timestamp: 1_700_000_015_000, value: 0)])
        let temp = try fixture.store.select(try Self.named("temp"), start: 0, end: .max)
        #expect(temp.first?.points.map(\.value.bitPattern) == [Double.infinity.bitPattern, Double.nan.bitPattern, stale.bitPattern])
        let unsorted = try fixture.store.select(try Self.named("unsorted"), start: 0, end: .max)
        #expect(unsorted.first?.labels == Labels(name: "unsorted", ["job": "x"]))
        #expect(unsorted.first?.points.first?.value.bitPattern == (-0.0 as Double).bitPattern)
        #expect(fixture.dependencies.catalog.all["up"]?.type == "gauge")
        #expect(fixture.dependencies.catalog.all["up"]?.help == "Whether the target is up.")
        #expect(fixture.counter("tally_remote_write_received_samples_total") == 6)
        #expect(fixture.counter("tally_remote_write_received_series_total") == 3)
    }

    @Test func outOfOrderSamplesAreRefusedWith400AndTheRestKept() async throws {
        let fixture = try Fixture()
        try await fixture.app.test(.router) { client in
            let first = try await post(client, Self.body([([("__name__", "m")], [(2_000, 2)])]))
            #expect(first.0 == .noContent)
            let (status, text) = try await post(client, Self.body([
                ([("__name__", "m")], [(1_000, 1), (3_000, 3)]),      // 1,000 is behind 2,000
                ([("__name__", "m")], [(3_000, 4)]),                  // same time, another value
                ([("__name__", "n")], [(1_000, 1)]),
            ]))
            #expect(status == .badRequest)
            #expect(text.contains("out of order sample: series m at timestamp 1000"), "\(text)")
            #expect(text.contains("1 duplicate_timestamp, 1 out_of_order"), "\(text)")
            #expect(text.contains("2 samples stored"), "\(text)")
        }
        let m = try fixture.store.select(try Self.named("m"), start: 0, end: .max)
        #expect(m.first?.points == [Point(timestamp: 2_000, value: 2), Point(timestamp: 3_000, value: 3)])
        #expect(try fixture.store.select(try Self.named("n"), start: 0, end: .max).count == 1)
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "out_of_order") == 1)
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "duplicate_timestamp") == 1)
    }

    @Test func seriesWithInvalidLabelsAreRefusedAndTheOthersKept() async throws {
        let fixture = try Fixture()
        let cases: [(Series, String, String)] = [
            (([("__name__", "ok"), ("bad-name", "v")], [(1, 1)]), "invalid label name \"bad-name\"", "invalid_labels"),
            (([("__name__", "2xx")], [(1, 1)]), "invalid metric name \"2xx\"", "invalid_labels"),
            (([("job", "no_name")], [(1, 1)]), "no metric name", "missing_metric_name"),
            (([("__name__", "dup"), ("a", "1"), ("a", "2")], [(1, 1)]), "label name \"a\" is given twice", "duplicate_label_name"),
            (([("b", "1"), ("__name__", "dup2"), ("b", "2")], [(1, 1)]), "label name \"b\" is given twice", "duplicate_label_name"),
        ]
        try await fixture.app.test(.router) { client in
            for (series, message, reason) in cases {
                let (status, text) = try await post(client, Self.body([series, ([("__name__", "kept")], [(series.1[0].timestamp, 7)])]))
                #expect(status == .badRequest)
                #expect(text.contains(message), "\(text)")
                #expect(text.contains("1 \(reason)"), "\(text)")
                #expect(text.contains("1 samples stored"), "\(text)")
            }
            // A value that is not UTF-8.
            var encoder = ProtobufEncoder()
            let label = [UInt8(0x0A), 8] + Array("__name__".utf8) + [0x12, 1] + Array("x".utf8)
            let bad = [UInt8(0x0A), 3] + Array("job".utf8) + [0x12, 2, 0xC3, 0x28]
            let sample: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0x05]
            encoder.bytesField(1, [0x0A, UInt8(label.count)] + label + [0x0A, UInt8(bad.count)] + bad + [0x12, UInt8(sample.count)] + sample)
            let (status, text) = try await post(client, Snappy.compress(encoder.bytes))
            #expect(status == .badRequest)
            #expect(text.contains("the value of label job is not valid UTF-8"), "\(text)")
        }
        let kept = try fixture.store.select(try Self.named("kept"), start: 0, end: .max)
        #expect(kept.first?.points.count == 1)
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "invalid_labels") == 3)
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "duplicate_label_name") == 2)
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "missing_metric_name") == 1)
        #expect(fixture.store.series([try LabelMatcher("__name__", .regexMatch, ".+")], start: 0, end: .max).count == 1)
    }

    @Test func seriesPastTheLabelLimitsAreRefusedAndTheOthersKept() async throws {
        var limits = LabelLimits()
        limits.maxLabels = 3
        limits.maxNameBytes = 10
        limits.maxValueBytes = 16
        let fixture = try Fixture(labelLimits: limits)
        let cases: [(Series, String, String)] = [
            (([("__name__", "wide"), ("a", "1"), ("b", "2"), ("c", "3")], [(1, 1)]), "4 labels, more than the 3 allowed", "too_many_labels"),
            (([("__name__", "long_name"), ("abcdefghijk", "1")], [(1, 1)]), "is 11 bytes, more than 10", "label_name_too_long"),
            (([("__name__", "long_value"), ("user", String(repeating: "x", count: 17))], [(1, 1)]), "is 17 bytes, more than 16", "label_value_too_long"),
        ]
        try await fixture.app.test(.router) { client in
            for (series, message, reason) in cases {
                let (status, text) = try await post(client, Self.body([series, ([("__name__", "kept"), ("a", "1")], [(series.1[0].timestamp, 7)])]))
                #expect(status == .badRequest)
                #expect(text.contains(message) && text.contains("1 \(reason)") && text.contains("1 samples stored"), "\(text)")
            }
        }
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "too_many_labels") == 1)
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "label_name_too_long") == 1)
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "label_value_too_long") == 1)
        #expect(fixture.store.series([try LabelMatcher("__name__", .regexMatch, ".+")], start: 0, end: .max).count == 1)
    }

    @Test func aRunawayNameStopsAtItsSeriesLimitAndOtherNamesCarryOn() async throws {
        let fixture = try Fixture(seriesLimits: SeriesLimits(maxSeries: 6, maxSeriesPerMetric: 3))
        @Sendable func user(_ id: Int, _ time: Int64) -> Series { ([("__name__", "logins"), ("user", "u\(id)")], [(time, 1)]) }
        try await fixture.app.test(.router) { client in
            // Five new users in one request: three series are made, two refused; another name is stored.
            let (status, text) = try await post(client, Self.body((0..<5).map { user($0, 1_000) } + [([("__name__", "up")], [(1_000, 1)])]))
            #expect(status == .badRequest)
            #expect(text.contains("logins has 3 series (limits.max_series_per_metric)") && text.contains("2 series_per_metric_limit")
                    && text.contains("4 samples stored"), "\(text)")
            // The series that exist keep taking samples.
            #expect(try await post(client, Self.body([user(0, 2_000), user(2, 2_000)])).0 == .noContent)
            // Two more names fill the store's 6; the next new series of any name is refused.
            #expect(try await post(client, Self.body([([("__name__", "a")], [(1_000, 1)]), ([("__name__", "b")], [(1_000, 1)])])).0 == .noContent)
            let (full, fullText) = try await post(client, Self.body([([("__name__", "c")], [(1_000, 1)])]))
            #expect(full == .badRequest && fullText.contains("the store holds 6 series (limits.max_series)"), "\(fullText)")
        }
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "series_per_metric_limit") == 2)
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "series_limit") == 1)
        // The runaway name is named in /metrics.
        #expect(fixture.counter(#"tally_push_series_limit_per_metric_refused_samples_total{name="logins"}"#) == 2)
        #expect(fixture.store.series(try Self.named("logins"), start: 0, end: .max).count == 3)
    }

    @Test func requestsThatCannotBeReadAreRefusedWhole() async throws {
        let fixture = try Fixture(maxBody: 64 << 10)
        let valid = Self.body([([("__name__", "m")], [(1, 1)])])
        var raw = ProtobufEncoder()
        RemoteWriteEncoding.appendSeries(labels: [(name: "__name__", value: "m")], samples: [(timestamp: 1, value: 1)], to: &raw)
        let big = Snappy.compress([UInt8](repeating: 0, count: 100 << 10))
        var headersV2 = Self.protobufHeaders
        headersV2[.contentType] = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
        var headersGzip = Self.protobufHeaders
        headersGzip[.contentEncoding] = "gzip"
        // A Label whose name claims more bytes than the Label holds, beside a valid series.
        let badLabel = ProtobufWriter.bytes(1, [0x0A, 3, 0x0A, 5, 0x61] + ProtobufWriter.bytes(2, [0x10, 0x05]))
        let badLabelBody = Snappy.compress(raw.bytes + badLabel)
        let cases: [([UInt8], HTTPFields, HTTPResponse.Status, String, String)] = [
            (badLabelBody, Self.protobufHeaders, .badRequest, "runs past the end of its message", "bad_protobuf"),
            ([], Self.protobufHeaders, .badRequest, "empty request body", "empty"),
            (raw.bytes, Self.protobufHeaders, .badRequest, "not snappy", "bad_snappy"),
            (Snappy.compress(Array(raw.bytes.dropLast(3))), Self.protobufHeaders, .badRequest, "invalid prometheus.WriteRequest", "bad_protobuf"),
            (Snappy.compress([0xFF, 0xFF, 0xFF]), Self.protobufHeaders, .badRequest, "invalid prometheus.WriteRequest", "bad_protobuf"),
            (valid, headersV2, .unsupportedMediaType, "io.prometheus.write.v2.request", "unsupported_version"),
            (valid, headersGzip, .unsupportedMediaType, "Content-Encoding \"gzip\"", "unsupported_encoding"),
            (big, Self.protobufHeaders, .contentTooLarge, "decompresses to more than 65536 bytes", "too_large"),
            ([UInt8](repeating: 1, count: 70 << 10), Self.protobufHeaders, .contentTooLarge, "larger than 65536 bytes", "too_large"),
        ]
        try await fixture.app.test(.router) { client in
            for (bytes, headers, expected, message, _) in cases {
                let (status, text) = try await post(client, bytes, headers: headers)
                #expect(status == expected, "\(message): \(text)")
                #expect(text.contains(message), "\(text)")
            }
            // The receiver still takes a valid request afterwards; one with no series is a 204 too.
            #expect(try await post(client, valid).0 == .noContent)
            #expect(try await post(client, Snappy.compress([])).0 == .noContent)
        }
        for reason in ["empty", "bad_snappy", "unsupported_version", "unsupported_encoding"] {
            #expect(fixture.counter("tally_remote_write_rejected_requests_total", reason) == 1, "\(reason)")
        }
        #expect(fixture.counter("tally_remote_write_rejected_requests_total", "bad_protobuf") == 3)
        #expect(fixture.counter("tally_remote_write_rejected_requests_total", "too_large") == 2)
        #expect(fixture.counter("tally_remote_write_received_samples_total") == 1)
    }

    @Test func nativeHistogramsAreRefusedAndCounted() async throws {
        let fixture = try Fixture()
        let series = ProtobufWriter.bytes(1, ProtobufWriter.string(1, "__name__") + ProtobufWriter.string(2, "h"))
            + ProtobufWriter.bytes(4, ProtobufWriter.number(1, 3))
        try await fixture.app.test(.router) { client in
            let (status, text) = try await post(client, Snappy.compress(ProtobufWriter.bytes(1, series)))
            #expect(status == .badRequest)
            #expect(text.contains("native histogram"), "\(text)")
        }
        #expect(fixture.counter("tally_remote_write_rejected_samples_total", "native_histogram") == 1)
    }
}
