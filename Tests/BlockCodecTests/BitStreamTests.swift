import TallyTestKit
import Testing
import BlockCodec

@Suite("Bit stream and varints")
struct BitStreamTests {
    @Test func writesAndReadsEveryWidth() throws {
        var writer = BitWriter()
        var rng = SplitMix64(seed: 7)
        var written: [(UInt64, Int)] = []
        for width in 0...64 {
            let value = width == 64 ? rng.next() : rng.next() & ((1 << UInt64(width)) - 1)
            writer.writeBits(value, count: width)
            written.append((value, width))
        }
        #expect(writer.bitCount == (0...64).reduce(0, +))
        let (read, overrun) = writer.bytes.withUnsafeBytes { raw -> ([UInt64], Bool) in
            var reader = BitReader(raw, bitCount: writer.bitCount)
            let read = written.map { (try? reader.readBits($0.1)) ?? 0xDEAD }
            return (read, (try? reader.readBit()) == nil)
        }
        #expect(read == written.map(\.0))
        #expect(overrun)
    }

    @Test func varintsRoundTripAtTheExtremes() throws {
        let values: [Int64] = [0, 1, -1, 63, -64, 64, Int64.max, Int64.min, 1 << 35]
        var bytes: [UInt8] = []
        for v in values { Varint.appendSigned(v, to: &bytes) }
        let (read, consumed) = bytes.withUnsafeBytes { raw -> ([Int64?], Int) in
            var offset = 0
            return (values.map { _ in try? Varint.readSigned(raw, at: &offset) }, offset)
        }
        #expect(read == values)
        #expect(consumed == bytes.count)
        #expect(Varint.size(0) == 1 && Varint.size(127) == 1 && Varint.size(128) == 2 && Varint.size(UInt64.max) == 10)
        let endless = [UInt8](repeating: 0xFF, count: 11)
        #expect(throws: CodecError.self) { try endless.withUnsafeBytes { var o = 0; _ = try Varint.read($0, at: &o) } }
    }
}
