/// Gorilla's value coding, shared by the head chunk and the block chunk's
/// `xor` encoding: the first value as 64 raw bits, then each value XORed
/// with the previous one: `0` when equal; `10` and the meaningful bits when
/// they fit the previous leading/trailing-zero window; `11`, 5 bits of
/// leading zeros, 6 bits of length (0 meaning 64) and the bits otherwise.
struct XORValueEncoder: Sendable {
    private(set) var lastBits: UInt64 = 0
    /// The window's leading zeros (at most 31), or one of the two states before a window.
    private var leading = Self.nothingWritten
    private var trailing: UInt8 = 0
    /// `leading` before the first value.
    private static let nothingWritten: UInt8 = 0xFE
    /// `leading` after the first value, before the first window.
    static let noWindow: UInt8 = 0xFF

    mutating func write<Sink: BitSink>(_ bits: UInt64, to stream: inout Sink) {
        defer { lastBits = bits }
        guard leading != Self.nothingWritten else {
            leading = Self.noWindow
            stream.writeBits(bits, count: 64)
            return
        }
        Self.write(bits, after: lastBits, leading: &leading, trailing: &trailing, to: &stream)
    }

    /// Writes a value after the first: `leading` and `trailing` are the
    /// window so far (`leading == noWindow` before there is one) and become
    /// the window the next value is coded against.
    @inline(__always)
    static func write<Sink: BitSink>(
        _ bits: UInt64, after lastBits: UInt64, leading: inout UInt8, trailing: inout UInt8, to stream: inout Sink
    ) {
        let xor = bits ^ lastBits
        if xor == 0 {
            stream.writeBit(false)
            return
        }
        stream.writeBit(true)
        let newLeading = UInt8(min(xor.leadingZeroBitCount, 31))
        let newTrailing = UInt8(xor.trailingZeroBitCount)
        if leading != noWindow, newLeading >= leading, newTrailing >= trailing {
            stream.writeBit(false)
            stream.writeBits(xor >> UInt64(trailing), count: 64 - Int(leading) - Int(trailing))
            return
        }
        leading = newLeading
        trailing = newTrailing
        let significant = 64 - Int(leading) - Int(trailing)
        stream.writeBit(true)
        stream.writeBits(UInt64(leading), count: 5)
        stream.writeBits(UInt64(significant & 63), count: 6)
        stream.writeBits(xor >> UInt64(trailing), count: significant)
    }
}

/// Reads what `XORValueEncoder` wrote.
struct XORValueDecoder {
    private(set) var bits: UInt64 = 0
    private var leading = 0
    private var trailing = 0
    private var started = false

    mutating func read(from reader: inout BitReader) throws(CodecError) {
        guard started else {
            started = true
            bits = try reader.readBits(64)
            return
        }
        guard try reader.readBit() else { return }
        if try reader.readBit() {
            leading = Int(try reader.readBits(5))
            var significant = Int(try reader.readBits(6))
            if significant == 0 { significant = 64 }
            trailing = 64 - leading - significant
            guard trailing >= 0 else {
                throw CodecError(.inconsistent("XOR window wider than 64 bits"), offset: reader.position >> 3)
            }
        }
        bits ^= try reader.readBits(64 - leading - trailing) << UInt64(trailing)
    }
}
