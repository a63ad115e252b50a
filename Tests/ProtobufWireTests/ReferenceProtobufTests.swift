import ProtobufWire
import SwiftProtobuf
import TallyTestKit
import Testing

/// tally's hand-written remote_write and Loki push codecs against
/// swift-protobuf's generated code for the same messages
/// (`.ci/proto`, `.ci/gen-test-protos`): what one writes, the other reads,
/// field for field and bit for bit.
@Suite("Hand-written codecs against swift-protobuf")
struct ReferenceProtobufTests {
    static let values: [Double] = [0, -0.0, 1.5, .infinity, -.infinity, .nan, Double(bitPattern: 0x7FF0_0000_0000_0002), 1e-300]
    static let times: [Int64] = [0, 1, -1, 1_700_000_000_000, .max, .min, 127, 128]

    static func text(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
    }

    @Test func aWriteRequestFromGeneratedCodeDecodesWithTheHandWrittenReader() throws {
        var request = Prometheus_WriteRequest()
        for s in 0..<20 {
            var series = Prometheus_TimeSeries()
            series.labels = [("__name__", "metric_\(s)"), ("instance", "host-\(s % 3):9100"), ("note", s == 7 ? "ünïcode \"q\"\n" : "")]
                .map { name, value in
                    var label = Prometheus_Label()
                    label.name = name
                    label.value = value
                    return label
                }
            series.samples = (0..<(s % 5)).map { k in
                var sample = Prometheus_Sample()
                sample.timestamp = Self.times[(s + k) % Self.times.count]
                sample.value = Self.values[(s * 3 + k) % Self.values.count]
                return sample
            }
            request.timeseries.append(series)
        }
        var metadata = Prometheus_MetricMetadata()
        metadata.type = .histogram
        metadata.metricFamilyName = "http_request_duration_seconds"
        metadata.help = "Latency."
        metadata.unit = "seconds"
        request.metadata = [metadata]
        let bytes: [UInt8] = try request.serializedBytes()

        try bytes.withUnsafeBytes { raw in
            let decoded = try RemoteWriteRequest.decode(raw)
            #expect(decoded.series.count == 20)
            for (series, expected) in zip(decoded.series, request.timeseries) {
                let labels = try RemoteWriteRequest.labels(of: series, in: raw).map { (Self.text(raw, $0.name), Self.text(raw, $0.value)) }
                // proto3 leaves an empty string out: the generated code does not write the empty value's field.
                #expect(labels.map { "\($0.0)=\($0.1)" } == expected.labels.map { "\($0.name)=\($0.value)" })
                let samples = decoded.samples[series.samples]
                #expect(samples.map(\.timestamp) == expected.samples.map(\.timestamp))
                #expect(samples.map(\.value.bitPattern) == expected.samples.map(\.value.bitPattern))
            }
            let meta = try #require(decoded.metadata.first)
            #expect(RemoteWriteRequest.metricTypeNames[meta.type] == "histogram")
            #expect(Self.text(raw, meta.family) == "http_request_duration_seconds" && Self.text(raw, meta.help) == "Latency.")
            #expect(Self.text(raw, meta.unit) == "seconds")
        }
    }

    @Test func aWriteRequestFromTheHandWrittenEncoderDecodesWithGeneratedCode() throws {
        var encoder = ProtobufEncoder()
        var expected: [(labels: [(name: String, value: String)], samples: [(timestamp: Int64, value: Double)])] = []
        for s in 0..<10 {
            let labels = [(name: "__name__", value: "m\(s)"), (name: "job", value: s == 3 ? "é\t\"x\"" : "api")]
            let samples = (0..<s).map { k in (timestamp: Self.times[k % Self.times.count], value: Self.values[(s + k) % Self.values.count]) }
            RemoteWriteEncoding.appendSeries(labels: labels, samples: samples, to: &encoder)
            expected.append((labels, samples))
        }
        let fields = RemoteWriteEncoding.labelFields([(name: "__name__", value: "one"), (name: "a", value: "b")])
        RemoteWriteEncoding.appendSeries(labelFields: fields, timestamp: 42, value: 0.25, to: &encoder)
        RemoteWriteEncoding.appendMetadata(family: "one", type: 2, help: "A gauge.", unit: "", to: &encoder)

        let request = try Prometheus_WriteRequest(serializedBytes: encoder.bytes)
        #expect(request.timeseries.count == 11)
        for (series, want) in zip(request.timeseries, expected) {
            #expect(series.labels.map { "\($0.name)=\($0.value)" } == want.labels.map { "\($0.name)=\($0.value)" })
            #expect(series.samples.map(\.timestamp) == want.samples.map(\.timestamp))
            #expect(series.samples.map(\.value.bitPattern) == want.samples.map(\.value.bitPattern))
        }
        let last = request.timeseries[10]
        #expect(last.labels.map(\.value) == ["one", "b"] && last.samples.map(\.timestamp) == [42] && last.samples.map(\.value) == [0.25])
        #expect(request.metadata.map(\.metricFamilyName) == ["one"] && request.metadata.first?.type == .gauge)
        #expect(request.metadata.first?.help == "A gauge.")
    }

    @Test func aLokiPushFromTheHandWrittenEncoderDecodesWithGeneratedCode() throws {
        var arena: [UInt8] = Array("first line".utf8)
        let metadataStart = arena.count
        Array("trace_id".utf8).withUnsafeBytes { name in
            Array("4bf92f35".utf8).withUnsafeBytes { value in LokiPushEncoding.appendMetadata(name: name, value: value, to: &arena) }
        }
        var encoder = ProtobufEncoder()
        let labels = LokiPushEncoding.labelText([(name: "app", value: #"a "b"\c"#), (name: "env", value: "x\ny")])
        LokiPushEncoding.appendStream(labelText: labels, entries: [
            .init(nanos: 1_795_824_000_123_456_789, line: arena[0..<metadataStart], metadata: arena[metadataStart...]),
            .init(nanos: -1_500_000_000, line: ArraySlice("ünïcode".utf8)),
            .init(nanos: 0, line: []),
        ], to: &encoder)

        let request = try Logproto_PushRequest(serializedBytes: encoder.bytes)
        let stream = try #require(request.streams.first)
        #expect(stream.labels == #"{app="a \"b\"\\c", env="x\ny"}"#)
        #expect(stream.entries.map { "\($0.timestamp.seconds).\($0.timestamp.nanos)" } == ["1795824000.123456789", "-2.500000000", "0.0"])
        #expect(stream.entries.map(\.line) == ["first line", "ünïcode", ""])
        #expect(stream.entries[0].structuredMetadata.map { "\($0.name)=\($0.value)" } == ["trace_id=4bf92f35"])
    }
}
