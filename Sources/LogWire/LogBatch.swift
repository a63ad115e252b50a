/// Decoded log records encoded back to back: the unit a receive loop fills
/// and hands to a log writer, so that nothing is allocated per record.
///
/// Entry layout (little-endian, unaligned):
/// ```
/// u32 entry length (after this field)   u64 stream hash (`streamHash` of the label bytes)
/// i64 time (ns; Int64.min: none, the store uses arrival time)
/// u16 label count   u16 field count   u32 line length
/// u32 offset of the time's text in the line (0xFFFFFFFF: none)   u16 its length
/// labels: u16 name length, name, u16 value length, value (sorted by name)
/// line bytes
/// fields: u16 name length, name, u32 value length, value
/// ```
public struct LogBatch: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var count = 0

    public static let noTime = Int64.min
    static let headerSize = 30

    public init(capacity: Int = 64 * 1024) {
        bytes.reserveCapacity(capacity)
    }

    public var isEmpty: Bool { count == 0 }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        count = 0
    }

    /// Appends a decoded record. The fields of JSON and logfmt records are
    /// left out: their line holds them, and the reader derives them with the
    /// same decoder. Names and label values are cut at 64 KiB.
    public mutating func append(_ log: DecodedLog) {
        let keepFields = log.source.fieldsNeedStoring
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.headerSize + 4))
        let labelsStart = bytes.count
        for pair in log.labels {
            _ = appendShort(log.bytes, pair.name)
            _ = appendShort(log.bytes, pair.value)
        }
        let hash = bytes.withUnsafeBytes { Self.streamHash(UnsafeRawBufferPointer(rebasing: $0[labelsStart...])) }
        let line = log.bytes[log.line]
        bytes.append(contentsOf: line)
        for pair in log.fields.prefix(Int(UInt16.max)) where keepFields {
            _ = appendShort(log.bytes, pair.name)
            let count = min(pair.value.count, Int(UInt32.max))
            appendLE(UInt32(count))
            bytes.append(contentsOf: log.bytes[pair.value.lowerBound..<pair.value.lowerBound + count])
        }
        store(UInt32(bytes.count - start - 4), at: start)
        store(hash, at: start + 4)
        store(UInt64(bitPattern: log.timestamp ?? Self.noTime), at: start + 12)
        store(UInt16(log.labels.count), at: start + 20)
        store(UInt16(keepFields ? min(log.fields.count, Int(UInt16.max)) : 0), at: start + 22)
        store(UInt32(line.count), at: start + 24)
        let text = log.timestampText.flatMap { $0.upperBound <= line.count && $0.count <= Int(UInt16.max) ? $0 : nil }
        store(UInt32(text?.lowerBound ?? Int(UInt32.max)), at: start + 28)
        store(UInt16(text?.count ?? 0), at: start + 32)
        count += 1
    }

    /// A stream's identity as the batch lays it out: per label (sorted by
    /// name) `u16 name length, name, u16 value length, value`.
    public static func streamKey(_ labels: [(name: String, value: String)]) -> [UInt8] {
        var key: [UInt8] = []
        for (name, value) in labels {
            for text in [name, value] {
                let n = min(text.utf8.count, Int(UInt16.max))
                withUnsafeBytes(of: UInt16(n).littleEndian) { key.append(contentsOf: $0) }
                key.append(contentsOf: text.utf8.prefix(n))
            }
        }
        return key
    }

    /// FNV-1a of a stream key: which writer shard and head slot a stream has.
    public static func streamHash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    private mutating func appendShort(_ source: [UInt8], _ range: Range<Int>) -> Range<Int> {
        let n = min(range.count, Int(UInt16.max))
        appendLE(UInt16(n))
        let at = bytes.count
        bytes.append(contentsOf: source[range.lowerBound..<range.lowerBound + n])
        return at..<bytes.count
    }

    private mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { bytes[offset + i] = byte }
        }
    }

    /// Calls `body` with each entry in order.
    public func forEach(_ body: (LogBatchEntry) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + 4 <= raw.count {
                let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
                let entry = UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + 4 + length)])
                try body(LogBatchEntry(raw: entry))
                offset += 4 + length
            }
        }
    }
}

/// One entry of a `LogBatch`, read in place.
public struct LogBatchEntry {
    /// The entry's bytes after its length field.
    public let raw: UnsafeRawBufferPointer

    public var streamHash: UInt64 { raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian }
    /// Nanoseconds since the epoch, or nil when the record had no time of its own.
    public var timestamp: Int64? {
        let t = Int64(bitPattern: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian)
        return t == LogBatch.noTime ? nil : t
    }
    public var labelCount: Int { Int(raw.loadUnaligned(fromByteOffset: 16, as: UInt16.self).littleEndian) }
    public var fieldCount: Int { Int(raw.loadUnaligned(fromByteOffset: 18, as: UInt16.self).littleEndian) }
    var lineLength: Int { Int(raw.loadUnaligned(fromByteOffset: 20, as: UInt32.self).littleEndian) }
    /// Where in the line the text of the time is, when the time came from the line.
    public var timestampText: Range<Int>? {
        let start = raw.loadUnaligned(fromByteOffset: 24, as: UInt32.self).littleEndian
        guard start != UInt32.max else { return nil }
        let length = Int(raw.loadUnaligned(fromByteOffset: 28, as: UInt16.self).littleEndian)
        return Int(start)..<Int(start) + length
    }

    /// The label bytes as they are laid out (for hashing and comparing stream keys).
    public var labelBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[LogBatch.headerSize..<labelsEnd])
    }

    private var labelsEnd: Int {
        var offset = LogBatch.headerSize
        for _ in 0..<labelCount * 2 {
            offset += 2 + Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
        }
        return offset
    }

    public var line: UnsafeRawBufferPointer {
        let start = labelsEnd
        return UnsafeRawBufferPointer(rebasing: raw[start..<start + lineLength])
    }

    /// Each label's name and value.
    public func forEachLabel(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        var offset = LogBatch.headerSize
        for _ in 0..<labelCount {
            let name = short(&offset)
            let value = short(&offset)
            body(name, value)
        }
    }

    /// Each field's name and value.
    public func forEachField(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        var offset = labelsEnd + lineLength
        for _ in 0..<fieldCount {
            let name = short(&offset)
            let n = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
            let value = UnsafeRawBufferPointer(rebasing: raw[offset + 4..<offset + 4 + n])
            offset += 4 + n
            body(name, value)
        }
    }

    private func short(_ offset: inout Int) -> UnsafeRawBufferPointer {
        let n = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
        let slice = UnsafeRawBufferPointer(rebasing: raw[offset + 2..<offset + 2 + n])
        offset += 2 + n
        return slice
    }
}
