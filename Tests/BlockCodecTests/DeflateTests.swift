import Testing
import BlockCodec

@Suite("zlib from libz")
struct DeflateTests {
    @Test func roundTripsAndShrinksRepetitiveBytes() throws {
        let input = [UInt8]((0..<10_000).map { UInt8($0 % 7) })
        let packed = Deflate.compress(input, level: 6)
        #expect(packed.count < input.count / 10)
        let back = try packed.withUnsafeBytes { try Deflate.decompress($0, expectedLength: input.count) }
        #expect(back == input)
    }

    @Test func corruptOrWrongLengthIsAnError() {
        let packed = Deflate.compress([UInt8](repeating: 1, count: 1000), level: 1)
        var flipped = packed
        flipped[flipped.count / 2] ^= 0xFF
        #expect(throws: CodecError.self) { try flipped.withUnsafeBytes { try Deflate.decompress($0, expectedLength: 1000) } }
        #expect(throws: CodecError.self) { try packed.withUnsafeBytes { try Deflate.decompress($0, expectedLength: 999) } }
    }
}
