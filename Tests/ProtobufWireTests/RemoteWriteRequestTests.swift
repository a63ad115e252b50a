import ProtobufWire
import TallyTestKit
import Testing

/// remote_write 1.0 requests: what the encoder writes, the decoder reads
/// back field by field; hand-built wire bytes (as Prometheus's Go code
/// writes them) decode; damaged bytes are refused with an offset.
@Suite("remote_write WriteRequest decoding and encoding")
struct RemoteWriteRequestTests {
    typealias Pair = (name: String, value: String)

    static func encode(_ series: [([Pair], [(timestamp: Int64, value: Double)])]) -> [UInt8] {
        var encoder = ProtobufEncoder()
        for (labels, samples) in series {
            RemoteWriteEncoding.appendSeries(labels: labels, samples: samples, to: &encoder)
        }
        return encoder.bytes
    }

    static func text(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
    }

    @Test func seriesLabelsAndSamplesRoundTripBitForBit() throws {
        let values: [Double] = [0, -0.0, 1.5, .infinity, -.infinity, .nan, Double(bitPattern: 0x7FF0_0000_0000_0002), .greatestFiniteMagnitude]
        let times: [Int64] = [0, 1, -1, 1_700_000_000_000, .max, .min, 127, 128]
        let body = Self.encode([
            ([("__name__", "up"), ("instance", "a:9100"), ("job", "node")], zip(times, values).map { ($0, $1) }),
            ([("__name__", "empty_series")], []),
            ([("__name__", "ünïcode"), ("v", "\"quoted\"\n")], [(5, 6)]),
        ])
        try body.withUnsafeBytes { raw in
            let request = try RemoteWriteRequest.decode(raw)
            #expect(request.series.count == 3)
            #expect(try RemoteWriteRequest.labels(of: request.series[0], in: raw).count == 3)
            #expect(request.series[1].samples.isEmpty)
            let labels = try RemoteWriteRequest.labels(of: request.series[0], in: raw).map { (Self.text(raw, $0.name), Self.text(raw, $0.value)) }
            #expect(labels.map(\.0) == ["__name__", "instance", "job"])
            #expect(labels.map(\.1) == ["up", "a:9100", "node"])
            let samples = request.samples[request.series[0].samples]
            #expect(samples.map(\.timestamp) == times)
            #expect(samples.map(\.value.bitPattern) == values.map(\.bitPattern))
            let third = try RemoteWriteRequest.labels(of: request.series[2], in: raw).map { Self.text(raw, $0.value) }
            // The label fields' bytes, contiguous, key each series.
            #expect(request.series.allSatisfy { $0.labelBytes != nil })
            #expect(third == ["ünïcode", "\"quoted\"\n"])
        }
    }

    /// The bytes Go's prompb marshals for `up{job="x"} 1 @ 1000`, written out by hand.
    @Test func bytesAsPrometheusWritesThemDecode() throws {
        let label1: [UInt8] = [0x0A, 8] + Array("__name__".utf8) + [0x12, 2] + Array("up".utf8)
        let label2: [UInt8] = [0x0A, 3] + Array("job".utf8) + [0x12, 1] + Array("x".utf8)
        let sample: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0xE8, 0x07]
        let series: [UInt8] = [0x0A, UInt8(label1.count)] + label1 + [0x0A, UInt8(label2.count)] + label2
            + [0x12, UInt8(sample.count)] + sample
        let body: [UInt8] = [0x0A, UInt8(series.count)] + series
        #expect(body == Self.encode([([("__name__", "up"), ("job", "x")], [(1000, 1)])]))
        try body.withUnsafeBytes { raw in
            let request = try RemoteWriteRequest.decode(raw)
            #expect(request.samples.map(\.timestamp) == [1000])
            #expect(request.samples.map(\.value) == [1])
        }
    }

    @Test func metadataIsRead() throws {
        var encoder = ProtobufEncoder()
        RemoteWriteEncoding.appendMetadata(family: "http_requests_total", type: 1, help: "Requests.", unit: "", to: &encoder)
        RemoteWriteEncoding.appendSeries(labels: [(name: "__name__", value: "x")], samples: [(timestamp: 1, value: 2)], to: &encoder)
        try encoder.bytes.withUnsafeBytes { raw in
            let request = try RemoteWriteRequest.decode(raw)
            #expect(request.metadata.count == 1)
            #expect(request.metadata[0].type == 1)
            #expect(Self.text(raw, request.metadata[0].family) == "http_requests_total")
            #expect(Self.text(raw, request.metadata[0].help) == "Requests.")
            #expect(request.series.count == 1)
        }
    }

    /// Fields a newer schema adds (exemplars, histograms, fields unknown to
    /// 1.0) are skipped, and histograms and exemplars counted.
    @Test func unknownFieldsAreSkippedAndHistogramsCounted() throws {
        var series = ProtobufWriter.bytes(1, ProtobufWriter.string(1, "__name__") + ProtobufWriter.string(2, "m"))
        series += ProtobufWriter.bytes(3, ProtobufWriter.number(2, 7))        // an exemplar
        series += ProtobufWriter.bytes(4, ProtobufWriter.number(1, 3))        // a native histogram
        series += ProtobufWriter.number(9, 1)                                 // unknown varint
        series += ProtobufWriter.bytes(2, [0x09, 0, 0, 0, 0, 0, 0, 0, 0] + [0x10, 5] + ProtobufWriter.number(7, 1))
        let body = ProtobufWriter.bytes(1, series) + ProtobufWriter.number(15, 99) + [0x1D, 1, 2, 3, 4] // fixed32 field 3
        // Label fields interrupted by another field are no key, but still decode.
        let split = ProtobufWriter.bytes(1, ProtobufWriter.string(1, "a") + ProtobufWriter.string(2, "1"))
            + ProtobufWriter.number(9, 1) + ProtobufWriter.bytes(1, ProtobufWriter.string(1, "b") + ProtobufWriter.string(2, "2"))
        try ProtobufWriter.bytes(1, split).withUnsafeBytes { raw in
            let request = try RemoteWriteRequest.decode(raw)
            #expect(request.series[0].labelBytes == nil)
            #expect(try RemoteWriteRequest.labels(of: request.series[0], in: raw).count == 2)
        }
        // Field 3 with a fixed32 wire type is not metadata: refused as the wrong wire type.
        #expect(throws: ProtobufError.self) { try body.withUnsafeBytes { _ = try RemoteWriteRequest.decode($0) } }
        let valid = ProtobufWriter.bytes(1, series) + ProtobufWriter.number(15, 99) + [0x25, 1, 2, 3, 4] // fixed32 field 4
        try valid.withUnsafeBytes { raw in
            let request = try RemoteWriteRequest.decode(raw)
            #expect(request.series.count == 1)
            #expect(request.series[0].histograms == 1)
            #expect(request.series[0].exemplars == 1)
            #expect(request.samples.map(\.timestamp) == [5])
        }
    }

    @Test func truncatedBodiesAreRefusedWithTheirOffset() {
        let body = Self.encode([([("__name__", "up"), ("job", "node")], [(1000, 1), (2000, 2)])])
        var refused = 0
        for cut in 1..<body.count {
            let prefix = Array(body[..<cut])
            do {
                _ = try prefix.withUnsafeBytes { try RemoteWriteRequest.decode($0) }
            } catch let error as ProtobufError {
                refused += 1
                #expect(error.offset <= cut)
                #expect(!error.message.isEmpty)
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        // Every proper prefix cuts the one top-level message short.
        #expect(refused == body.count - 1)
    }

    @Test func damagedBodiesDecodeOrAreRefusedWithoutCrashing() {
        let body = Self.encode((0..<20).map { i in ([("__name__", "m\(i)"), ("k", "v")], [(Int64(i), Double(i))]) })
        var mutator = Mutator(seed: 1313)
        var refused = 0
        for round in 0..<20_000 {
            let input = round % 10 == 9 ? mutator.garbage(maxCount: 300) : mutator.mutate(body)
            do {
                let request = try input.withUnsafeBytes { try RemoteWriteRequest.decode($0) }
                // Whatever decodes stays inside the input.
                input.withUnsafeBytes { raw in
                    for series in request.series {
                        guard let labels = try? RemoteWriteRequest.labels(of: series, in: raw) else { continue }
                        #expect(labels.allSatisfy { $0.name.upperBound <= input.count && $0.value.upperBound <= input.count })
                        #expect(series.message.upperBound <= input.count)
                    }
                }
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0)
    }

    @Test func varintSizesMatchTheEncoding() {
        for value: UInt64 in [0, 1, 127, 128, 16_383, 16_384, 1 << 35, .max] {
            var encoder = ProtobufEncoder()
            encoder.varint(value)
            #expect(encoder.bytes.count == ProtobufEncoder.varintSize(value))
        }
    }
}
