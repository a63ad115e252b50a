/// Reads a logfmt line (`level=info msg="request done" took=12ms`) into a
/// record's fields. A key is a run of bytes above space without `=` or `"`;
/// a value is bare (up to the next space; `=` allowed) or double-quoted with
/// JSON's escapes; a key without `=` has an empty value. A line is logfmt
/// only when it holds at least one `key=value` pair.
struct LogfmtReader {
    let input: UnsafeRawBufferPointer
    let rules: FieldRules
    var i = 0

    init(input: UnsafeRawBufferPointer, rules: FieldRules) {
        self.input = input
        self.rules = rules
    }

    private func fail(_ reason: String) -> LogParseError {
        LogParseError(format: .logfmt, offset: i, reason: reason)
    }

    mutating func read(into log: inout DecodedLog) throws(LogParseError) {
        var pairs = 0
        while true {
            while i < input.count, input[i] <= 0x20 { i += 1 }
            guard i < input.count else { break }
            let keyFrom = i
            while i < input.count, input[i] > 0x20, input[i] != UInt8(ascii: "="), input[i] != UInt8(ascii: "\"") { i += 1 }
            if i < input.count, input[i] == UInt8(ascii: "\"") { throw fail("unexpected '\"' in a key") }
            guard i > keyFrom else { throw fail("expected a key before '='") }
            let rawKey = log.append(UnsafeRawBufferPointer(rebasing: input[keyFrom..<i]))
            let timestampKey = rules.isTimestampKey(rawKey, in: log)
            let name = rules.sanitize(rawKey, in: &log)
            var value = log.bytes.count..<log.bytes.count
            var text: Range<Int>?
            if i < input.count, input[i] == UInt8(ascii: "=") {
                i += 1
                pairs += 1
                if i < input.count, input[i] == UInt8(ascii: "\"") {
                    let from = i
                    value = try readQuoted(into: &log)
                    text = (from + 1)..<(i - 1)
                    guard i == input.count || input[i] <= 0x20 else { throw fail("expected a space after a quoted value") }
                } else {
                    let from = i
                    while i < input.count, input[i] > 0x20 {
                        if input[i] == UInt8(ascii: "\"") { throw fail("unexpected '\"' in a value") }
                        i += 1
                    }
                    value = log.append(UnsafeRawBufferPointer(rebasing: input[from..<i]))
                    text = from..<i
                }
            }
            rules.take(name: name, value: value, topLevel: true, timestampKey: timestampKey, valueInLine: text, into: &log)
        }
        guard pairs > 0 else {
            i = 0
            throw fail("no key=value pair")
        }
    }

    private mutating func readQuoted(into log: inout DecodedLog) throws(LogParseError) -> Range<Int> {
        let start = log.bytes.count
        i += 1
        while i < input.count {
            let c = input[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return start..<log.bytes.count
            }
            if c == UInt8(ascii: "\\"), i + 1 < input.count {
                let e = input[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "n"): log.bytes.append(0x0A)
                case UInt8(ascii: "t"): log.bytes.append(0x09)
                case UInt8(ascii: "r"): log.bytes.append(0x0D)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): log.bytes.append(e)
                default:
                    // Unknown escapes are kept as written.
                    log.bytes.append(UInt8(ascii: "\\"))
                    log.bytes.append(e)
                }
                continue
            }
            log.bytes.append(c)
            i += 1
        }
        throw fail("unterminated quoted value")
    }
}
