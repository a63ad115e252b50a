#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decimal numbers from bytes without allocating: `[+-]?digits[.digits][e[+-]digits]`.
/// Hex, `NaN`, `Inf`, and anything out of double's range are refused.
@usableFromInline
enum NumberParsing {
    @usableFromInline static let powersOfTen: [Double] = (0...22).map { exp in
        var value = 1.0
        for _ in 0..<exp { value *= 10 }
        return value
    }

    /// Parses `bytes[range]` as a finite double, or returns nil.
    @inlinable
    static func parseDouble(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Double? {
        var i = range.lowerBound
        let end = range.upperBound
        guard i < end else { return nil }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0          // significant digits accumulated in the mantissa
        var anyDigit = false
        var exponent = 0        // decimal exponent to apply to the mantissa
        var truncated = false
        while i < end, bytes[i] &- UInt8(ascii: "0") < 10 {
            anyDigit = true
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- UInt8(ascii: "0"))
                if mantissa != 0 { digits += 1 }
            } else {
                exponent += 1
                truncated = true
            }
            i += 1
        }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < end, bytes[i] &- UInt8(ascii: "0") < 10 {
                anyDigit = true
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- UInt8(ascii: "0"))
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                } else {
                    truncated = true
                }
                i += 1
            }
        }
        guard anyDigit else { return nil }
        if i < end, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < end, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            var expValue = 0
            var expDigits = 0
            while i < end, bytes[i] &- UInt8(ascii: "0") < 10 {
                if expValue < 100_000 { expValue = expValue * 10 + Int(bytes[i] &- UInt8(ascii: "0")) }
                expDigits += 1
                i += 1
            }
            guard expDigits > 0 else { return nil }
            exponent += expNegative ? -expValue : expValue
        }
        guard i == end else { return nil }
        // Clinger's fast path: both the mantissa and the power of ten are exact
        // doubles, so one IEEE multiplication or division rounds correctly.
        if !truncated, mantissa < (1 << 53), exponent >= -22, exponent <= 22 {
            var value = Double(mantissa)
            value = exponent < 0 ? value / powersOfTen[-exponent] : value * powersOfTen[exponent]
            return negative ? -value : value
        }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        return slowPath(bytes, range)
    }

    /// strtod on a NUL-terminated copy on the stack: rare (long or extreme numbers).
    @usableFromInline
    static func slowPath(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Double? {
        let length = range.count
        guard length < 512 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer -> Double? in
            for k in 0..<length { buffer[k] = CChar(bitPattern: bytes[range.lowerBound + k]) }
            buffer[length] = 0
            var endPointer: UnsafeMutablePointer<CChar>?
            // A temporary allocation of at least one element always has a base address.
            let value = strtod(buffer.baseAddress!, &endPointer)
            guard let endPointer, endPointer - buffer.baseAddress! == length, value.isFinite else { return nil }
            return value
        }
    }

    /// Parses `bytes[range]` as a non-negative whole number (at most 18 digits).
    @inlinable
    static func parseUnsigned(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int64? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value: Int64 = 0
        for i in range {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            value = value * 10 + Int64(d)
        }
        return value
    }
}
