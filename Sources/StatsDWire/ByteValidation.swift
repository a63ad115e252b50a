/// Checks on raw bytes, kept off the common path: ASCII printable bytes are
/// tested first, UTF-8 decoding runs only when a byte has its high bit set.
@usableFromInline
enum ByteValidation {
    /// True when `bytes[range]` is valid UTF-8 without control characters.
    @inlinable
    static func isCleanText(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var high = false
        for i in range {
            let b = bytes[i]
            if b < 0x20 || b == 0x7F { return false }
            if b >= 0x80 { high = true }
        }
        return !high || isValidUTF8(bytes, range)
    }

    @usableFromInline
    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let need: Int
            var minimum: UInt32
            var scalar: UInt32
            switch b {
            case 0xC2...0xDF: need = 1; minimum = 0x80; scalar = UInt32(b & 0x1F)
            case 0xE0...0xEF: need = 2; minimum = 0x800; scalar = UInt32(b & 0x0F)
            case 0xF0...0xF4: need = 3; minimum = 0x10000; scalar = UInt32(b & 0x07)
            default: return false
            }
            guard i + need < end else { return false }
            for k in 1...need {
                let c = bytes[i + k]
                guard c & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(c & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return false }
            i += need + 1
        }
        return true
    }

    /// True when `bytes[range]` holds a NUL byte.
    @usableFromInline
    static func containsNUL(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        for i in range where bytes[i] == 0 { return true }
        return false
    }
}
