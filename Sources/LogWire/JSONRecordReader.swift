/// Reads one JSON object into a record's fields: nested objects are
/// flattened with `_` between the keys (`{"http":{"status":500}}` gives
/// `http_status`), as Loki's `| json` does; arrays are kept as their JSON
/// text; strings are unescaped; `null` members are left out.
struct JSONRecordReader {
    let input: UnsafeRawBufferPointer
    let rules: FieldRules
    var i = 0
    static let maxDepth = 64

    init(input: UnsafeRawBufferPointer, rules: FieldRules) {
        self.input = input
        self.rules = rules
    }

    mutating func read(into log: inout DecodedLog) throws(LogParseError) {
        skipSpace()
        guard i < input.count, input[i] == UInt8(ascii: "{") else { throw fail("expected '{'") }
        try readObject(prefix: nil, depth: 0, into: &log)
        skipSpace()
        guard i == input.count else { throw fail("unexpected text after the object") }
    }

    private func fail(_ reason: String) -> LogParseError {
        LogParseError(format: .json, offset: i, reason: reason)
    }

    private mutating func skipSpace() {
        while i < input.count, input[i] == 0x20 || input[i] == 0x09 || input[i] == 0x0A || input[i] == 0x0D { i += 1 }
    }

    /// Reads `{...}` from `i` (at the brace), filing its members.
    private mutating func readObject(prefix: Range<Int>?, depth: Int, into log: inout DecodedLog) throws(LogParseError) {
        guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        i += 1
        skipSpace()
        if i < input.count, input[i] == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            skipSpace()
            guard i < input.count, input[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let start = log.bytes.count
            if let prefix {
                for k in prefix { log.bytes.append(log.bytes[k]) }
                log.bytes.append(UInt8(ascii: "_"))
            }
            let keyStart = log.bytes.count
            try readString(into: &log)
            let timestampKey = prefix == nil && rules.isTimestampKey(keyStart..<log.bytes.count, in: log)
            let name = rules.sanitize(start..<log.bytes.count, in: &log)
            skipSpace()
            guard i < input.count, input[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            guard i < input.count else { throw fail("expected a value") }
            switch input[i] {
            case UInt8(ascii: "{"):
                try readObject(prefix: name, depth: depth + 1, into: &log)
            case UInt8(ascii: "n"):
                try expectWord("null")
            default:
                let from = i
                let value = try readValue(depth: depth, into: &log)
                // The text in the line: inside the quotes of a string.
                let text = input[from] == UInt8(ascii: "\"") ? (from + 1)..<(i - 1) : from..<i
                if !name.isEmpty {
                    rules.take(
                        name: name, value: value, topLevel: prefix == nil, timestampKey: timestampKey, valueInLine: text,
                        into: &log)
                }
            }
            skipSpace()
            guard i < input.count else { throw fail("unterminated object") }
            if input[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard input[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            i += 1
            return
        }
    }

    /// Reads a string, number, boolean or array at `i` and copies its text; returns where.
    private mutating func readValue(depth: Int, into log: inout DecodedLog) throws(LogParseError) -> Range<Int> {
        let start = log.bytes.count
        switch input[i] {
        case UInt8(ascii: "\""):
            try readString(into: &log)
        case UInt8(ascii: "t"):
            try expectWord("true")
            _ = log.append("true")
        case UInt8(ascii: "f"):
            try expectWord("false")
            _ = log.append("false")
        case UInt8(ascii: "["):
            let from = i
            try skipArray(depth: depth + 1)
            _ = log.append(UnsafeRawBufferPointer(rebasing: input[from..<i]))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let from = i
            try skipNumber()
            _ = log.append(UnsafeRawBufferPointer(rebasing: input[from..<i]))
        default:
            throw fail("expected a value")
        }
        return start..<log.bytes.count
    }

    private mutating func expectWord(_ word: StaticString) throws(LogParseError) {
        let ok = word.withUTF8Buffer { w in
            i + w.count <= input.count && w.enumerated().allSatisfy { input[i + $0.offset] == $0.element }
        }
        guard ok else { throw fail("expected a value") }
        i += word.utf8CodeUnitCount
    }

    /// Validates a number per JSON's grammar and moves past it.
    private mutating func skipNumber() throws(LogParseError) {
        func digits() -> Int {
            let from = i
            while i < input.count, input[i] >= 48, input[i] <= 57 { i += 1 }
            return i - from
        }
        if input[i] == UInt8(ascii: "-") { i += 1 }
        guard i < input.count, input[i] >= 48, input[i] <= 57 else { throw fail("expected a digit") }
        if input[i] == 48 {
            i += 1
        } else {
            _ = digits()
        }
        if i < input.count, input[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw fail("expected a digit after '.'") }
        }
        if i < input.count, input[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < input.count, input[i] == UInt8(ascii: "+") || input[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("expected a digit in the exponent") }
        }
    }

    /// Moves past an array (or a nested value in one), checking it.
    private mutating func skipArray(depth: Int) throws(LogParseError) {
        guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        i += 1
        skipSpace()
        if i < input.count, input[i] == UInt8(ascii: "]") {
            i += 1
            return
        }
        while true {
            skipSpace()
            try skipAny(depth: depth)
            skipSpace()
            guard i < input.count else { throw fail("unterminated array") }
            if input[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard input[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            i += 1
            return
        }
    }

    private mutating func skipAny(depth: Int) throws(LogParseError) {
        guard i < input.count else { throw fail("expected a value") }
        switch input[i] {
        case UInt8(ascii: "["): try skipArray(depth: depth + 1)
        case UInt8(ascii: "{"): try skipObject(depth: depth + 1)
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try expectWord("true")
        case UInt8(ascii: "f"): try expectWord("false")
        case UInt8(ascii: "n"): try expectWord("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw fail("expected a value")
        }
    }

    private mutating func skipObject(depth: Int) throws(LogParseError) {
        guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        i += 1
        skipSpace()
        if i < input.count, input[i] == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            skipSpace()
            guard i < input.count, input[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            try skipString()
            skipSpace()
            guard i < input.count, input[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            try skipAny(depth: depth)
            skipSpace()
            guard i < input.count else { throw fail("unterminated object") }
            if input[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard input[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            i += 1
            return
        }
    }

    private mutating func skipString() throws(LogParseError) {
        i += 1
        while i < input.count {
            let c = input[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return
            }
            if c < 0x20 { throw fail("control character in a string") }
            i += c == UInt8(ascii: "\\") ? 2 : 1
        }
        throw fail("unterminated string")
    }

    /// Reads the string at `i` (at its quote), appending it unescaped.
    private mutating func readString(into log: inout DecodedLog) throws(LogParseError) {
        i += 1
        while i < input.count {
            let c = input[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                return
            case UInt8(ascii: "\\"):
                try readEscape(into: &log)
            case 0..<0x20:
                throw fail("control character in a string")
            default:
                log.bytes.append(c)
                i += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func readEscape(into log: inout DecodedLog) throws(LogParseError) {
        guard i + 1 < input.count else { throw fail("unterminated string") }
        let e = input[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): log.bytes.append(e)
        case UInt8(ascii: "b"): log.bytes.append(0x08)
        case UInt8(ascii: "f"): log.bytes.append(0x0C)
        case UInt8(ascii: "n"): log.bytes.append(0x0A)
        case UInt8(ascii: "r"): log.bytes.append(0x0D)
        case UInt8(ascii: "t"): log.bytes.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar), i + 1 < input.count, input[i] == UInt8(ascii: "\\"), input[i + 1] == UInt8(ascii: "u") {
                let save = i
                i += 2
                let low = try hex4()
                if (0xDC00..<0xE000).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    i = save
                }
            }
            UTF8Repair.appendScalar(scalar, to: &log.bytes)
        default:
            i -= 1
            throw fail("invalid escape")
        }
    }

    private mutating func hex4() throws(LogParseError) -> UInt32 {
        guard i + 4 <= input.count else { throw fail("expected four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = input[i]
            let digit: UInt32
            switch c {
            case 48...57: digit = UInt32(c - 48)
            case 65...70: digit = UInt32(c - 55)
            case 97...102: digit = UInt32(c - 87)
            default: throw fail("expected a hex digit")
            }
            value = value << 4 | digit
            i += 1
        }
        return value
    }
}
