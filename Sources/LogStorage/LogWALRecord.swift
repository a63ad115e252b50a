import BlockCodec
import DurableFiles
import TelemetryModel

/// The log store's WAL records (framing and replay shared with the metrics
/// store: docs/format/wal.md; payloads: docs/format/logs.md).
enum LogWALRecord: WALEntry {
    /// A stream's id and labels, logged before its first entries.
    case stream(id: UInt32, labels: Labels)
    /// Entries, already encoded: per entry `uvarint stream id, zigzag time,
    /// uvarint (offset + 1 of the time's text in the line, or 0), uvarint its
    /// length, uvarint line length, line, uvarint fields length, encoded fields`.
    case entries([UInt8])

    static let streamKind: UInt8 = 1
    static let entriesKind: UInt8 = 2

    var walKind: UInt8 {
        switch self {
        case .stream: Self.streamKind
        case .entries: Self.entriesKind
        }
    }

    func encodePayload(into out: inout [UInt8]) {
        switch self {
        case .stream(let id, let labels):
            Varint.append(UInt64(id), to: &out)
            Varint.append(UInt64(labels.count), to: &out)
            for label in labels {
                Varint.append(UInt64(label.name.utf8.count), to: &out)
                out.append(contentsOf: label.name.utf8)
                Varint.append(UInt64(label.value.utf8.count), to: &out)
                out.append(contentsOf: label.value.utf8)
            }
        case .entries(let bytes):
            out.append(contentsOf: bytes)
        }
    }

    /// Appends one entry to an entries payload.
    static func appendEntry(
        id: UInt32, time: Int64, timeText: Range<Int>?, line: UnsafeRawBufferPointer, fields: UnsafeRawBufferPointer,
        to out: inout [UInt8]
    ) {
        Varint.append(UInt64(id), to: &out)
        Varint.appendSigned(time, to: &out)
        Varint.append(UInt64(timeText.map { $0.lowerBound + 1 } ?? 0), to: &out)
        Varint.append(UInt64(timeText?.count ?? 0), to: &out)
        Varint.append(UInt64(line.count), to: &out)
        out.append(contentsOf: line)
        Varint.append(UInt64(fields.count), to: &out)
        out.append(contentsOf: fields)
    }

    static func decodeStream(_ raw: UnsafeRawBufferPointer) throws(CodecError) -> (id: UInt32, labels: Labels) {
        var offset = 0
        let id = try LogChunkCodec.length(raw, &offset)
        let count = try LogChunkCodec.length(raw, &offset)
        var labels: [Label] = []
        for _ in 0..<count {
            var parts: [String] = []
            for _ in 0..<2 {
                let length = try LogChunkCodec.length(raw, &offset)
                guard length <= raw.count - offset else { throw CodecError(.truncated, offset: offset) }
                parts.append(String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length]), as: UTF8.self))
                offset += length
            }
            labels.append(Label(parts[0], parts[1]))
        }
        guard offset == raw.count, id <= UInt32.max else { throw CodecError(.inconsistent("stream record"), offset: offset) }
        return (UInt32(id), Labels(labels))
    }

    /// Calls `body` with each entry of an entries payload, after checking it all decodes.
    static func forEachEntry(
        _ raw: UnsafeRawBufferPointer,
        _ body: (UInt32, Int64, Range<Int>?, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void
    ) throws(CodecError) {
        var entries: [(UInt32, Int64, Range<Int>?, Range<Int>, Range<Int>)] = []
        var offset = 0
        while offset < raw.count {
            let id = try LogChunkCodec.length(raw, &offset)
            let time = try Varint.readSigned(raw, at: &offset)
            let textStart = try LogChunkCodec.length(raw, &offset)
            let textLength = try LogChunkCodec.length(raw, &offset)
            let lineLength = try LogChunkCodec.length(raw, &offset)
            guard lineLength <= raw.count - offset else { throw CodecError(.truncated, offset: offset) }
            let line = offset..<offset + lineLength
            offset += lineLength
            let fieldsLength = try LogChunkCodec.length(raw, &offset)
            guard fieldsLength <= raw.count - offset else { throw CodecError(.truncated, offset: offset) }
            let fields = offset..<offset + fieldsLength
            offset += fieldsLength
            let text = textStart > 0 ? (textStart - 1)..<(textStart - 1 + textLength) : nil
            entries.append((UInt32(truncatingIfNeeded: id), time, text, line, fields))
        }
        for (id, time, text, line, fields) in entries {
            body(id, time, text, UnsafeRawBufferPointer(rebasing: raw[line]), UnsafeRawBufferPointer(rebasing: raw[fields]))
        }
    }
}
