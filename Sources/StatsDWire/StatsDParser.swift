#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TelemetryModel

/// The StatsD/DogStatsD line parser. It works on the received bytes and
/// returns byte ranges, so a metric line costs no allocation; events and
/// service checks, which are rare, become `TelemetryEvent` values.
///
/// Grammar (docs/naming.md has the whole table of accepted and rejected forms):
/// `name:value[:value…]|type[|@rate][|#k:v,…][|c:container][|T<seconds>]`.
public struct StatsDParser: Sendable {
    /// Names longer than this many bytes are rejected (`name_too_long`).
    public var maxNameLength: Int

    public init(maxNameLength: Int = 1024) {
        self.maxNameLength = maxNameLength
    }

    /// Parses one line (without its `\n`; a trailing `\r` is ignored).
    /// `now` stamps events that carry no `d:` timestamp.
    @inlinable
    public func parse(_ line: UnsafeRawBufferPointer, now: Int64) -> StatsDLineOutcome {
        let end = Self.contentEnd(line)
        if end == 0 { return .empty }
        if line[0] == UInt8(ascii: "_"), end >= 3 {
            if line[1] == UInt8(ascii: "e"), line[2] == UInt8(ascii: "{") {
                return StatsDEventParser.parseEvent(line, end: end, now: now)
            }
            if end >= 4, line[1] == UInt8(ascii: "s"), line[2] == UInt8(ascii: "c"), line[3] == UInt8(ascii: "|") {
                return StatsDEventParser.parseServiceCheck(line, end: end, now: now)
            }
        }
        switch parseMetric(line, end: end) {
        case .success(let metric): return .metric(metric)
        case .failure(let error): return .failure(error)
        }
    }

    /// The length of a line without its trailing `\r`s (0: an empty line).
    @inlinable
    public static func contentEnd(_ line: UnsafeRawBufferPointer) -> Int {
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return end
    }

    /// Whether a line (not empty) may be a DogStatsD event (`_e{…`) or service
    /// check (`_sc|…`): a cheap test that errs only towards yes, for a caller
    /// that sends such lines to `parse` and the rest straight to `parseMetric`.
    @inlinable
    public static func mayBeEvent(_ line: UnsafeRawBufferPointer) -> Bool {
        line[0] == UInt8(ascii: "_") && line.count >= 3 && (line[1] == UInt8(ascii: "e") || line[1] == UInt8(ascii: "s"))
    }

    /// Parses a metric line, `end` bytes long (see `contentEnd`): the hot
    /// path of `parse`, for a caller that has set events aside (`mayBeEvent`);
    /// its result holds no references, so handing it on costs no reference counting.
    @inlinable @inline(__always)
    public func parseMetric(_ b: UnsafeRawBufferPointer, end: Int) -> Result<StatsDMetricLine, StatsDParseError> {
        // Name: up to the first ':'. Eight bytes at a time while none of them
        // is ':' or '|' (a word with a control or non-ASCII byte only marks the
        // name for the exact check below), then byte by byte.
        var i = 0
        var suspicious = false
        if let base = b.baseAddress {
            while i + 8 <= end {
                let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if Self.hasByte(word, UInt8(ascii: ":")) || Self.hasByte(word, UInt8(ascii: "|")) { break }
                if Self.hasControlOrNonASCII(word) { suspicious = true }
                i += 8
            }
        }
        while i < end {
            let c = b[i]
            if c == UInt8(ascii: ":") || c == UInt8(ascii: "|") { break }
            if c < 0x20 || c >= 0x7F { suspicious = true }
            i += 1
        }
        guard i < end, b[i] == UInt8(ascii: ":") else {
            return .failure(fieldError(.missingColon, b, 0..<end, at: i))
        }
        let name = 0..<i
        if name.isEmpty { return .failure(StatsDParseError(.emptyName, at: 0)) }
        if name.count > maxNameLength { return .failure(StatsDParseError(.nameTooLong, at: maxNameLength)) }
        if suspicious, !ByteValidation.isCleanText(b, name) {
            return .failure(fieldError(.invalidName, b, name, at: 0))
        }

        // Value(s): up to the next '|'.
        var j = i + 1
        while j < end, b[j] != UInt8(ascii: "|") { j += 1 }
        let values = (i + 1)..<j
        if values.isEmpty { return .failure(StatsDParseError(.missingValue, at: i + 1)) }
        guard j < end else { return .failure(fieldError(.missingType, b, values, at: j)) }

        // Type: up to the next '|'.
        var k = j + 1
        while k < end, b[k] != UInt8(ascii: "|") { k += 1 }
        let typeRange = (j + 1)..<k
        guard let kind = Self.kind(b, typeRange) else {
            if typeRange.isEmpty { return .failure(StatsDParseError(.missingType, at: j + 1)) }
            return .failure(fieldError(.unknownType, b, typeRange, at: j + 1))
        }

        // Values, validated now so that a line is taken whole or not at all.
        var firstValue = 0.0
        var firstIsDelta = false
        var valueCount = 1
        var largest = 0.0
        if kind == .set {
            if !ByteValidation.isCleanText(b, values) {
                return .failure(fieldError(.invalidValue, b, values, at: values.lowerBound))
            }
        } else {
            valueCount = 0
            var start = values.lowerBound
            while true {
                var stop = start
                while stop < values.upperBound, b[stop] != UInt8(ascii: ":") { stop += 1 }
                guard let value = NumberParsing.parseDouble(b, start..<stop) else {
                    if start == stop { return .failure(StatsDParseError(.missingValue, at: start)) }
                    return .failure(fieldError(.invalidValue, b, start..<stop, at: start))
                }
                if valueCount == 0 {
                    firstValue = value
                    firstIsDelta = kind == .gauge
                        && (b[start] == UInt8(ascii: "+") || b[start] == UInt8(ascii: "-"))
                }
                valueCount += 1
                largest = max(largest, abs(value))
                if stop == values.upperBound { break }
                start = stop + 1
            }
        }

        // Optional fields.
        var sampleRate = 1.0
        var tags = end..<end
        var container = end..<end
        var timestamp: Int64?
        var f = k
        while f < end {
            let fieldStart = f + 1
            var fieldEnd = fieldStart
            while fieldEnd < end, b[fieldEnd] != UInt8(ascii: "|") { fieldEnd += 1 }
            f = fieldEnd
            if fieldStart == fieldEnd { continue }
            let field = fieldStart..<fieldEnd
            switch b[fieldStart] {
            case UInt8(ascii: "@"):
                guard let rate = NumberParsing.parseDouble(b, (fieldStart + 1)..<fieldEnd), rate > 0, rate <= 1 else {
                    return .failure(fieldError(.invalidSampleRate, b, field, at: fieldStart))
                }
                sampleRate = rate
            case UInt8(ascii: "#"):
                let t = (fieldStart + 1)..<fieldEnd
                if !ByteValidation.isCleanText(b, t) {
                    return .failure(fieldError(.invalidTags, b, t, at: fieldStart))
                }
                tags = t
            case UInt8(ascii: "c") where fieldStart + 1 < fieldEnd && b[fieldStart + 1] == UInt8(ascii: ":"):
                container = (fieldStart + 2)..<fieldEnd
                if !ByteValidation.isCleanText(b, container) {
                    return .failure(fieldError(.invalidField, b, field, at: fieldStart))
                }
            case UInt8(ascii: "T"):
                guard let seconds = NumberParsing.parseUnsigned(b, (fieldStart + 1)..<fieldEnd) else {
                    return .failure(fieldError(.invalidTimestamp, b, field, at: fieldStart))
                }
                timestamp = seconds
            default:
                // Forward compatibility: DogStatsD adds fields as `<letters>:…`
                // (`e:` external data, `card:` cardinality); they are ignored.
                var l = fieldStart
                while l < fieldEnd, b[l] | 0x20 >= UInt8(ascii: "a"), b[l] | 0x20 <= UInt8(ascii: "z") { l += 1 }
                guard l > fieldStart, l < fieldEnd, b[l] == UInt8(ascii: ":"),
                      ByteValidation.isCleanText(b, field) else {
                    return .failure(fieldError(.invalidField, b, field, at: fieldStart))
                }
            }
        }
        // A value scaled by 1/rate must stay finite (1e300 at @1e-10 does not).
        if kind != .set, kind != .gauge, !(sampleRate == 1 ? largest : largest / sampleRate).isFinite {
            return .failure(StatsDParseError(.invalidValue, at: values.lowerBound))
        }
        return .success(StatsDMetricLine(
            name: name, values: values, kind: kind, firstValue: firstValue, firstIsDelta: firstIsDelta,
            valueCount: valueCount, sampleRate: sampleRate, tags: tags, container: container,
            timestamp: timestamp
        ))
    }

    /// Whether any of the eight bytes of `word` is `byte`.
    @inlinable @inline(__always)
    static func hasByte(_ word: UInt64, _ byte: UInt8) -> Bool {
        let v = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
        return (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080 != 0
    }

    /// Whether any of the eight bytes of `word` is below 0x20, 0x7F, or 0x80 and up.
    @inlinable @inline(__always)
    static func hasControlOrNonASCII(_ word: UInt64) -> Bool {
        let high: UInt64 = 0x8080_8080_8080_8080
        // With every byte below 0x80 (checked first), subtracting 0x20 from each
        // borrows into a byte's high bit exactly when that byte is below 0x20.
        return word & high != 0
            || (word &- 0x2020_2020_2020_2020) & ~word & high != 0
            || hasByte(word, 0x7F)
    }

    /// The metric kind of a type field, or nil.
    @inlinable @inline(__always)
    static func kind(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> MetricKind? {
        switch r.count {
        case 1:
            switch b[r.lowerBound] {
            case UInt8(ascii: "c"): return .counter
            case UInt8(ascii: "g"): return .gauge
            case UInt8(ascii: "h"): return .histogram
            case UInt8(ascii: "d"): return .distribution
            case UInt8(ascii: "s"): return .set
            default: return nil
            }
        case 2:
            return b[r.lowerBound] == UInt8(ascii: "m") && b[r.lowerBound + 1] == UInt8(ascii: "s") ? .timer : nil
        default:
            return nil
        }
    }

    /// An error for a field, reported as `nul_byte` when the field holds one,
    /// since that is what the sender most needs to know.
    @usableFromInline
    func fieldError(_ reason: StatsDParseError.Reason, _ b: UnsafeRawBufferPointer, _ field: Range<Int>, at offset: Int) -> StatsDParseError {
        for i in field where b[i] == 0 { return StatsDParseError(.nulByte, at: i) }
        return StatsDParseError(reason, at: offset)
    }

    /// The values of a multi-value line (`x:1:2:3|ms`), in order, each with
    /// whether it carried a sign (for gauges, `+N`/`-N` is a delta). Call only
    /// on a line this parser accepted; the first value is `line.firstValue`.
    @inlinable
    public static func forEachValue(_ b: UnsafeRawBufferPointer, of line: StatsDMetricLine, _ body: (Double, Bool) -> Void) {
        var start = line.values.lowerBound
        while start <= line.values.upperBound {
            var stop = start
            while stop < line.values.upperBound, b[stop] != UInt8(ascii: ":") { stop += 1 }
            if let value = NumberParsing.parseDouble(b, start..<stop) {
                body(value, b[start] == UInt8(ascii: "+") || b[start] == UInt8(ascii: "-"))
            }
            start = stop + 1
        }
    }
}

/// Calls `body` with each newline-terminated line of `buffer` (the last line
/// may lack its newline). Lines are views into the buffer: nothing is copied.
@inlinable
public func forEachLine(in buffer: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    guard let base = buffer.baseAddress else { return }
    var start = 0
    let count = buffer.count
    while start < count {
        let rest = count - start
        let found = memchrNewline(base + start, rest)
        let length = found < 0 ? rest : found
        body(UnsafeRawBufferPointer(start: base + start, count: length))
        start += length + 1
    }
}

/// The offset of the first `\n` in `[pointer, pointer + count)`, or -1.
@inlinable
public func memchrNewline(_ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    guard let hit = memchr(pointer, Int32(UInt8(ascii: "\n")), count) else { return -1 }
    return UnsafeRawPointer(hit) - pointer
}
