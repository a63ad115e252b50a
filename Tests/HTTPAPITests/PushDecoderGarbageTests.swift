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
        func varint(_ value: UInt64) -> [UInt8] {
            var v = value
            var out: [UInt8] = []
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            return out + [UInt8(v)]
        }
        func bytes(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] { varint(field << 3 | 2) + varint(UInt64(payload.count)) + payload }
        func number(_ field: UInt64, _ value: UInt64) -> [UInt8] { varint(field << 3) + varint(value) }
        let entry = bytes(1, number(1, 1_764_400_000) + number(2, 123_456_789)) + bytes(2, Array("a line".utf8))
            + bytes(3, bytes(1, Array("trace_id".utf8)) + bytes(2, Array("abc".utf8)))
        let first = bytes(1, Array(#"{job="promtail", level="WARN"}"#.utf8)) + bytes(2, entry) + bytes(2, entry) + number(3, 42)
        let second = bytes(1, Array(#"{service="edge"}"#.utf8)) + bytes(2, entry)
        return bytes(1, first) + bytes(1, second)
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
