/// The head chunk's coding for values that are integers (counters, counts,
/// most gauges): the first value as 64 bits, the first delta with a length
/// prefix, then each delta-of-delta zig-zagged and Rice coded with a
/// parameter that follows the recent sizes. Gorilla's XOR coding spends
/// 15–25 bits on a counter that grows by a few hundred a sample; this spends
/// about 12, and a single bit while it grows at a steady rate. Layout:
/// docs/format/chunks.md, "Head chunk".
enum IntegerValueCoding {
    /// Bits of the length that precedes the first delta (0 … 32).
    static let lengthBits = 6
    /// A run of this many one bits is not a quotient but an escape: the
    /// zig-zagged delta-of-delta follows in `escapeBits` bits.
    static let escapeOnes = 20
    /// Deltas are 32-bit, so a delta-of-delta's zig-zag needs at most 33 bits.
    static let escapeBits = 33

    /// The integer a value is, when the coding holds it exactly (not
    /// fractions, NaN, infinities, −0.0 or magnitudes beyond Int64).
    @inline(__always)
    static func integer(_ value: Double) -> Int64? {
        guard let integer = Int64(exactly: value), Double(integer).bitPattern == value.bitPattern else { return nil }
        return integer
    }

    static func writeFirstDelta<Sink: BitSink>(_ delta: Int32, to stream: inout Sink) {
        let zigzag = Varint.zigzag(Int64(delta))
        let length = 64 - zigzag.leadingZeroBitCount
        stream.writeBits(UInt64(length), count: lengthBits)
        // The leading one is implied by the length.
        if length > 1 { stream.writeBits(zigzag, count: length - 1) }
    }

    static func readFirstDelta(_ reader: inout BitReader) throws(CodecError) -> Int64 {
        let length = Int(try reader.readBits(lengthBits))
        guard length <= 32 else {
            throw CodecError(.inconsistent("first delta of \(length) bits"), offset: reader.position >> 3)
        }
        guard length > 0 else { return 0 }
        return Varint.unzigzag(UInt64(1) << UInt64(length - 1) | (try reader.readBits(length - 1)))
    }

    /// The Rice parameter for a state: about one less than the recent bit lengths.
    @inline(__always)
    static func riceParameter(_ state: UInt8) -> Int {
        max(0, ((Int(state) + 12) >> 3) - 1)
    }

    /// The state after coding `zigzag`: a running mean of bit lengths in
    /// eighths of a bit, moved halfway towards this one (one byte per series).
    @inline(__always)
    static func nextState(_ state: UInt8, after zigzag: UInt64) -> UInt8 {
        let target = min(64 - zigzag.leadingZeroBitCount, 31) * 8
        let mean = Int(state)
        return UInt8(target >= mean ? mean + (target - mean) >> 1 : mean - (mean - target) >> 1)
    }

    static func writeDeltaOfDelta<Sink: BitSink>(_ dod: Int64, state: inout UInt8, to stream: inout Sink) {
        let zigzag = Varint.zigzag(dod)
        let k = riceParameter(state)
        let quotient = zigzag >> UInt64(k)
        if quotient < UInt64(escapeOnes) {
            // `quotient` ones and a zero, then the low k bits.
            stream.writeBits((UInt64(1) << (quotient + 1)) - 2, count: Int(quotient) + 1)
            stream.writeBits(zigzag, count: k)
        } else {
            stream.writeBits((UInt64(1) << UInt64(escapeOnes)) - 1, count: escapeOnes)
            stream.writeBits(zigzag, count: escapeBits)
        }
        state = nextState(state, after: zigzag)
    }

    static func readDeltaOfDelta(_ reader: inout BitReader, state: inout UInt8) throws(CodecError) -> Int64 {
        let k = riceParameter(state)
        var quotient = 0
        while quotient < escapeOnes, try reader.readBit() { quotient += 1 }
        let zigzag = quotient == escapeOnes
            ? try reader.readBits(escapeBits)
            : UInt64(quotient) << UInt64(k) | (try reader.readBits(k))
        state = nextState(state, after: zigzag)
        return Varint.unzigzag(zigzag)
    }
}
