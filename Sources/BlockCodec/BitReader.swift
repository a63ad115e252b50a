/// Reads bits, most significant first, from bytes the `BitWriter` wrote.
/// Reading past the end throws instead of trapping: the bytes may come from
/// a damaged file.
public struct BitReader {
    @usableFromInline let base: UnsafeRawBufferPointer
    /// The bit position of the next read.
    public private(set) var position: Int
    /// Bits available: reads stop here.
    public let limit: Int

    /// Reads `bitCount` bits from `bytes` (all of them when nil). The buffer
    /// must outlive the reader.
    public init(_ bytes: UnsafeRawBufferPointer, bitCount: Int? = nil) {
        base = bytes
        limit = min(bitCount ?? bytes.count * 8, bytes.count * 8)
        position = 0
    }

    public mutating func readBit() throws(CodecError) -> Bool {
        guard position < limit else { throw CodecError(.truncated, offset: position >> 3) }
        let byte = base[position >> 3]
        let bit = (byte >> UInt8(7 - (position & 7))) & 1
        position += 1
        return bit == 1
    }

    /// Reads `count` bits (0 to 64) as the low bits of the result.
    public mutating func readBits(_ count: Int) throws(CodecError) -> UInt64 {
        guard count > 0 else { return 0 }
        guard position + count <= limit else { throw CodecError(.truncated, offset: position >> 3) }
        var result: UInt64 = 0
        var remaining = count
        while remaining > 0 {
            let used = position & 7
            let available = 8 - used
            let take = min(available, remaining)
            let byte = UInt64(base[position >> 3])
            let chunk = (byte >> UInt64(available - take)) & ((1 << UInt64(take)) - 1)
            result = take == 64 ? chunk : (result << UInt64(take)) | chunk
            remaining -= take
            position += take
        }
        return result
    }
}
