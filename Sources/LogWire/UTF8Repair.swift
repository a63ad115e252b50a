/// UTF-8 checks and repair over received bytes.
enum UTF8Repair {
    /// The length of the valid UTF-8 sequence starting at `i`, or 0 when the
    /// byte there does not start one.
    static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
        let b = bytes[i]
        if b < 0x80 { return 1 }
        let need: Int
        var minimum: UInt32
        var scalar: UInt32
        switch b {
        case 0xC2...0xDF: need = 1; minimum = 0x80; scalar = UInt32(b & 0x1F)
        case 0xE0...0xEF: need = 2; minimum = 0x800; scalar = UInt32(b & 0x0F)
        case 0xF0...0xF4: need = 3; minimum = 0x10000; scalar = UInt32(b & 0x07)
        default: return 0
        }
        guard i + need < bytes.count else { return 0 }
        for k in 1...need {
            let c = bytes[i + k]
            guard c & 0xC0 == 0x80 else { return 0 }
            scalar = scalar << 6 | UInt32(c & 0x3F)
        }
        if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return 0 }
        return need + 1
    }

    /// True when every byte belongs to a valid UTF-8 sequence.
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < bytes.count {
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            let n = sequenceLength(bytes, at: i)
            if n == 0 { return false }
            i += n
        }
        return true
    }

    /// Copies `bytes` into `out`, each byte that starts no valid sequence
    /// replaced by U+FFFD.
    static func repair(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var i = 0
        while i < bytes.count {
            let n = sequenceLength(bytes, at: i)
            if n == 0 {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD] as [UInt8])
                i += 1
            } else {
                for k in i..<i + n { out.append(bytes[k]) }
                i += n
            }
        }
    }

    /// Appends the UTF-8 encoding of a scalar (U+FFFD for a surrogate or one out of range).
    static func appendScalar(_ value: UInt32, to out: inout [UInt8]) {
        var v = value
        if v > 0x10FFFF || (0xD800...0xDFFF).contains(v) { v = 0xFFFD }
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (v >> 6)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (v >> 12)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (v >> 18)))
            out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
