import TelemetryModel

/// Reads a record's own time from the text of its `ts`, `time`, `timestamp`
/// or `@timestamp` field: RFC 3339, or a Unix time whose unit is told by its
/// size (below 1e11 seconds, below 1e14 milliseconds, below 1e17
/// microseconds, else nanoseconds), with or without a fraction.
public enum RecordTimestamp {
    /// Nanoseconds since the epoch, or nil when the text is no time.
    public static func nanoseconds(_ text: UnsafeRawBufferPointer) -> Int64? {
        guard let first = text.first else { return nil }
        if first >= 48, first <= 57, text.count >= 19, text[4] == UInt8(ascii: "-") {
            if case .success(let nanos) = parseRFC3339Nanoseconds(text) { return nanos }
            return nil
        }
        return unixTime(text)
    }

    private static func unixTime(_ text: UnsafeRawBufferPointer) -> Int64? {
        var integer: Int64 = 0
        var i = 0
        var integerDigits = 0
        while i < text.count, text[i] >= 48, text[i] <= 57 {
            // Past Int64 (19 digits above 9223372036854775807, or more): no time.
            let (times10, o1) = integer.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(text[i] - 48))
            guard !o1, !o2 else { return nil }
            integer = next
            integerDigits += 1
            i += 1
        }
        guard integerDigits > 0 else { return nil }
        // The unit, from the size of the integer part.
        let nanosPerUnit: Int64
        switch integer {
        case ..<100_000_000_000: nanosPerUnit = 1_000_000_000
        case ..<100_000_000_000_000: nanosPerUnit = 1_000_000
        case ..<100_000_000_000_000_000: nanosPerUnit = 1000
        default: nanosPerUnit = 1
        }
        let (scaled, overflow) = integer.multipliedReportingOverflow(by: nanosPerUnit)
        guard !overflow else { return nil }
        var fraction: Int64 = 0
        if i < text.count, text[i] == UInt8(ascii: ".") {
            i += 1
            var scale = nanosPerUnit / 10
            let start = i
            while i < text.count, text[i] >= 48, text[i] <= 57 {
                fraction += Int64(text[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i == text.count else { return nil }
        let (nanos, overflow2) = scaled.addingReportingOverflow(fraction)
        return overflow2 ? nil : nanos
    }
}
