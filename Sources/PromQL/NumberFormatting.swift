/// Numbers as Prometheus writes them, from the shortest decimal digits that
/// read back to the same double (Swift's `description` gives those digits;
/// for a double it fits a small string, so reading it allocates nothing).

/// Calls `body` with the shortest round-trip digits of a finite,
/// non-negative double (no leading or trailing zeros; empty for zero) and
/// where the decimal point goes: the value is 0.DIGITS × 10^point.
private func withShortestDigits<R>(_ magnitude: Double, _ body: (UnsafeBufferPointer<UInt8>, Int) -> R) -> R {
    let text = magnitude.description
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
        var count = 0
        var point = 0
        var seenPoint = false
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "."): seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-") where inExponent: exponentSign = -1
            case UInt8(ascii: "+"): break
            default:
                let d = Int(byte) - 48
                if inExponent {
                    exponent = exponent * 10 + d
                } else if count < 32 {
                    // Leading zeros carry no digits (0.0012 → digits 12, point -2).
                    if count == 0 && d == 0 {
                        if seenPoint { point -= 1 }
                        continue
                    }
                    digits[count] = byte
                    count += 1
                    if !seenPoint { point += 1 }
                }
            }
        }
        while count > 0 && digits[count - 1] == UInt8(ascii: "0") { count -= 1 }
        return body(UnsafeBufferPointer(rebasing: digits[0..<count]), point + exponentSign * exponent)
    }
}

/// Appends `digits` with the decimal point after `point` of them, never in exponent form.
private func appendPlain(_ digits: UnsafeBufferPointer<UInt8>, point: Int, to out: inout [UInt8]) {
    if point <= 0 {
        out.append(UInt8(ascii: "0"))
        out.append(UInt8(ascii: "."))
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -point))
        out.append(contentsOf: digits)
    } else if point >= digits.count {
        out.append(contentsOf: digits)
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: point - digits.count))
    } else {
        out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[0..<point]))
        out.append(UInt8(ascii: "."))
        out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[point...]))
    }
}

/// A sample value as Prometheus writes it in JSON and in count_values
/// labels (Go's `FormatFloat(v, 'f', -1, 64)`): shortest digits, never an
/// exponent; `+Inf`, `-Inf`, `NaN`.
public func formatSampleValue(_ value: Double) -> String {
    var bytes: [UInt8] = []
    appendSampleValue(value, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

/// Appends `formatSampleValue(value)` to `out` without building strings:
/// the answer of a range query writes one per point.
public func appendSampleValue(_ value: Double, to out: inout [UInt8]) {
    if value.isNaN { return out.append(contentsOf: "NaN".utf8) }
    if value.isInfinite { return out.append(contentsOf: (value < 0 ? "-Inf" : "+Inf").utf8) }
    if value.sign == .minus { out.append(UInt8(ascii: "-")) }
    if value == 0 { return out.append(UInt8(ascii: "0")) }
    // Whole numbers below 2^53 (counters, most gauges) print as themselves: no digit search.
    let magnitude = value.magnitude
    if magnitude < 9_007_199_254_740_992, magnitude.rounded(.towardZero) == magnitude {
        return appendDecimal(UInt64(magnitude), to: &out)
    }
    withShortestDigits(magnitude) { digits, point in appendPlain(digits, point: point, to: &out) }
}

/// The decimal digits of `value`, appended without a String (answers write
/// two numbers per point).
public func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
    var n = value
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: UInt64.max has 20 digits
    withUnsafeMutableBytes(of: &digits) { buffer in
        var i = buffer.count
        repeat {
            i -= 1
            buffer[i] = UInt8(truncatingIfNeeded: 48 + n % 10)
            n /= 10
        } while n > 0
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[i...]))
    }
}

/// A number as Prometheus prints it in expressions (Go's `%v`): the
/// shortest digits, in exponent form when the exponent is below -4 or at
/// least 6 (`1e+06`, `1e-05`, `123456.5`); `+Inf`, `-Inf`, `NaN`.
func formatNumber(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
    var out: [UInt8] = value.sign == .minus ? [UInt8(ascii: "-")] : []
    if value == 0 {
        out.append(UInt8(ascii: "0"))
    } else {
        withShortestDigits(value.magnitude) { digits, point in
            let exponent = point - 1
            guard exponent < -4 || exponent >= 6 else { return appendPlain(digits, point: point, to: &out) }
            out.append(digits[0])
            if digits.count > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[1...]))
            }
            out.append(UInt8(ascii: "e"))
            out.append(UInt8(ascii: exponent < 0 ? "-" : "+"))
            let e = String(abs(exponent)).utf8
            if e.count < 2 { out.append(UInt8(ascii: "0")) }
            out.append(contentsOf: e)
        }
    }
    return String(decoding: out, as: UTF8.self)
}
