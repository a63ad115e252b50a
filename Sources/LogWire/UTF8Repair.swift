import TelemetryModel

/// UTF-8 checks and repair over received bytes.
enum UTF8Repair {
    static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
        utf8SequenceLength(bytes, at: i, end: bytes.count)
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
