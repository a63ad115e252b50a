/// The error for a duration or timestamp that does not parse.
public struct TimeParseError: Error, CustomStringConvertible, Sendable {
    public var input: String
    public var reason: String
    public var description: String { "cannot parse \"\(input)\": \(reason)" }
}

/// Durations as Prometheus writes them: one or more `<number><unit>` terms,
/// largest unit first (`1h30m`, `500ms`, `10s`), with units `ms`, `s`, `m`,
/// `h`, `d`, `w`, `y`. Returns milliseconds.
public func parseDuration(_ text: String) throws(TimeParseError) -> Int64 {
    let units: [(String, Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
        ("d", 86_400_000), ("w", 604_800_000), ("y", 31_536_000_000),
    ]
    let bytes = Array(text.utf8)
    guard !bytes.isEmpty else { throw TimeParseError(input: text, reason: "empty duration") }
    if text == "0" { return 0 }
    var index = 0
    var total: Int64 = 0
    var lastUnitRank = Int.max
    while index < bytes.count {
        var number: Int64 = 0
        let digitsStart = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (m, o1) = number.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw TimeParseError(input: text, reason: "duration out of range") }
            number = a
            index += 1
        }
        guard index > digitsStart else {
            throw TimeParseError(input: text, reason: "expected a number at offset \(index)")
        }
        var matched: (rank: Int, factor: Int64, length: Int)?
        for (rank, (unit, factor)) in units.enumerated() {
            let u = Array(unit.utf8)
            if index + u.count <= bytes.count, Array(bytes[index..<index + u.count]) == u {
                // "m" must not swallow the "m" of "ms".
                if matched == nil || u.count > matched!.length {
                    matched = (rank, factor, u.count)
                }
            }
        }
        guard let unit = matched else {
            throw TimeParseError(input: text, reason: "expected a unit (ms, s, m, h, d, w, y) at offset \(index)")
        }
        guard unit.rank < lastUnitRank || lastUnitRank == Int.max else {
            throw TimeParseError(input: text, reason: "units must go from largest to smallest")
        }
        lastUnitRank = unit.rank
        let (m, o1) = number.multipliedReportingOverflow(by: unit.factor)
        let (a, o2) = total.addingReportingOverflow(m)
        guard !o1, !o2 else { throw TimeParseError(input: text, reason: "duration out of range") }
        total = a
        index += unit.length
    }
    return total
}

/// A duration in Prometheus's notation or as (fractional) seconds, as the
/// HTTP API accepts for `step` and `timeout`. Returns milliseconds.
public func parseDurationOrSeconds(_ text: String) throws(TimeParseError) -> Int64 {
    if let seconds = Double(text) {
        guard seconds.isFinite, abs(seconds) < 9.2e15 else {
            throw TimeParseError(input: text, reason: "duration out of range")
        }
        return Int64((seconds * 1000).rounded())
    }
    return try parseDuration(text)
}

/// Formats milliseconds the way Prometheus prints durations (`1h30m`, `500ms`).
public func formatDuration(_ milliseconds: Int64) -> String {
    if milliseconds == 0 { return "0s" }
    var rest = milliseconds
    var out = milliseconds < 0 ? "-" : ""
    rest = abs(rest)
    for (unit, factor) in [("y", Int64(31_536_000_000)), ("w", 604_800_000), ("d", 86_400_000),
                           ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        if rest >= factor {
            out += "\(rest / factor)\(unit)"
            rest %= factor
        }
    }
    return out
}
