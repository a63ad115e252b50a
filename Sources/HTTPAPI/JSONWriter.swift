/// Writes JSON straight into bytes, for answers that can hold millions of
/// points, where Codable would cost a microsecond each (SWIFT-NOTES.md).
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 15)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func int(_ value: Int64) {
        raw(String(value))
    }

    /// A timestamp in Unix seconds, as Prometheus writes them: the integer
    /// seconds and, when not whole, a three-digit millisecond fraction.
    mutating func timestamp(_ milliseconds: Int64) {
        var t = milliseconds
        if t < 0 {
            raw("-")
            t = -t
        }
        raw(String(t / 1000))
        let fraction = t % 1000
        if fraction != 0 {
            raw(".")
            if fraction < 100 { raw("0") }
            if fraction < 10 { raw("0") }
            raw(String(fraction))
        }
    }

    /// A sample value as Prometheus writes it: a string in plain decimal
    /// notation (Go's `FormatFloat(v, 'f', -1, 64)`), or `NaN`, `+Inf`, `-Inf`.
    mutating func sampleValue(_ value: Double) {
        bytes.append(UInt8(ascii: "\""))
        raw(formatSampleValue(value))
        bytes.append(UInt8(ascii: "\""))
    }

    /// `{"a":"1","b":"2"}` for a label set.
    mutating func labels(_ labels: some Sequence<(String, String)>) {
        raw("{")
        var first = true
        for (name, value) in labels {
            if !first { raw(",") }
            first = false
            string(name)
            raw(":")
            string(value)
        }
        raw("}")
    }
}

/// The shortest decimal that reads back as `value`, without an exponent.
func formatSampleValue(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
    if value == 0 { return value.sign == .minus ? "-0" : "0" }
    let shortest = value.description // e.g. "12.5", "1e-07", "1.5e+20", "3.0"
    var text = Substring(shortest)
    var negative = false
    if text.first == "-" {
        negative = true
        text = text.dropFirst()
    }
    var mantissa = text
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = text[..<e]
        exponent = Int(text[text.index(after: e)...]) ?? 0
    }
    var digits = ""
    var pointPosition: Int
    if let dot = mantissa.firstIndex(of: ".") {
        digits = String(mantissa[..<dot]) + String(mantissa[mantissa.index(after: dot)...])
        pointPosition = mantissa.distance(from: mantissa.startIndex, to: dot)
    } else {
        digits = String(mantissa)
        pointPosition = mantissa.count
    }
    pointPosition += exponent
    // Strip leading zeros, adjusting the point.
    while digits.count > 1, digits.first == "0" {
        digits.removeFirst()
        pointPosition -= 1
    }
    // Strip trailing zeros of the fraction.
    while digits.count > max(pointPosition, 1), digits.last == "0" {
        digits.removeLast()
    }
    var out: String
    if pointPosition <= 0 {
        out = "0." + String(repeating: "0", count: -pointPosition) + digits
    } else if pointPosition >= digits.count {
        out = digits + String(repeating: "0", count: pointPosition - digits.count)
    } else {
        let index = digits.index(digits.startIndex, offsetBy: pointPosition)
        out = String(digits[..<index]) + "." + String(digits[index...])
    }
    return negative ? "-" + out : out
}
