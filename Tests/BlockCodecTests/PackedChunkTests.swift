import TallyTestKit
import Testing
@testable import BlockCodec

@Suite("Block chunk encodings")
struct PackedChunkTests {
    @Test(arguments: encodingFixtures)
    func roundTripsBitForBit(_ fixture: SeriesFixture) throws {
        var bytes: [UInt8] = [0xAA] // something before, to check offsets
        PackedChunk.encode(timestamps: fixture.timestamps[...], values: fixture.values[...], into: &bytes)
        bytes.append(0x55)
        var timestamps: [Int64] = []
        var values: [Double] = []
        var offset = 1
        try bytes.withUnsafeBytes { raw in
            try PackedChunk.decode(raw, at: &offset, timestamps: &timestamps, values: &values)
        }
        #expect(offset == bytes.count - 1)
        #expect(timestamps == fixture.timestamps)
        #expect(values.map(\.bitPattern) == fixture.values.map(\.bitPattern))
    }

    @Test func choosesTheSmallestLosslessEncoding() {
        func choice(_ values: [Double], _ times: [Int64]? = nil) -> PackedChunk.Choice {
            var out: [UInt8] = []
            return PackedChunk.encode(timestamps: (times ?? regularTimes(values.count))[...], values: values[...], into: &out)
        }
        #expect(choice([3, 3, 3]) == .init(time: .regular, value: .constant))
        #expect(choice([-0.0, -0.0]).value == .constant)
        #expect(choice([0.0, -0.0]).value == .xor) // -0.0 is not an integer here
        #expect(choice([1, 5, 9, 14, 18]).value == .integerDelta)
        #expect(choice((0..<20).map { Double($0 * 100) }).value == .integerDelta) // residuals all zero
        #expect(choice((0..<20).map { Double($0 * $0 * 1_000 + $0 % 2) }).value == .integerDeltaOfDelta)
        #expect(choice([0.25, 0.5, 0.75]).value == .decimalDelta)
        #expect(choice([0.1 + 0.2, 0.3]).value == .xor)
        #expect(choice([1.5, .nan]).value == .xor)
        var sum = 4_578_647.334142093
        let sums = (0..<500).map { i in sum += 40 + Double(i % 13) * 0.731; return sum }
        #expect(choice(sums).value == .floatPlanes)
        #expect(choice([1, 2], [1, 2]).time == .regular)
        #expect(choice([1, 2, 3], [1, 2, 4]).time == .deltaOfDelta)
    }

    @Test func noisyCountersAndPageSizedGaugesStoreSmallResiduals() {
        var rng = SplitMix64(seed: 3)
        var counter = 1_000_000.0
        let noisy = (0..<1_000).map { _ in counter += Double(700 + Int.random(in: -40...40, using: &rng)); return counter }
        var memory = 400_000_000.0
        let pages = (0..<1_000).map { _ in memory += Double(4_096 * Int.random(in: -60...63, using: &rng)); return memory }
        for values in [noisy, pages] {
            var out: [UInt8] = []
            PackedChunk.encode(timestamps: regularTimes(values.count)[...], values: values[...], into: &out)
            // About one byte per sample: the residuals fit in a one-byte varint.
            #expect(out.count < values.count * 11 / 10 + 32)
        }
    }

    /// The predicted encodings divide a window's sum by its length, rounding
    /// down: falling series make the sums negative, where rounding toward zero
    /// would decode wrong values.
    @Test func predictedEncodingsRoundTripFallingSeries() throws {
        var rng = SplitMix64(seed: 11)
        var level = 9_000_000
        let falling = (0..<2_000).map { i in
            level -= 300 + i / 4 + Int.random(in: -45...45, using: &rng); return level
        }
        let integers = falling.map { Double($0) }
        let decimals = falling.map { Double($0) / 100 }
        var sum = -4_578_647.334142093
        let floats = (0..<2_000).map { i in sum -= 40 + Double(i % 13) * 0.731; return sum }
        let expected: [(PackedChunk.ValueEncoding, [Double])] = [
            (.integerPredicted, integers), (.decimalPredicted, decimals), (.floatPlanes, floats),
        ]
        for (encoding, values) in expected {
            var bytes: [UInt8] = []
            let choice = PackedChunk.encode(timestamps: regularTimes(values.count)[...], values: values[...], into: &bytes)
            #expect(choice.value == encoding)
            var t: [Int64] = []
            var v: [Double] = []
            var offset = 0
            try bytes.withUnsafeBytes { try PackedChunk.decode($0, at: &offset, timestamps: &t, values: &v) }
            #expect(v.map(\.bitPattern) == values.map(\.bitPattern))
        }
    }

    @Test func damagedBytesThrow() {
        var bytes: [UInt8] = []
        PackedChunk.encode(timestamps: regularTimes(100)[...], values: (0..<100).map { Double($0) * 0.1 + 1e-7 }[...], into: &bytes)
        for cut in [0, 1, 2, bytes.count / 2, bytes.count - 1] {
            let truncated = Array(bytes.prefix(cut))
            #expect(throws: CodecError.self) {
                var t: [Int64] = []
                var v: [Double] = []
                var offset = 0
                try truncated.withUnsafeBytes { try PackedChunk.decode($0, at: &offset, timestamps: &t, values: &v) }
            }
        }
        var unknown = bytes
        unknown[0] = 0x0F
        #expect(throws: CodecError.self) {
            var t: [Int64] = []
            var v: [Double] = []
            var offset = 0
            try unknown.withUnsafeBytes { try PackedChunk.decode($0, at: &offset, timestamps: &t, values: &v) }
        }
    }
}
