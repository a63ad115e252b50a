import BlockCodec

/// A stream's entries not yet cut into a chunk, in arrival order: each
/// entry's line then its encoded fields in `bytes`, its time in `times`.
struct OpenChunk: Sendable {
    var bytes: [UInt8] = []
    var times: [Int64] = []
    var lineStart: [Int32] = []
    var lineEnd: [Int32] = []
    var fieldEnd: [Int32] = []
    /// Where each entry's time is written in its line (`TimeText`), or -1.
    var timeText: [Int64] = []
    /// True while the times arrived in order.
    var inOrder = true
    var minTime = Int64.max
    var maxTime = Int64.min

    var count: Int { times.count }
    var isEmpty: Bool { times.isEmpty }
    /// Memory held, roughly: the bytes and five numbers per entry.
    var footprint: Int { bytes.count + times.count * 32 }

    mutating func append(time: Int64, line: UnsafeRawBufferPointer, timeText: Range<Int>?, fields: (inout [UInt8]) -> Void) {
        if let last = times.last, time < last { inOrder = false }
        times.append(time)
        self.timeText.append(TimeText.pack(timeText))
        lineStart.append(Int32(bytes.count))
        bytes.append(contentsOf: line)
        lineEnd.append(Int32(bytes.count))
        fields(&bytes)
        fieldEnd.append(Int32(bytes.count))
        minTime = min(minTime, time)
        maxTime = max(maxTime, time)
    }

    /// The entries in time order (stable for equal times), as a copy that
    /// shares nothing with this chunk.
    func sortedEntries() -> ChunkEntries {
        var out = ChunkEntries()
        out.bytes = bytes
        if inOrder {
            out.times = times
            out.lineStart = lineStart
            out.lineEnd = lineEnd
            out.fieldStart = lineEnd
            out.fieldEnd = fieldEnd
            out.timeText = timeText
            return out
        }
        let order = times.indices.sorted { times[$0] < times[$1] || (times[$0] == times[$1] && $0 < $1) }
        out.times = order.map { times[$0] }
        out.lineStart = order.map { lineStart[$0] }
        out.lineEnd = order.map { lineEnd[$0] }
        out.fieldStart = out.lineEnd
        out.fieldEnd = order.map { fieldEnd[$0] }
        out.timeText = order.map { timeText[$0] }
        return out
    }
}

/// A time's text in a line, packed in one number: offset << 16 | length, or -1.
enum TimeText {
    static func pack(_ range: Range<Int>?) -> Int64 {
        guard let range, range.count < 1 << 16, range.lowerBound < 1 << 40 else { return -1 }
        return Int64(range.lowerBound) << 16 | Int64(range.count)
    }

    static func unpack(_ packed: Int64) -> Range<Int>? {
        guard packed >= 0 else { return nil }
        let start = Int(packed >> 16)
        return start..<start + Int(packed & 0xFFFF)
    }
}
