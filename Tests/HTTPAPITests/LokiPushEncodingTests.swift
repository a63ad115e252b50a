import ProtobufWire
import SwiftProtobuf
import TallyTestKit
import Testing

@testable import HTTPAPI

/// The Loki push request tally sends is what a Loki push decoder reads:
/// labels with quotes and escapes, times before and after 1970 to the
/// nanosecond, lines with any bytes, structured metadata.
@Suite("Loki push encoding")
struct LokiPushEncodingTests {
    @Test func anEncodedPushDecodesToWhatWasEncoded() throws {
        var arena: [UInt8] = []
        arena += Array("first line".utf8)
        let lineOne = 0..<arena.count
        let metadataStart = arena.count
        Array("trace_id".utf8).withUnsafeBytes { name in
            Array("4bf92f35".utf8).withUnsafeBytes { value in LokiPushEncoding.appendMetadata(name: name, value: value, to: &arena) }
        }
        let metadata = metadataStart..<arena.count
        let lineTwoStart = arena.count
        arena += Array("tab\there \"quoted\" é".utf8)
        let lineTwo = lineTwoStart..<arena.count

        var encoder = ProtobufEncoder()
        let labels = LokiPushEncoding.labelText([(name: "app", value: #"say "hi"\now"#), (name: "env", value: "line\nbreak")])
        LokiPushEncoding.appendStream(labelText: labels, entries: [
            .init(nanos: 1_795_824_000_123_456_789, line: arena[lineOne], metadata: arena[metadata]),
            .init(nanos: -1_500_000_000, line: arena[lineTwo]),
            .init(nanos: 0, line: []),
        ], to: &encoder)
        LokiPushEncoding.appendStream(labelText: LokiPushEncoding.labelText([(name: "app", value: "b")]), entries: [], to: &encoder)

        let streams = try LokiPushProtobuf.decode(encoder.bytes)
        #expect(streams.count == 2)
        #expect(streams[0].labels.map { "\($0.0)=\($0.1)" } == [#"app=say "hi"\now"#, "env=line\nbreak"])
        #expect(streams[0].entries.map(\.nanos) == [1_795_824_000_123_456_789, -1_500_000_000, 0])
        #expect(streams[0].entries.map(\.line) == ["first line", "tab\there \"quoted\" é", ""])
        #expect(streams[0].entries[0].metadata.map { "\($0.0)=\($0.1)" } == ["trace_id=4bf92f35"])
        #expect(streams[0].entries[1].metadata.isEmpty)
        #expect(streams[1].labels.map { "\($0.0)=\($0.1)" } == ["app=b"] && streams[1].entries.isEmpty)
    }

    @Test func aPushFromGeneratedCodeDecodesWithTheHandWrittenReader() throws {
        var request = Logproto_PushRequest()
        var stream = Logproto_StreamAdapter()
        stream.labels = #"{job="promtail", path="C:\\logs\\a.log", note="say \"hi\""}"#
        for (k, line) in ["one", "", "tab\tand ünïcode"].enumerated() {
            var entry = Logproto_EntryAdapter()
            entry.timestamp = Google_Protobuf_Timestamp(seconds: 1_795_824_000 + Int64(k), nanos: Int32(k * 1_000))
            entry.line = line
            if k == 0 {
                var pair = Logproto_LabelPairAdapter()
                pair.name = "trace_id"
                pair.value = "abc"
                entry.structuredMetadata = [pair]
            }
            stream.entries.append(entry)
        }
        request.streams = [stream]
        let streams = try LokiPushProtobuf.decode(try request.serializedBytes())
        let decoded = try #require(streams.first)
        #expect(decoded.labels.map { "\($0.0)=\($0.1)" } == ["job=promtail", #"path=C:\logs\a.log"#, #"note=say "hi""#])
        #expect(decoded.entries.map(\.nanos) == [1_795_824_000_000_000_000, 1_795_824_001_000_001_000, 1_795_824_002_000_002_000])
        #expect(decoded.entries.map(\.line) == ["one", "", "tab\tand ünïcode"])
        #expect(decoded.entries[0].metadata.map { "\($0.0)=\($0.1)" } == ["trace_id=abc"])
    }
}
