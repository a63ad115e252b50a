/// Appends bits, most significant first, to memory the caller owns and has
/// sized: the storage head writes its open chunks into slab cells this way,
/// without an array (and its header and allocation) per series.
public struct RawBitWriter: BitSink {
    /// Start of the stream.
    public let base: UnsafeMutableRawPointer
    /// Bytes started so far; the last holds `tailBits` used bits (all 8 when 0).
    public private(set) var byteCount: Int
    public private(set) var tailBits: UInt8

    /// Goes on writing a stream of `byteCount` bytes whose last byte holds
    /// `tailBits` bits. The caller guarantees room for what is written.
    public init(base: UnsafeMutableRawPointer, byteCount: Int, tailBits: UInt8) {
        self.base = base
        self.byteCount = byteCount
        self.tailBits = tailBits
    }

    public mutating func writeBits(_ value: UInt64, count: Int) {
        precondition(count >= 0 && count <= 64)
        var remaining = count
        while remaining > 0 {
            let used = Int(tailBits)
            if used == 0 {
                base.storeBytes(of: 0, toByteOffset: byteCount, as: UInt8.self)
                byteCount += 1
            }
            let free = 8 - used
            let take = min(free, remaining)
            // The next `take` bits of the value, from its most significant unwritten bit.
            let chunk = UInt8(truncatingIfNeeded: (value >> UInt64(remaining - take)) & ((1 << UInt64(take)) - 1))
            let last = base.load(fromByteOffset: byteCount - 1, as: UInt8.self)
            base.storeBytes(of: last | chunk << UInt8(free - take), toByteOffset: byteCount - 1, as: UInt8.self)
            remaining -= take
            tailBits = UInt8((used + take) & 7)
        }
    }
}

extension HeadSampleEncoder {
    /// Writes a sample to raw memory (specialised here, for the storage head).
    public mutating func append(_ timestamp: Int64, _ value: Double, into stream: inout RawBitWriter) -> Bool {
        append(timestamp, value, to: &stream)
    }
}
