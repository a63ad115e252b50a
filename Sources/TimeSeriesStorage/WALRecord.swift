import BlockCodec
import DurableFiles
import TelemetryModel

/// The records of the write-ahead log and its checkpoints. Byte layout:
/// docs/format/wal.md.
enum WALRecord: WALEntry {
    /// Record types (the first byte of every record's frame).
    enum Kind: UInt8 {
        /// A series' reference and labels, logged before its first sample.
        case series = 1
        /// A batch of samples by reference.
        case samples = 2
        /// A closed head chunk, XOR coded and without its encoding byte:
        /// written by versions before the integer coding, still read.
        case xorChunk = 3
        /// A closed head chunk, its encoding byte first (in checkpoints only).
        case chunk = 4
    }

    case series(ref: UInt32, labels: Labels)
    case samples([RefSample])
    /// `bytes` as the head chunk file holds them: the encoding byte first.
    case chunk(ref: UInt32, count: Int, minTime: Int64, maxTime: Int64, bytes: [UInt8])

    var kind: Kind {
        switch self {
        case .series: .series
        case .samples: .samples
        case .chunk: .chunk
        }
    }

    var walKind: UInt8 { kind.rawValue }

    /// The payload bytes (without the frame).
    func encodePayload(into out: inout [UInt8]) {
        switch self {
        case .series(let ref, let labels):
            Varint.append(UInt64(ref), to: &out)
            Varint.append(UInt64(labels.count), to: &out)
            for label in labels {
                appendString(label.name, to: &out)
                appendString(label.value, to: &out)
            }
        case .samples(let samples):
            let base = samples.first?.timestamp ?? 0
            Varint.appendSigned(base, to: &out)
            Varint.append(UInt64(samples.count), to: &out)
            for sample in samples {
                Varint.append(UInt64(sample.ref.raw), to: &out)
                Varint.appendSigned(sample.timestamp &- base, to: &out)
                FixedWidth.append(sample.value.bitPattern, to: &out)
            }
        case .chunk(let ref, let count, let minTime, let maxTime, let bytes):
            Varint.append(UInt64(ref), to: &out)
            Varint.append(UInt64(count), to: &out)
            Varint.appendSigned(minTime, to: &out)
            Varint.appendSigned(maxTime, to: &out)
            Varint.append(UInt64(bytes.count), to: &out)
            out.append(contentsOf: bytes)
        }
    }

    static func decode(kind: UInt8, _ payload: UnsafeRawBufferPointer) throws(CodecError) -> WALRecord {
        var offset = 0
        switch Kind(rawValue: kind) {
        case .series:
            let ref = try readRef(payload, &offset)
            let count = try Varint.read(payload, at: &offset)
            guard count <= UInt64(payload.count) else { throw CodecError(.inconsistent("label count \(count)"), offset: offset) }
            var pairs: [Label] = []
            for _ in 0..<count {
                let name = try readString(payload, &offset)
                let value = try readString(payload, &offset)
                pairs.append(Label(name, value))
            }
            return .series(ref: ref, labels: Labels(pairs))
        case .samples:
            let base = try Varint.readSigned(payload, at: &offset)
            let count = try Varint.read(payload, at: &offset)
            // Each sample takes at least 10 bytes: bounds a damaged count.
            guard count <= UInt64(payload.count / 10) else { throw CodecError(.inconsistent("sample count \(count)"), offset: offset) }
            var samples: [RefSample] = []
            samples.reserveCapacity(Int(count))
            for _ in 0..<count {
                let ref = try readRef(payload, &offset)
                let timestamp = base &+ (try Varint.readSigned(payload, at: &offset))
                let bits = try FixedWidth.read(UInt64.self, payload, at: &offset)
                samples.append(RefSample(ref: SeriesRef(raw: ref), timestamp: timestamp, value: Double(bitPattern: bits)))
            }
            return .samples(samples)
        case .chunk, .xorChunk:
            let ref = try readRef(payload, &offset)
            let count = try Varint.read(payload, at: &offset)
            let minTime = try Varint.readSigned(payload, at: &offset)
            let maxTime = try Varint.readSigned(payload, at: &offset)
            let length = try Varint.read(payload, at: &offset)
            guard length <= UInt64(payload.count - offset), count >= 1, count <= length * 8 else {
                throw CodecError(.inconsistent("chunk of \(count) samples in \(length) bytes"), offset: offset)
            }
            var bytes: [UInt8] = []
            if kind == Kind.xorChunk.rawValue { bytes.append(HeadChunkEncoding.xor.rawValue) }
            bytes.append(contentsOf: payload[offset..<(offset + Int(length))])
            return .chunk(ref: ref, count: Int(count), minTime: minTime, maxTime: maxTime, bytes: bytes)
        case nil:
            throw CodecError(.unknownEncoding(kind), offset: 0)
        }
    }

    private static func readRef(_ payload: UnsafeRawBufferPointer, _ offset: inout Int) throws(CodecError) -> UInt32 {
        let raw = try Varint.read(payload, at: &offset)
        guard raw <= UInt64(UInt32.max) else { throw CodecError(.inconsistent("series reference \(raw)"), offset: offset) }
        return UInt32(raw)
    }
}

func appendString(_ string: String, to out: inout [UInt8]) {
    var string = string
    string.withUTF8 { utf8 in
        Varint.append(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }
}

func readString(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) throws(CodecError) -> String {
    let length = try Varint.read(bytes, at: &offset)
    guard length <= UInt64(bytes.count - offset) else { throw CodecError(.truncated, offset: offset) }
    let end = offset + Int(length)
    defer { offset = end }
    return String(decoding: bytes[offset..<end], as: UTF8.self)
}
