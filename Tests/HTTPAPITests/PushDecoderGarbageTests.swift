import BlockCodec
import TallyTestKit
import Testing
@testable import HTTPAPI

/// A damaged Loki protobuf push, or damaged snappy around it, is refused with a
/// reason: the decoders never crash, loop or allocate what the input claims.
@Suite("Loki push decoders on damaged bodies")
struct PushDecoderGarbageTests {
    /// A PushRequest with two streams, as Promtail encodes it.
    static let push: [UInt8] = {
        let entry = ProtobufWriter.lokiEntry(seconds: 1_764_400_000, nanos: 123_456_789, line: "a line", metadata: [("trace_id", "abc")])
        let first = ProtobufWriter.lokiStream(#"{job="promtail", level="WARN"}"#, [entry, entry]) + ProtobufWriter.number(3, 42)
        let second = ProtobufWriter.lokiStream(#"{service="edge"}"#, [entry])
        return ProtobufWriter.bytes(1, first) + ProtobufWriter.bytes(1, second)
    }()

    @Test func theUndamagedPushDecodes() throws {
        let streams = try LokiPushProtobuf.decode(Self.push)
        #expect(streams.count == 2)
        #expect(streams[0].entries.count == 2)
    }

    @Test func damagedPushesDecodeOrAreRefused() {
        var mutator = Mutator(seed: 5005)
        var refused = 0
        for round in 0..<10_000 {
            let body = round % 10 == 9 ? mutator.garbage(maxCount: 400) : mutator.mutate(Self.push)
            if (try? LokiPushProtobuf.decode(body)) == nil { refused += 1 }
        }
        #expect(refused > 0)
    }

    @Test func damagedSnappyIsRefused() {
        var mutator = Mutator(seed: 6006)
        let compressed = Snappy.compress(Self.push + Self.push + Self.push)
        for round in 0..<10_000 {
            let body = round % 10 == 9 ? mutator.garbage(maxCount: 400) : mutator.mutate(compressed)
            let result = body.withUnsafeBytes { Snappy.decompress($0, limit: 1 << 20) }
            if case .success(let bytes) = result { #expect(bytes.count <= 1 << 20) }
        }
    }
}
