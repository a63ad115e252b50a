import BlockCodec
import LogWire

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

/// A chunk is up to three zlib streams, one per kind of column, each framed
/// as `u32 inflated length, u32 compressed length, bytes` (little-endian);
/// kept apart, the lines compress as well as text alone does
/// (docs/format/logs.md):
/// ```
/// meta:   uvarint count | u8 flags (bit 0: time deltas in milliseconds, bit 1: fields present)
///         uvarint line length × count
///         per entry, its time: uvarint 0 and a zigzag delta from the previous entry's time, or
///         uvarint (offset + 1) and uvarint length of the time's text in the line, read back
///         with the decoder's own time parser (it is stored once, in the line)
/// lines:  the lines back to back
/// fields: (bit 1 only) per entry uvarint length + its encoded fields
/// ```
enum LogChunkCodec {
    static let millisecondTimes: UInt8 = 1
    static let hasFields: UInt8 = 2

    /// Encodes and compresses entries (in time order).
    static func compress(_ entries: ChunkEntries, level: Int32) -> (meta: ChunkMeta, bytes: [UInt8]) {
        let n = entries.count
        let minTime = entries.times.first ?? 0
        var meta: [UInt8] = []
        var lines: [UInt8] = []
        var fields: [UInt8] = []
        meta.reserveCapacity(n * 4 + 16)
        lines.reserveCapacity(entries.bytes.count)
        Varint.append(UInt64(n), to: &meta)
        let inMillis = entries.times.allSatisfy { ($0 - minTime) % 1_000_000 == 0 }
        let anyFields = (0..<n).contains { entries.fieldEnd[$0] > entries.fieldStart[$0] }
        meta.append((inMillis ? millisecondTimes : 0) | (anyFields ? hasFields : 0))
        for i in 0..<n { Varint.append(UInt64(entries.lineEnd[i] - entries.lineStart[i]), to: &meta) }
        let unit: Int64 = inMillis ? 1_000_000 : 1
        var previous = minTime
        entries.bytes.withUnsafeBytes { source in
            for i in 0..<n {
                let line = entries.line(i, source)
                let time = entries.times[i]
                // A reference to the time's text, when that text reads back as exactly this time.
                if i < entries.timeText.count, let text = TimeText.unpack(entries.timeText[i]), text.upperBound <= line.count,
                    RecordTimestamp.nanoseconds(UnsafeRawBufferPointer(rebasing: line[text])) == time,
                    (time - previous) % unit == 0
                {
                    Varint.append(UInt64(text.lowerBound + 1), to: &meta)
                    Varint.append(UInt64(text.count), to: &meta)
                } else {
                    meta.append(0)
                    Varint.appendSigned((time - previous) / unit, to: &meta)
                }
                previous = time
                lines.append(contentsOf: line)
                if anyFields {
                    let encoded = entries.fields(i, source)
                    Varint.append(UInt64(encoded.count), to: &fields)
                    fields.append(contentsOf: encoded)
                }
            }
        }
        var out: [UInt8] = []
        for stream in anyFields ? [meta, lines, fields] : [meta, lines] {
            let compressed = Deflate.compress(stream, level: level)
            FixedWidth.append(UInt32(stream.count), to: &out)
            FixedWidth.append(UInt32(compressed.count), to: &out)
            out.append(contentsOf: compressed)
        }
        let chunkMeta = ChunkMeta(
            minTime: minTime, maxTime: entries.times.last ?? 0, count: n, rawLength: meta.count + lines.count + fields.count,
            length: out.count, crc: CRC32.checksum(out))
        return (chunkMeta, out)
    }

    /// Checks and inflates a chunk, then indexes its entries.
    static func decompress(_ compressed: UnsafeRawBufferPointer, meta: ChunkMeta) throws(CodecError) -> ChunkEntries {
        guard CRC32.checksum(compressed) == meta.crc else {
            throw CodecError(.inconsistent("chunk checksum mismatch"), offset: 0)
        }
        var offset = 0
        var streams: [[UInt8]] = []
        while offset < compressed.count {
            let rawLength = Int(try FixedWidth.read(UInt32.self, compressed, at: &offset))
            let length = Int(try FixedWidth.read(UInt32.self, compressed, at: &offset))
            guard length <= compressed.count - offset else { throw CodecError(.truncated, offset: offset) }
            // Chunks are cut at a few MiB; a larger claim is damage and must not size an allocation.
            guard rawLength <= 1 << 30 else { throw CodecError(.inconsistent("column stream of \(rawLength) bytes"), offset: offset) }
            streams.append(try Deflate.decompress(UnsafeRawBufferPointer(rebasing: compressed[offset..<offset + length]), expectedLength: rawLength))
            offset += length
        }
        guard streams.count == 2 || streams.count == 3 else {
            throw CodecError(.inconsistent("chunk has \(streams.count) column streams"), offset: 0)
        }
        return try decode(meta: streams[0], lines: streams[1], fields: streams.count == 3 ? streams[2] : [], chunk: meta)
    }

    /// Indexes the entries of an inflated chunk, checking every length against the bytes.
    static func decode(meta metaBytes: [UInt8], lines: [UInt8], fields: [UInt8], chunk: ChunkMeta) throws(CodecError) -> ChunkEntries {
        var out = ChunkEntries()
        // One buffer for the reader: the lines, then the fields.
        var bytes = lines
        bytes.append(contentsOf: fields)
        try metaBytes.withUnsafeBytes { m in bytes.withUnsafeBytes { b in Result { () throws(CodecError) in
            var offset = 0
            let n = try length(m, &offset)
            guard n == chunk.count, offset < m.count else {
                throw CodecError(.inconsistent("chunk holds \(n) entries, its index says \(chunk.count)"), offset: offset)
            }
            // Each entry takes at least two bytes of the meta stream (its line length and its time):
            // a count beyond that is damage, and must not size the arrays below.
            guard n <= (m.count - offset) / 2 else {
                throw CodecError(.inconsistent("chunk claims \(n) entries in \(m.count) bytes of index"), offset: offset)
            }
            let flags = m[offset]
            offset += 1
            out.lineStart.reserveCapacity(n)
            out.lineEnd.reserveCapacity(n)
            var position = 0
            for _ in 0..<n {
                let lineLength = try length(m, &offset)
                guard lineLength <= lines.count - position else { throw CodecError(.truncated, offset: offset) }
                out.lineStart.append(Int32(position))
                position += lineLength
                out.lineEnd.append(Int32(position))
            }
            guard position == lines.count else { throw CodecError(.inconsistent("lines do not fill their column"), offset: offset) }
            let unit: Int64 = flags & millisecondTimes != 0 ? 1_000_000 : 1
            out.times.reserveCapacity(n)
            var time = chunk.minTime
            for i in 0..<n {
                let tag = try length(m, &offset)
                if tag == 0 {
                    time &+= try Varint.readSigned(m, at: &offset) &* unit
                } else {
                    let textLength = try length(m, &offset)
                    let start = Int(out.lineStart[i]) + tag - 1
                    guard start + textLength <= Int(out.lineEnd[i]),
                        let parsed = RecordTimestamp.nanoseconds(UnsafeRawBufferPointer(rebasing: b[start..<start + textLength]))
                    else { throw CodecError(.inconsistent("entry \(i): its time's text does not read as a time"), offset: offset) }
                    time = parsed
                }
                out.times.append(time)
            }
            guard offset == m.count else { throw CodecError(.inconsistent("bytes after the time column"), offset: offset) }
            if flags & hasFields != 0 {
                var at = lines.count
                for _ in 0..<n {
                    var local = at - lines.count
                    let fieldsLength = try length(UnsafeRawBufferPointer(rebasing: b[lines.count...]), &local)
                    at = lines.count + local
                    guard fieldsLength <= b.count - at else { throw CodecError(.truncated, offset: at) }
                    try checkFields(UnsafeRawBufferPointer(rebasing: b[at..<at + fieldsLength]), at: at)
                    out.fieldStart.append(Int32(at))
                    at += fieldsLength
                    out.fieldEnd.append(Int32(at))
                }
                guard at == b.count else { throw CodecError(.inconsistent("fields do not fill their column"), offset: at) }
            } else {
                out.fieldStart = out.lineEnd
                out.fieldEnd = out.lineEnd
            }
        } } }.get()
        out.bytes = bytes
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
