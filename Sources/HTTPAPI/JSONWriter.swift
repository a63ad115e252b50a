import PromQL

/// Writes JSON straight into bytes, for answers that can hold millions of
/// points, where Codable would cost a microsecond each (SWIFT-NOTES.md).
struct JSONWriter: Sendable {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Text already valid inside JSON, written as it is. A separate name, so a
    /// literal passed to `raw` stays a `StaticString` (the String overload would
    /// win for literals and append through the slow `UTF8View` path).
    mutating func unescaped(_ text: String) {
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
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            return decimal(value.magnitude)
        }
        decimal(UInt64(value))
    }

    private mutating func decimal(_ value: UInt64) {
        appendDecimal(value, to: &bytes)
    }

    /// A timestamp in Unix seconds, as Prometheus writes them: the integer
    /// seconds and, when not whole, a three-digit millisecond fraction.
    mutating func timestamp(_ milliseconds: Int64) {
        var t = milliseconds
        if t < 0 {
            raw("-")
            t = -t
        }
        decimal(UInt64(t / 1000))
        let fraction = t % 1000
        if fraction != 0 {
            raw(".")
            if fraction < 100 { raw("0") }
            if fraction < 10 { raw("0") }
            decimal(UInt64(fraction))
        }
    }

    /// A sample value as Prometheus writes it: a string in plain decimal
    /// notation (Go's `FormatFloat(v, 'f', -1, 64)`), or `NaN`, `+Inf`, `-Inf`.
    mutating func sampleValue(_ value: Double) {
        bytes.append(UInt8(ascii: "\""))
        appendSampleValue(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `[time,"value"]`: one sample of an answer.
    mutating func point(_ milliseconds: Int64, _ value: Double) {
        bytes.append(UInt8(ascii: "["))
        timestamp(milliseconds)
        bytes.append(UInt8(ascii: ","))
        sampleValue(value)
        bytes.append(UInt8(ascii: "]"))
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
