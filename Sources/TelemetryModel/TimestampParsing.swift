/// Parses a timestamp as the Prometheus HTTP API accepts it: Unix seconds
/// (with an optional fraction) or RFC 3339 (`2026-11-29T04:47:43.123Z`,
/// `…+02:00`). Returns milliseconds since the epoch.
public func parseTimestamp(_ text: String) throws(TimeParseError) -> Int64 {
    if let seconds = Double(text) {
        guard seconds.isFinite, abs(seconds) < 9.2e12 else {
            throw TimeParseError(input: text, reason: "timestamp out of range")
        }
        return Int64((seconds * 1000).rounded())
    }
    return try parseRFC3339(text)
}

/// Parses an RFC 3339 date-time to milliseconds since the epoch.
public func parseRFC3339(_ text: String) throws(TimeParseError) -> Int64 {
    let bytes = Array(text.utf8)
    switch bytes.withUnsafeBytes({ parseRFC3339Parts($0) }) {
    case .success(let parts): return parts.seconds * 1000 + Int64(parts.nanoseconds / 1_000_000)
    case .failure(let failure): throw TimeParseError(input: text, reason: failure.reason)
    }
}

/// Why bytes are not an RFC 3339 date-time, and where.
public struct RFC3339Failure: Error, Sendable, Equatable {
    public var reason: String
}

/// Parses an RFC 3339 date-time (`2026-11-29T04:47:43.123456789Z`, `…+02:00`;
/// `t` or a space may stand for `T`) to nanoseconds since the epoch. Works
/// on the received bytes, for log records whose time is in the text. Years
/// outside 1678...2261 do not fit in 64-bit nanoseconds and are refused.
public func parseRFC3339Nanoseconds(_ b: UnsafeRawBufferPointer) -> Result<Int64, RFC3339Failure> {
    parseRFC3339Parts(b).flatMap { parts in
        let (scaled, overflow) = parts.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, overflow2) = scaled.addingReportingOverflow(Int64(parts.nanoseconds))
        guard !overflow, !overflow2 else { return .failure(RFC3339Failure(reason: "out of range for nanoseconds")) }
        return .success(sum)
    }
}

/// Seconds since the epoch and the nanoseconds beyond them.
private func parseRFC3339Parts(_ b: UnsafeRawBufferPointer) -> Result<(seconds: Int64, nanoseconds: Int), RFC3339Failure> {
    func fail(_ reason: String) -> Result<(seconds: Int64, nanoseconds: Int), RFC3339Failure> {
        .failure(RFC3339Failure(reason: reason))
    }
    func digits(_ at: Int, _ count: Int) -> Int? {
        guard at + count <= b.count else { return nil }
        var value = 0
        for i in at..<at + count {
            guard b[i] >= 48, b[i] <= 57 else { return nil }
            value = value * 10 + Int(b[i] - 48)
        }
        return value
    }
    func isByte(_ at: Int, _ a: UInt8, _ c: UInt8 = 0, _ d: UInt8 = 0) -> Bool {
        at < b.count && (b[at] == a || (c != 0 && b[at] == c) || (d != 0 && b[at] == d))
    }
    guard b.count >= 19 else { return fail("too short for RFC 3339") }
    guard let year = digits(0, 4) else { return fail("expected a digit at offset 0") }
    guard isByte(4, UInt8(ascii: "-")) else { return fail("expected '-' at offset 4") }
    guard let month = digits(5, 2) else { return fail("expected a digit at offset 5") }
    guard isByte(7, UInt8(ascii: "-")) else { return fail("expected '-' at offset 7") }
    guard let day = digits(8, 2) else { return fail("expected a digit at offset 8") }
    guard isByte(10, UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")) else { return fail("expected 'T' at offset 10") }
    guard let hour = digits(11, 2) else { return fail("expected a digit at offset 11") }
    guard isByte(13, UInt8(ascii: ":")) else { return fail("expected ':' at offset 13") }
    guard let minute = digits(14, 2) else { return fail("expected a digit at offset 14") }
    guard isByte(16, UInt8(ascii: ":")) else { return fail("expected ':' at offset 16") }
    guard let second = digits(17, 2) else { return fail("expected a digit at offset 17") }
    guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
        return fail("field out of range")
    }
    var index = 19
    var nanos = 0
    if isByte(index, UInt8(ascii: ".")) {
        index += 1
        var scale = 100_000_000
        let start = index
        while index < b.count, b[index] >= 48, b[index] <= 57 {
            nanos += Int(b[index] - 48) * scale
            scale /= 10
            index += 1
        }
        guard index > start else { return fail("expected fraction digits at offset \(start)") }
    }
    guard index < b.count else { return fail("missing time zone (Z or ±hh:mm)") }
    var offsetSeconds = 0
    switch b[index] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
        index += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
        let sign = b[index] == UInt8(ascii: "-") ? -1 : 1
        guard let oh = digits(index + 1, 2) else { return fail("expected a digit at offset \(index + 1)") }
        guard isByte(index + 3, UInt8(ascii: ":")) else { return fail("expected ':' at offset \(index + 3)") }
        guard let om = digits(index + 4, 2) else { return fail("expected a digit at offset \(index + 4)") }
        offsetSeconds = sign * (oh * 3600 + om * 60)
        index += 6
    default:
        return fail("expected a time zone at offset \(index)")
    }
    guard index == b.count else { return fail("unexpected text at offset \(index)") }
    let days = daysFromCivil(year: year, month: month, day: day)
    let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
    return .success((seconds, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
public func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
public func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

/// Formats milliseconds since the epoch as RFC 3339 in UTC, with milliseconds.
public func formatRFC3339(_ milliseconds: Int64) -> String {
    let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
    let ms = Int(milliseconds - seconds * 1000)
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secOfDay = Int(seconds - days * 86_400)
    let (y, m, d) = civilFromDays(Int(days))
    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):\(pad(secOfDay % 60, 2)).\(pad(ms, 3))Z"
}
