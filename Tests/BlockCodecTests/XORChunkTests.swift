import Testing
@testable import BlockCodec

@Suite("Gorilla head chunk")
struct XORChunkTests {
    @Test(arguments: encodingFixtures)
    func roundTripsBitForBit(_ fixture: SeriesFixture) throws {
        var chunk = XORChunk()
        for (t, v) in zip(fixture.timestamps, fixture.values) { chunk.append(t, v) }
        #expect(chunk.count == fixture.values.count)
        #expect(chunk.minTime == fixture.timestamps.first)
        #expect(chunk.maxTime == fixture.timestamps.last)
        let decoded = try decode(chunk)
        #expect(decoded.map(\.0) == fixture.timestamps)
        #expect(decoded.map(\.1.bitPattern) == fixture.values.map(\.bitPattern))
    }

    @Test func regularSamplesCostAboutTwoBitsEach() {
        var chunk = XORChunk()
        for t in regularTimes(120) { chunk.append(t, 7) }
        // 16 bytes for the first sample; the first delta in the 17-bit bucket
        // (20 bits) and 1 bit of value; then 1 bit of timestamp and 1 of value each.
        #expect(chunk.bytes.count == 16 + (20 + 1 + 118 * 2 + 7) / 8)
    }

    /// The encoder's own count stops at 65,535 (the head never gets near);
    /// a chunk past it still counts, codes and decodes every sample.
    @Test func aChunkPastSixtyFiveThousandSamplesKeepsThemAll() throws {
        var chunk = XORChunk()
        let times = regularTimes(70_000)
        let values = (0..<70_000).map { Double($0 % 977) * 0.25 }
        for (t, v) in zip(times, values) { chunk.append(t, v) }
        #expect(chunk.count == 70_000)
        let decoded = try decode(chunk)
        #expect(decoded.map(\.0) == times)
        #expect(decoded.map(\.1) == values)
    }

    @Test func truncatedStreamThrowsInsteadOfTrapping() throws {
        var chunk = XORChunk()
        for (t, v) in zip(regularTimes(50), (0..<50).map { Double($0) * 1.37 }) { chunk.append(t, v) }
        let cut = Array(chunk.bytes.prefix(chunk.bytes.count / 2))
        #expect(throws: CodecError.self) {
            try cut.withUnsafeBytes { raw in
                var decoder = XORDecoder(raw, count: 50)
                while try decoder.next() != nil {}
            }
        }
    }

    private func decode(_ chunk: XORChunk) throws -> [(Int64, Double)] {
        try chunk.bytes.withUnsafeBytes { raw in
            var decoder = XORDecoder(raw, count: chunk.count)
            var out: [(Int64, Double)] = []
            while let sample = try decoder.next() { out.append(sample) }
            return out
        }
    }
}
