/// Splits a PromQL query into tokens, reporting the byte offset of any error.
public struct Lexer {
    private let bytes: [UInt8]
    private let query: String
    private var index = 0

    public init(_ query: String) {
        self.query = query
        bytes = Array(query.utf8)
    }

    /// Every token of the query, ending with `.end`.
    public mutating func tokenize() throws(PromQLError) -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func error(_ message: String, _ offset: Int) -> PromQLError {
        PromQLError(.parse, message, at: offset, in: query)
    }

    private mutating func next() throws(PromQLError) -> Token {
        // Skip white space and comments.
        while index < bytes.count {
            let c = bytes[index]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                index += 1
            } else if c == UInt8(ascii: "#") {
                while index < bytes.count, bytes[index] != 0x0A { index += 1 }
            } else {
                break
            }
        }
        let start = index
        guard index < bytes.count else { return Token(kind: .end, text: "", offset: start, length: 0) }
        let c = bytes[index]
        func single(_ kind: Token.Kind) -> Token {
            index += 1
            return Token(kind: kind, text: String(decoding: [c], as: UTF8.self), offset: start, length: 1)
        }
        func pair(_ second: UInt8, _ twoKind: Token.Kind, _ oneKind: Token.Kind?) throws(PromQLError) -> Token {
            if index + 1 < bytes.count, bytes[index + 1] == second {
                index += 2
                return Token(kind: twoKind, text: String(decoding: [c, second], as: UTF8.self), offset: start, length: 2)
            }
            guard let oneKind else { throw error("unexpected character: '\(String(decoding: [c], as: UTF8.self))'", start) }
            return single(oneKind)
        }
        switch c {
        case UInt8(ascii: "{"): return single(.leftBrace)
        case UInt8(ascii: "}"): return single(.rightBrace)
        case UInt8(ascii: "("): return single(.leftParen)
        case UInt8(ascii: ")"): return single(.rightParen)
        case UInt8(ascii: "["): return single(.leftBracket)
        case UInt8(ascii: "]"): return single(.rightBracket)
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: ":"): return single(.colon)
        case UInt8(ascii: "@"): return single(.at)
        case UInt8(ascii: "+"): return single(.plus)
        case UInt8(ascii: "-"): return single(.minus)
        case UInt8(ascii: "*"): return single(.star)
        case UInt8(ascii: "/"): return single(.slash)
        case UInt8(ascii: "%"): return single(.percent)
        case UInt8(ascii: "^"): return single(.caret)
        case UInt8(ascii: "="):
            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "~") { return try pair(UInt8(ascii: "~"), .regexMatch, nil) }
            return try pair(UInt8(ascii: "="), .eqlEql, .equal)
        case UInt8(ascii: "!"):
            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "~") { return try pair(UInt8(ascii: "~"), .regexNoMatch, nil) }
            return try pair(UInt8(ascii: "="), .notEqual, nil)
        case UInt8(ascii: "<"): return try pair(UInt8(ascii: "="), .lessEqual, .less)
        case UInt8(ascii: ">"): return try pair(UInt8(ascii: "="), .greaterEqual, .greater)
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
            return try lexString(quote: c, start: start)
        default:
            if isIdentifierStart(c) {
                while index < bytes.count, isIdentifierPart(bytes[index]) { index += 1 }
                return Token(kind: .identifier, text: String(decoding: bytes[start..<index], as: UTF8.self),
                             offset: start, length: index - start)
            }
            if isDigit(c) || c == UInt8(ascii: ".") {
                return try lexNumberOrDuration(start: start)
            }
            throw error("unexpected character: '\(String(decoding: [c], as: UTF8.self))'", start)
        }
    }

    private mutating func lexString(quote: UInt8, start: Int) throws(PromQLError) -> Token {
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let c = bytes[index]
            if c == quote {
                index += 1
                return Token(kind: .string, text: String(decoding: out, as: UTF8.self), offset: start, length: index - start)
            }
            if c == 0x0A && quote != UInt8(ascii: "`") { break }
            if c == UInt8(ascii: "\\"), quote != UInt8(ascii: "`") {
                index += 1
                guard index < bytes.count else { break }
                let e = bytes[index]
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"): out.append(e)
                case UInt8(ascii: "a"): out.append(0x07)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "v"): out.append(0x0B)
                default:
                    // Keep unknown escapes (regular expressions use `\d`, `\.`).
                    out.append(UInt8(ascii: "\\"))
                    out.append(e)
                }
                index += 1
                continue
            }
            out.append(c)
            index += 1
        }
        throw error("unterminated quoted string", start)
    }

    private mutating func lexNumberOrDuration(start: Int) throws(PromQLError) -> Token {
        // Hexadecimal: 0x1f.
        if bytes[index] == UInt8(ascii: "0"), index + 1 < bytes.count, bytes[index + 1] | 0x20 == UInt8(ascii: "x") {
            index += 2
            while index < bytes.count, isHexDigit(bytes[index]) { index += 1 }
            guard index > start + 2 else { throw error("bad number \"0x\"", start) }
            return Token(kind: .number, text: String(decoding: bytes[start..<index], as: UTF8.self),
                         offset: start, length: index - start)
        }
        while index < bytes.count, isDigit(bytes[index]) || bytes[index] == UInt8(ascii: ".") { index += 1 }
        // A duration: digits followed by a unit letter (and possibly more terms).
        if index < bytes.count, "smhdwy".utf8.contains(bytes[index]) {
            while index < bytes.count, isDigit(bytes[index]) || "smhdwy".utf8.contains(bytes[index]) { index += 1 }
            return Token(kind: .duration, text: String(decoding: bytes[start..<index], as: UTF8.self),
                         offset: start, length: index - start)
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard Double(text) != nil else { throw error("bad number \"\(text)\"", start) }
        return Token(kind: .number, text: text, offset: start, length: index - start)
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private func isHexDigit(_ c: UInt8) -> Bool { isDigit(c) || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "f")) }
    private func isIdentifierStart(_ c: UInt8) -> Bool {
        (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c == UInt8(ascii: "_") || c == UInt8(ascii: ":")
    }
    private func isIdentifierPart(_ c: UInt8) -> Bool { isIdentifierStart(c) || isDigit(c) }
}
