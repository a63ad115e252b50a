import TallyTestKit
import Testing
@testable import BlockCodec

@Suite("Head chunk: Gorilla timestamps, XOR or integer values")
struct HeadChunkTests {
    /// Every fixture the head could hold (a chunk spans less than 2^32 ms), in both codings.
    static let headFixtures = encodingFixtures.filter { ($0.timestamps.last ?? 0) &- ($0.timestamps.first ?? 0) < 1 << 32 }

    @Test(arguments: headFixtures, [true, false])
    func roundTripsBitForBit(_ fixture: SeriesFixture, integers: Bool) throws {
        var chunk = HeadChunk(integers: integers)
        for (t, v) in zip(fixture.timestamps, fixture.values) { chunk.append(t, v) }
        #expect(chunk.count == fixture.values.count)
        #expect(chunk.minTime == fixture.timestamps.first)
        #expect(chunk.maxTime == fixture.timestamps.last)
        #expect(chunk.lastValue.bitPattern == fixture.values.last?.bitPattern)
        let decoded = try decode(chunk)
        #expect(decoded.map(\.0) == fixture.timestamps)
        #expect(decoded.map(\.1.bitPattern) == fixture.values.map(\.bitPattern))
    }

    /// A chunk is integer coded exactly when every value is an integer within
    /// 2^31 of the one before; otherwise its bytes are those of a chunk that
    /// was XOR from the start (it was recoded when the first such value came).
    @Test(arguments: headFixtures)
    func integerCodedOnlyWhileEveryValueFits(_ fixture: SeriesFixture) {
        var chunk = HeadChunk()
        var xor = HeadChunk(integers: false)
        for (t, v) in zip(fixture.timestamps, fixture.values) {
            chunk.append(t, v)
            xor.append(t, v)
        }
        let integers = fixture.values.map { value -> Int64? in
            guard let integer = Int64(exactly: value), Double(integer).bitPattern == value.bitPattern else { return nil }
            return integer
        }
        var fits = !integers.contains(nil)
        if fits {
            for (a, b) in zip(integers, integers.dropFirst()) {
                let (d, overflow) = b!.subtractingReportingOverflow(a!)
                if overflow || Int32(exactly: d) == nil { fits = false }
            }
        }
        #expect(chunk.encoding == (fits ? .integer : .xor))
        if !fits { #expect(chunk.bytes == xor.bytes) }
        #expect(xor.encoding == .xor)
    }

    @Test func regularSamplesCostAboutTwoBitsEach() {
        var xor = HeadChunk(integers: false)
        var integer = HeadChunk()
        for t in regularTimes(120) {
            xor.append(t, 7)
            integer.append(t, 7)
        }
        // The encoding byte and 16 bytes for the first sample; the first delta
        // in the 17-bit bucket (20 bits) and the first value change (1 bit as
        // XOR, a 6-bit length of zero as an integer); then a bit of timestamp
        // and a bit of value each.
        #expect(xor.bytes.count == 1 + 16 + (20 + 1 + 118 * 2 + 7) / 8)
        #expect(integer.encoding == .integer)
        #expect(integer.bytes.count == 1 + 16 + (20 + 6 + 118 * 2 + 7) / 8)
    }

    /// A counter that grows at a steady rate costs what a constant does; one
    /// that grows by a random amount up to 1,000 a sample (the head memory
    /// benchmark's) about 13 bits, where XOR spends about 20.
    @Test func integerCodingIsSmallForCounters() {
        var steady = HeadChunk()
        var steadyXOR = HeadChunk(integers: false)
        var noisy = HeadChunk()
        var noisyXOR = HeadChunk(integers: false)
        var rng = SplitMix64(seed: 7)
        var total = 1_000.0
        for (k, t) in regularTimes(120).enumerated() {
            steady.append(t, Double(5_000 + 125 * k))
            steadyXOR.append(t, Double(5_000 + 125 * k))
            total += Double(Int.random(in: 0...1_000, using: &rng))
            noisy.append(t, total)
            noisyXOR.append(t, total)
        }
        #expect(steady.bytes.count <= 1 + 16 + (20 + 14 + 118 * 2 + 20 + 7) / 8, "\(steady.bytes.count) bytes")
        #expect(steadyXOR.bytes.count > 2 * steady.bytes.count)
        #expect(noisy.bytes.count * 8 <= 17 * 8 + 119 * 14, "\(noisy.bytes.count) bytes")
        #expect(noisy.bytes.count * 4 <= noisyXOR.bytes.count * 3, "\(noisy.bytes.count) against \(noisyXOR.bytes.count)")
    }

    /// The encoder's own count stops at 65,535 (the head never gets near);
    /// a chunk past it still counts, codes and decodes every sample.
    @Test(arguments: [true, false])
    func aChunkPastSixtyFiveThousandSamplesKeepsThemAll(integers: Bool) throws {
        var chunk = HeadChunk(integers: integers)
        let times = regularTimes(70_000)
        let values = (0..<70_000).map { Double($0 % 977) * (integers ? 4 : 0.25) }
        for (t, v) in zip(times, values) { chunk.append(t, v) }
        #expect(chunk.count == 70_000)
        #expect(chunk.encoding == (integers ? .integer : .xor))
        let decoded = try decode(chunk)
        #expect(decoded.map(\.0) == times)
        #expect(decoded.map(\.1) == values)
    }

    @Test(arguments: [1.37, 1])
    func truncatedStreamThrowsInsteadOfTrapping(step: Double) throws {
        var chunk = HeadChunk()
        for (t, v) in zip(regularTimes(50), (0..<50).map { Double($0 * $0) * step }) { chunk.append(t, v) }
        let cut = Array(chunk.bytes.prefix(chunk.bytes.count / 2))
        #expect(throws: CodecError.self) {
            try cut.withUnsafeBytes { raw in
                var decoder = try HeadChunkDecoder(raw, count: 50)
                while try decoder.next() != nil {}
            }
        }
    }

    @Test func anUnknownEncodingByteIsRefused() {
        var chunk = HeadChunk()
        chunk.append(1, 1)
        var bytes = chunk.bytes
        bytes[0] = 9
        #expect(throws: CodecError(.unknownEncoding(9), offset: 0)) {
            try bytes.withUnsafeBytes { raw in _ = try HeadChunkDecoder(raw, count: 1) }
        }
    }

    private func decode(_ chunk: HeadChunk) throws -> [(Int64, Double)] {
        try chunk.bytes.withUnsafeBytes { raw in
            var decoder = try HeadChunkDecoder(raw, count: chunk.count)
            var out: [(Int64, Double)] = []
            while let sample = try decoder.next() { out.append(sample) }
            return out
        }
    }
}
