import BlockCodec
import Testing
@testable import TimeSeriesStorage

@Suite("WAL records")
struct WALRecordTests {
    /// A checkpoint written before head chunks had an encoding byte holds
    /// XOR streams in records of kind 3: they are read as XOR-coded chunks.
    @Test func chunkRecordsFromBeforeTheEncodingByteReadAsXOR() throws {
        var chunk = HeadChunk(integers: false)
        let samples = (0..<50).map { (t0 + Int64($0) * 10_000, Double($0) * 1.25) }
        for (t, v) in samples { chunk.append(t, v) }
        var payload: [UInt8] = []
        // The payload layout is the same; only the bytes lacked the encoding byte.
        WALRecord.chunk(ref: 7, count: chunk.count, minTime: chunk.minTime, maxTime: chunk.maxTime, bytes: chunk.stream.bytes)
            .encodePayload(into: &payload)
        let record = try payload.withUnsafeBytes { raw in try WALRecord.decode(kind: 3, raw) }
        guard case .chunk(let ref, let count, let minTime, let maxTime, let bytes) = record else {
            Issue.record("decoded as \(record)")
            return
        }
        #expect(ref == 7 && count == 50 && minTime == samples.first!.0 && maxTime == samples.last!.0)
        #expect(bytes == chunk.bytes)
        let decoded = try bytes.withUnsafeBytes { raw in
            var decoder = try HeadChunkDecoder(raw, count: count)
            var out: [(Int64, Double)] = []
            while let sample = try decoder.next() { out.append(sample) }
            return out
        }
        #expect(decoded.map(\.0) == samples.map(\.0) && decoded.map(\.1) == samples.map(\.1))
    }

    /// Records written now carry the chunk's bytes as they are, encoding byte first.
    @Test func chunkRecordsRoundTripWithTheirEncodingByte() throws {
        var chunk = HeadChunk()
        for k in 0..<30 { chunk.append(t0 + Int64(k) * 1_000, Double(k * k)) }
        #expect(chunk.encoding == .integer)
        let record = WALRecord.chunk(ref: 3, count: chunk.count, minTime: chunk.minTime, maxTime: chunk.maxTime, bytes: chunk.bytes)
        var payload: [UInt8] = []
        record.encodePayload(into: &payload)
        #expect(record.walKind == 4)
        let back = try payload.withUnsafeBytes { raw in try WALRecord.decode(kind: record.walKind, raw) }
        guard case .chunk(_, _, _, _, let bytes) = back else {
            Issue.record("decoded as \(back)")
            return
        }
        #expect(bytes == chunk.bytes)
    }
}
