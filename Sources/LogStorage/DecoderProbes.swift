import BlockCodec

/// The log store's decoders of bytes read from disk, open to the fuzz
/// targets of this package (`FuzzTargets`) without widening the types they
/// decode. Each runs a decoder over arbitrary bytes and reads everything it
/// returns, as a query or a forwarder would; errors are the expected outcome.
package enum LogStorageDecoderProbes {
    /// One log WAL record's payload: kind 1 (a stream) or 2 (entries).
    package static func walRecord(kind: UInt8, _ payload: UnsafeRawBufferPointer) {
        if kind == 1 {
            _ = try? LogWALRecord.decodeStream(payload)
        } else {
            try? LogWALRecord.forEachEntry(payload) { _, _, _, line, fields in
                _ = line.count
                EncodedFields(raw: fields).forEach { name, value in _ = name.count + value.count }
            }
        }
    }

    /// An inflated chunk's three column streams; the entry count is the meta stream's first varint.
    package static func chunk(meta: [UInt8], lines: [UInt8], fields: [UInt8]) {
        var offset = 0
        let count = meta.withUnsafeBytes { (try? LogChunkCodec.length($0, &offset)) ?? 0 }
        let chunk = ChunkMeta(minTime: 0, maxTime: 0, count: count, rawLength: 0, length: 0, crc: 0)
        guard let entries = try? LogChunkCodec.decode(meta: meta, lines: lines, fields: fields, chunk: chunk) else { return }
        entries.bytes.withUnsafeBytes { raw in
            for i in 0..<entries.count {
                _ = entries.line(i, raw).count
                EncodedFields(raw: entries.fields(i, raw)).forEach { name, value in _ = name.count + value.count }
            }
        }
    }
}
