/// How OTLP names become Prometheus names, rule by rule as Prometheus 3's
/// OTLP translation does it by default (docs/otlp.md lists them).
enum OTLPNaming {
    /// The words of a name: the runs of characters in `[a-zA-Z0-9]` (and
    /// `:` for metric names), every other character a separator.
    static func words(_ name: String, keepColon: Bool) -> [Substring] {
        var result: [Substring] = []
        let bytes = name.utf8
        var start: String.Index?
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            let inWord = isAlphanumeric(byte) || (keepColon && byte == UInt8(ascii: ":"))
            if inWord, start == nil { start = index }
            if !inWord, let first = start {
                result.append(name[first..<index])
                start = nil
            }
            index = bytes.index(after: index)
        }
        if let first = start { result.append(name[first...]) }
        return result
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: false
        }
    }

    /// The metric name: the name's words joined by `_`, then the unit's
    /// words unless the name already ends with them, then `_total` for a
    /// monotonic sum or `_ratio` for a gauge in unit `1`; a leading digit
    /// gets a `_` before it.
    static func metricName(_ name: String, unit: String, kind: Kind) -> String {
        var parts = words(name, keepColon: true).map(String.init)
        if kind == .counter, parts.last == "total" { parts.removeLast() }
        let unitParts = unitWords(unit)
        if !unitParts.isEmpty, !parts.reversed().starts(with: unitParts.reversed()) { parts += unitParts }
        if kind == .counter { parts.append("total") }
        if kind == .gauge, unit == "1", parts.last != "ratio" { parts.append("ratio") }
        var result = parts.joined(separator: "_")
        if result.isEmpty { result = "_" }
        if let first = result.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") { result = "_" + result }
        return result
    }

    /// What the metric is, as far as its name is concerned.
    enum Kind {
        case counter, gauge, other
    }

    /// The unit as words: `{…}` annotations dropped, `1` none, known UCUM
    /// units spelled out (`s` → `seconds`, `By` → `bytes`), `A/B` as
    /// `A_per_B` with B in the singular (`m/s` → `meters_per_second`).
    static func unitWords(_ unit: String) -> [String] {
        var unit = unit
        while let open = unit.firstIndex(of: "{"), let close = unit[open...].firstIndex(of: "}") {
            unit.removeSubrange(open...close)
        }
        let pieces = unit.split(separator: "/", maxSplits: 1).map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
        guard let main = pieces.first, !(main.isEmpty && pieces.count == 1) else { return [] }
        var result: [String] = []
        if !main.isEmpty, main != "1" {
            result += words(mainUnits[main] ?? main, keepColon: false).map(String.init)
        }
        if pieces.count == 2, !pieces[1].isEmpty {
            let per = words(perUnits[pieces[1]] ?? pieces[1], keepColon: false).map(String.init)
            if !per.isEmpty { result += ["per"] + per }
        }
        return result
    }

    static let mainUnits: [String: String] = [
        "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
        "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
        "TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
        "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius",
        "Hz": "hertz", "%": "percent",
    ]

    static let perUnits: [String: String] = [
        "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
    ]

    /// A label name from an attribute key: every character outside
    /// `[a-zA-Z0-9_]` becomes `_`; a leading digit gets `key_` before it and
    /// a leading single `_` gets `key` (names starting `__` are Prometheus's).
    static func labelName(_ key: String) -> String {
        guard let first = key.utf8.first else { return "" }
        var bytes = Array(key.utf8)
        // A multi-byte character becomes one `_`, as a character outside the set.
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 4)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if isAlphanumeric(byte) || byte == UInt8(ascii: "_") {
                out.append(byte)
                index += 1
            } else {
                out.append(UInt8(ascii: "_"))
                index += 1
                while index < bytes.count, bytes[index] & 0xC0 == 0x80 { index += 1 }
            }
        }
        bytes = out
        if first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            bytes = Array("key_".utf8) + bytes
        } else if bytes.first == UInt8(ascii: "_"), bytes.count < 2 || bytes[1] != UInt8(ascii: "_") {
            bytes = Array("key".utf8) + bytes
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
