/// Cuts a LogQL query into tokens. Strings are double-quoted (Go escapes) or
/// back-quoted (raw); numbers followed by a unit are durations (`5m`,
/// `1.5s`, `1h30m`) or byte sizes (`20MB`, `1KiB`).
struct LogQLLexer {
    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var lineStart = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    static func tokens(_ text: String) throws(LogQLError) -> [LogQLToken] {
        var lexer = LogQLLexer(text)
        var out: [LogQLToken] = []
        while true {
            let token = try lexer.next()
            out.append(token)
            if token.kind == .end { return out }
        }
    }

    private func fail(_ message: String, at position: Int? = nil) -> LogQLError {
        let at = position ?? i
        return LogQLError.parse(line: line, column: at - lineStart + 1, message)
    }

    private mutating func next() throws(LogQLError) -> LogQLToken {
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x0A {
                i += 1
                line += 1
                lineStart = i
            } else if c == 0x20 || c == 0x09 || c == 0x0D {
                i += 1
            } else if c == UInt8(ascii: "#") {
                // A comment runs to the end of the line.
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            } else {
                break
            }
        }
        let start = i
        let column = start - lineStart + 1
        func token(_ kind: LogQLToken.Kind, length: Int) -> LogQLToken {
            i += length
            return LogQLToken(kind: kind, line: line, column: column)
        }
        guard i < bytes.count else { return LogQLToken(kind: .end, line: line, column: column) }
        let c = bytes[i]
        let n: UInt8 = i + 1 < bytes.count ? bytes[i + 1] : 0
        switch c {
        case UInt8(ascii: "{"): return token(.leftBrace, length: 1)
        case UInt8(ascii: "}"): return token(.rightBrace, length: 1)
        case UInt8(ascii: "("): return token(.leftParen, length: 1)
        case UInt8(ascii: ")"): return token(.rightParen, length: 1)
        case UInt8(ascii: "["): return token(.leftBracket, length: 1)
        case UInt8(ascii: "]"): return token(.rightBracket, length: 1)
        case UInt8(ascii: ","): return token(.comma, length: 1)
        case UInt8(ascii: "+"): return token(.plus, length: 1)
        case UInt8(ascii: "*"): return token(.star, length: 1)
        case UInt8(ascii: "/"): return token(.slash, length: 1)
        case UInt8(ascii: "%"): return token(.percent, length: 1)
        case UInt8(ascii: "^"): return token(.caret, length: 1)
        case UInt8(ascii: "|"):
            if n == UInt8(ascii: "=") { return token(.pipeExact, length: 2) }
            if n == UInt8(ascii: "~") { return token(.pipeMatch, length: 2) }
            return token(.pipe, length: 1)
        case UInt8(ascii: "!"):
            if n == UInt8(ascii: "=") { return token(.notEqual, length: 2) }
            if n == UInt8(ascii: "~") { return token(.notMatch, length: 2) }
            throw fail("unexpected character '!'")
        case UInt8(ascii: "="):
            if n == UInt8(ascii: "~") { return token(.equalMatch, length: 2) }
            if n == UInt8(ascii: "=") { return token(.equalEqual, length: 2) }
            return token(.equal, length: 1)
        case UInt8(ascii: ">"):
            return n == UInt8(ascii: "=") ? token(.greaterEqual, length: 2) : token(.greater, length: 1)
        case UInt8(ascii: "<"):
            return n == UInt8(ascii: "=") ? token(.lessEqual, length: 2) : token(.less, length: 1)
        case UInt8(ascii: "-"):
            return token(.minus, length: 1)
        case UInt8(ascii: "\""):
            return LogQLToken(kind: .string(try quoted()), line: line, column: column)
        case UInt8(ascii: "`"):
            i += 1
            let from = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "`") {
                if bytes[i] == 0x0A {
                    line += 1
                    lineStart = i + 1
                }
                i += 1
            }
            guard i < bytes.count else { throw fail("unterminated raw string", at: start) }
            i += 1
            return LogQLToken(kind: .string(String(decoding: bytes[from..<i - 1], as: UTF8.self)), line: line, column: column)
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."):
            return LogQLToken(kind: try numberLike(), line: line, column: column)
        default:
            guard isIdentifierStart(c) else { throw fail("unexpected character '\(String(decoding: [c], as: UTF8.self))'") }
            while i < bytes.count, isIdentifierPart(bytes[i]) { i += 1 }
            return LogQLToken(kind: .identifier(String(decoding: bytes[start..<i], as: UTF8.self)), line: line, column: column)
        }
    }

    private func isIdentifierStart(_ c: UInt8) -> Bool {
        (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c == UInt8(ascii: "_")
    }

    private func isIdentifierPart(_ c: UInt8) -> Bool {
        isIdentifierStart(c) || (c >= 48 && c <= 57)
    }

    /// A Go double-quoted string.
    private mutating func quoted() throws(LogQLError) -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c == 0x0A { throw fail("unterminated string", at: start) }
            if c == UInt8(ascii: "\\"), i + 1 < bytes.count {
                let e = bytes[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(value)
                    else { throw fail("invalid \\u escape in a string", at: i - 2) }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    i += 4
                default:
                    // Kept as written: regular expressions need their backslashes (Loki's lexer does the same).
                    out.append(UInt8(ascii: "\\"))
                    out.append(e)
                }
                continue
            }
            out.append(c)
            i += 1
        }
        throw fail("unterminated string", at: start)
    }

    /// A number, a duration (`5m`, `1h30m`, `1.5s`) or a byte size (`20MB`, `1KiB`).
    private mutating func numberLike() throws(LogQLError) -> LogQLToken.Kind {
        let start = i
        func digits() {
            while i < bytes.count, (bytes[i] >= 48 && bytes[i] <= 57) || bytes[i] == UInt8(ascii: ".") { i += 1 }
        }
        digits()
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e"), i + 1 < bytes.count,
            (bytes[i + 1] >= 48 && bytes[i + 1] <= 57) || bytes[i + 1] == UInt8(ascii: "-") || bytes[i + 1] == UInt8(ascii: "+")
        {
            i += 2
            digits()
        }
        let numberEnd = i
        while i < bytes.count, isIdentifierStart(bytes[i]) || (bytes[i] >= 48 && bytes[i] <= 57) || bytes[i] == UInt8(ascii: ".") || bytes[i] == 0xC2 || bytes[i] == 0xB5 {
            i += 1
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if i == numberEnd {
            guard let value = Double(text) else { throw fail("invalid number \"\(text)\"", at: start) }
            return .number(value)
        }
        if let nanos = LogQLLexer.duration(text) { return .duration(nanos) }
        if let size = LogQLLexer.byteSize(text) { return .bytes(size) }
        throw fail("invalid duration or size \"\(text)\"", at: start)
    }

    /// Go's duration syntax (`1h30m`, `1.5s`, `250ms`, `10us`), plus `d`, `w` and `y` as Prometheus has them; nanoseconds.
    static func duration(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
            ("d", 86_400e9), ("w", 604_800e9), ("y", 31_536_000e9),
        ]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isNumber || $0 == ".") }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        guard total.isFinite, total < 9.2e18 else { return nil }
        return Int64(total.rounded())
    }

    /// A byte size as humanize.ParseBytes reads it: `B`, SI (`KB`, `MB`, … powers of 1000) and IEC (`KiB`, `MiB`, … powers of 1024), case-insensitive.
    static func byteSize(_ text: String) -> Double? {
        let number = text.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number) else { return nil }
        let unit = text.dropFirst(number.count).lowercased()
        let scales: [String: Double] = [
            "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12, "p": 1e15, "pb": 1e15,
            "kib": 1024, "ki": 1024, "mib": 1_048_576, "mi": 1_048_576, "gib": 1_073_741_824, "gi": 1_073_741_824,
            "tib": 1_099_511_627_776, "ti": 1_099_511_627_776,
        ]
        guard let scale = scales[unit] else { return nil }
        return value * scale
    }
}
