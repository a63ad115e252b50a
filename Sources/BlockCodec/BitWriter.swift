/// Where the Gorilla encodings write their bits, most significant first: a
/// growing byte array (`BitWriter`), or memory a store manages itself (the
/// head's chunk slab).
public protocol BitSink {
    /// Writes the low `count` bits of `value` (0 to 64), most significant first.
    mutating func writeBits(_ value: UInt64, count: Int)
}

extension BitSink {
    /// Writes one bit.
    @inlinable
    public mutating func writeBit(_ bit: Bool) {
        writeBits(bit ? 1 : 0, count: 1)
    }
}

/// Appends bits, most significant first, to a byte array: the stream the
/// Gorilla encodings write (docs/format/chunks.md). The last byte may be
/// partly used; `bitCount` says how far.
public struct BitWriter: BitSink, Sendable {
    /// The bytes written so far; the last one holds `bitCount % 8` used bits
    /// (all of it when that is 0), the rest zero.
    public private(set) var bytes: [UInt8]
    /// Bits written so far.
    public private(set) var bitCount: Int

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bitCount = 0
    }

    /// Writes the low `count` bits of `value` (0 to 64), most significant first.
    public mutating func writeBits(_ value: UInt64, count: Int) {
        precondition(count >= 0 && count <= 64)
        var remaining = count
        while remaining > 0 {
            let used = bitCount & 7
            if used == 0 { bytes.append(0) }
            let free = 8 - used
            let take = min(free, remaining)
            // The next `take` bits of the value, from its most significant unwritten bit.
            let chunk = UInt8(truncatingIfNeeded: (value >> UInt64(remaining - take)) & ((1 << UInt64(take)) - 1))
            bytes[bytes.count - 1] |= chunk << UInt8(free - take)
            remaining -= take
            bitCount += take
        }
    }
}
