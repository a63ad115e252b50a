import TelemetryModel

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
        while i < range.upperBound {
            let n = utf8SequenceLength(bytes, at: i, end: range.upperBound)
            if n == 0 { return false }
            i += n
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
