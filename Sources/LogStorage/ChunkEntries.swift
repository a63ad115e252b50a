/// The entries of one chunk in time order, read in place from one buffer:
/// each entry's line and encoded fields are ranges of `bytes`. Made once per
/// chunk, so reading allocates nothing per entry.
///
/// Fields are encoded as `uvarint count`, then per field `uvarint name
/// length, name, uvarint value length, value` (empty when there are none).
struct ChunkEntries: Sendable {
    var bytes: [UInt8] = []
    var times: [Int64] = []
    var lineStart: [Int32] = []
    var lineEnd: [Int32] = []
    /// Fields run from `lineEnd[i]` (for open chunks) or from here (stored chunks) to `fieldEnd[i]`.
    var fieldStart: [Int32] = []
    var fieldEnd: [Int32] = []
    /// Where each entry's time is written in its line (`TimeText`), or -1;
    /// only chunks not yet compressed keep it.
    var timeText: [Int64] = []

    var count: Int { times.count }

    func line(_ i: Int, _ raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[Int(lineStart[i])..<Int(lineEnd[i])])
    }

    func fields(_ i: Int, _ raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[Int(fieldStart[i])..<Int(fieldEnd[i])])
    }

    /// The first index whose time is at or after `time`.
    func firstIndex(atOrAfter time: Int64) -> Int {
        var low = 0
        var high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < time { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// Reads the encoded fields of one entry.
public struct EncodedFields {
    let raw: UnsafeRawBufferPointer

    /// Calls `body` with each field's name and value. Stops at a length that
    /// does not fit the bytes, so a damaged record never reads past its end.
    public func forEach(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        guard !raw.isEmpty else { return }
        var offset = 0
        var remaining = Self.varint(raw, &offset)
        func take() -> UnsafeRawBufferPointer? {
            // Every length takes at least one byte: a count beyond the bytes ends here, not in a long loop.
            guard offset < raw.count else { return nil }
            let length = Self.varint(raw, &offset)
            guard length >= 0, length <= raw.count - offset else { return nil }
            defer { offset += length }
            return UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length])
        }
        while remaining > 0 {
            remaining -= 1
            guard let name = take(), let value = take() else { return }
            body(name, value)
        }
    }

    public var isEmpty: Bool { raw.isEmpty }

    /// Reads a varint the store wrote itself (chunks are CRC-checked before
    /// they are read, so the bytes are known good).
    static func varint(_ raw: UnsafeRawBufferPointer, _ offset: inout Int) -> Int {
        var value = 0
        var shift = 0
        while offset < raw.count {
            let byte = raw[offset]
            offset += 1
            value |= Int(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        return value
    }
}
