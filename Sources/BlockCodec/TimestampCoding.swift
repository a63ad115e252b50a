/// The head chunk's timestamp coding, shared by both of its value codings:
/// delta-of-delta in Gorilla's buckets (docs/format/chunks.md, "Head chunk").
enum TimestampCoding {
    static func writeDeltaOfDelta<Sink: BitSink>(_ dod: Int64, to stream: inout Sink) {
        if dod == 0 {
            stream.writeBit(false)
        } else if fits(dod, bits: 14) {
            stream.writeBits(0b10, count: 2)
            stream.writeBits(UInt64(bitPattern: dod), count: 14)
        } else if fits(dod, bits: 17) {
            stream.writeBits(0b110, count: 3)
            stream.writeBits(UInt64(bitPattern: dod), count: 17)
        } else if fits(dod, bits: 20) {
            stream.writeBits(0b1110, count: 4)
            stream.writeBits(UInt64(bitPattern: dod), count: 20)
        } else {
            stream.writeBits(0b1111, count: 4)
            stream.writeBits(UInt64(bitPattern: dod), count: 64)
        }
    }

    static func readDeltaOfDelta(_ reader: inout BitReader) throws(CodecError) -> Int64 {
        var prefix = 0
        while prefix < 4, try reader.readBit() { prefix += 1 }
        let width: Int
        switch prefix {
        case 0: return 0
        case 1: width = 14
        case 2: width = 17
        case 3: width = 20
        default: width = 64
        }
        let raw = try reader.readBits(width)
        if width == 64 { return Int64(bitPattern: raw) }
        // Sign-extend from `width` bits; the top of the range wraps as the writer's does.
        var value = Int64(raw)
        if value > Int64(1) << (width - 1) { value -= Int64(1) << width }
        return value
    }
}

/// Whether a signed value fits in `bits` two's-complement bits, with the
/// asymmetric range Prometheus uses (−2^(n−1)+1 … 2^(n−1)).
@inline(__always)
func fits(_ value: Int64, bits: Int) -> Bool {
    value >= -(Int64(1) << (bits - 1)) + 1 && value <= Int64(1) << (bits - 1)
}
