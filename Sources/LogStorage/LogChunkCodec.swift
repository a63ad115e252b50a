import BlockCodec

/// Where a compressed chunk's entries lie in time, and how big it is.
struct ChunkMeta: Sendable, Equatable {
    var minTime: Int64
    var maxTime: Int64
    var count: Int
    /// Bytes once inflated.
    var rawLength: Int
    /// Bytes compressed.
    var length: Int
    /// CRC-32 of the compressed bytes.
    var crc: UInt32
    /// Where the compressed bytes start in their segment file (0 while in memory).
    var offset: Int = 0
}

/// A chunk's byte layout, before zlib (docs/format/logs.md):
/// ```
/// uvarint count | u8 flags (bit 0: times in milliseconds, bit 1: fields present)
/// times: zigzag(first - minTime), then zigzag deltas, in the unit
/// uvarint line length × count | lines back to back
/// if fields: per entry uvarint length + the entry's encoded fields
/// ```
/// Columns rather than rows: the lines then lie together, which zlib
/// compresses best.
enum LogChunkCodec {
    static let millisecondTimes: UInt8 = 1
    static let hasFields: UInt8 = 2

    /// Encodes and compresses entries (in time order).
    static func compress(_ entries: ChunkEntries, level: Int32) -> (meta: ChunkMeta, bytes: [UInt8]) {
        let n = entries.count
        let minTime = entries.times.first ?? 0
        var raw: [UInt8] = []
        raw.reserveCapacity(entries.bytes.count + n * 4 + 16)
        Varint.append(UInt64(n), to: &raw)
        let inMillis = entries.times.allSatisfy { ($0 - minTime) % 1_000_000 == 0 }
        let anyFields = (0..<n).contains { entries.fieldEnd[$0] > entries.fieldStart[$0] }
        raw.append((inMillis ? millisecondTimes : 0) | (anyFields ? hasFields : 0))
        let unit: Int64 = inMillis ? 1_000_000 : 1
        var previous = minTime
        for time in entries.times {
            Varint.appendSigned((time - previous) / unit, to: &raw)
            previous = time
        }
        for i in 0..<n { Varint.append(UInt64(entries.lineEnd[i] - entries.lineStart[i]), to: &raw) }
        entries.bytes.withUnsafeBytes { source in
            for i in 0..<n { raw.append(contentsOf: entries.line(i, source)) }
            if anyFields {
                for i in 0..<n {
                    let fields = entries.fields(i, source)
                    Varint.append(UInt64(fields.count), to: &raw)
                    raw.append(contentsOf: fields)
                }
            }
        }
        let compressed = Deflate.compress(raw, level: level)
        let meta = ChunkMeta(
            minTime: minTime, maxTime: entries.times.last ?? 0, count: n, rawLength: raw.count,
            length: compressed.count, crc: CRC32.checksum(compressed))
        return (meta, compressed)
    }

    /// Checks and inflates a chunk, then indexes its entries.
    static func decompress(_ compressed: UnsafeRawBufferPointer, meta: ChunkMeta) throws(CodecError) -> ChunkEntries {
        guard CRC32.checksum(compressed) == meta.crc else {
            throw CodecError(.inconsistent("chunk checksum mismatch"), offset: 0)
        }
        let raw = try Deflate.decompress(compressed, expectedLength: meta.rawLength)
        return try decode(raw, meta: meta)
    }

    /// Indexes the entries of an inflated chunk, checking every length against the bytes.
    static func decode(_ raw: [UInt8], meta: ChunkMeta) throws(CodecError) -> ChunkEntries {
        var out = ChunkEntries()
        try raw.withUnsafeBytes { bytes in Result { () throws(CodecError) in
            var offset = 0
            let n = try length(bytes, &offset)
            guard n == meta.count, offset < bytes.count else {
                throw CodecError(.inconsistent("chunk holds \(n) entries, its index says \(meta.count)"), offset: offset)
            }
            let flags = bytes[offset]
            offset += 1
            let unit: Int64 = flags & millisecondTimes != 0 ? 1_000_000 : 1
            out.times.reserveCapacity(n)
            var time = meta.minTime
            for _ in 0..<n {
                time &+= try Varint.readSigned(bytes, at: &offset) &* unit
                out.times.append(time)
            }
            var lengths: [Int] = []
            lengths.reserveCapacity(n)
            for _ in 0..<n { lengths.append(try length(bytes, &offset)) }
            out.lineStart.reserveCapacity(n)
            out.lineEnd.reserveCapacity(n)
            for length in lengths {
                guard length <= bytes.count - offset else { throw CodecError(.truncated, offset: offset) }
                out.lineStart.append(Int32(offset))
                offset += length
                out.lineEnd.append(Int32(offset))
            }
            if flags & hasFields != 0 {
                for _ in 0..<n {
                    let length = try length(bytes, &offset)
                    guard length <= bytes.count - offset else { throw CodecError(.truncated, offset: offset) }
                    try checkFields(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]), at: offset)
                    out.fieldStart.append(Int32(offset))
                    offset += length
                    out.fieldEnd.append(Int32(offset))
                }
            } else {
                out.fieldStart = out.lineEnd
                out.fieldEnd = out.lineEnd
            }
            guard offset == bytes.count else {
                throw CodecError(.inconsistent("\(bytes.count - offset) bytes after the last column"), offset: offset)
            }
        } }.get()
        out.bytes = raw
        return out
    }

    /// Checks that one entry's encoded fields fit in their bytes.
    private static func checkFields(_ raw: UnsafeRawBufferPointer, at base: Int) throws(CodecError) {
        guard !raw.isEmpty else { return }
        var offset = 0
        let count = try length(raw, &offset)
        for _ in 0..<count {
            for _ in 0..<2 {
                let length = try length(raw, &offset)
                guard length <= raw.count - offset else { throw CodecError(.truncated, offset: base + offset) }
                offset += length
            }
        }
        guard offset == raw.count else { throw CodecError(.inconsistent("fields do not fill their bytes"), offset: base + offset) }
    }

    /// A count or length, which no chunk holds more than 2³¹ of.
    static func length(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) throws(CodecError) -> Int {
        let at = offset
        let value = try Varint.read(bytes, at: &offset)
        guard value <= UInt64(Int32.max) else { throw CodecError(.inconsistent("length \(value) out of range"), offset: at) }
        return Int(value)
    }
}
