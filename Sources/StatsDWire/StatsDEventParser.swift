import TelemetryModel

/// DogStatsD events and service checks. They are rare, so they are decoded
/// into `TelemetryEvent` values (with their allocations) rather than ranges.
@usableFromInline
enum StatsDEventParser {
    /// `_e{title_len,text_len}:title|text|d:ts|h:host|k:key|p:prio|s:source|t:alert|#tags`
    @usableFromInline
    static func parseEvent(_ b: UnsafeRawBufferPointer, end: Int, now: Int64) -> StatsDLineOutcome {
        func fail(_ offset: Int) -> StatsDLineOutcome {
            for i in 0..<end where b[i] == 0 { return .failure(StatsDParseError(.nulByte, at: i)) }
            return .failure(StatsDParseError(.invalidEvent, at: offset))
        }
        var i = 3
        guard let titleLength = readInt(b, &i, end: end, until: UInt8(ascii: ",")) else { return fail(i) }
        i += 1
        guard let textLength = readInt(b, &i, end: end, until: UInt8(ascii: "}")) else { return fail(i) }
        i += 1
        guard i < end, b[i] == UInt8(ascii: ":") else { return fail(i) }
        i += 1
        let titleRange = i..<(i + titleLength)
        guard titleLength > 0, titleRange.upperBound < end, b[titleRange.upperBound] == UInt8(ascii: "|") else {
            return fail(i)
        }
        let textRange = (titleRange.upperBound + 1)..<(titleRange.upperBound + 1 + textLength)
        guard textRange.upperBound <= end,
              textRange.upperBound == end || b[textRange.upperBound] == UInt8(ascii: "|") else {
            return fail(textRange.lowerBound)
        }
        guard ByteValidation.isCleanText(b, titleRange), ByteValidation.isValidUTF8(b, textRange),
              !ByteValidation.containsNUL(b, textRange) else { return fail(titleRange.lowerBound) }
        var event = TelemetryEvent(
            kind: .event,
            title: unescape(string(b, titleRange)),
            text: unescape(string(b, textRange)),
            timestamp: now
        )
        var f = textRange.upperBound
        while f < end {
            let start = f + 1
            var stop = start
            while stop < end, b[stop] != UInt8(ascii: "|") { stop += 1 }
            f = stop
            guard stop > start else { continue }
            switch sharedField(b, start..<stop, into: &event) {
            case .handled: continue
            case .invalid: return fail(start)
            case .specific: break
            }
            let value = string(b, (start + 2)..<stop)
            switch b[start] {
            case UInt8(ascii: "k"): event.aggregationKey = value
            case UInt8(ascii: "p"):
                guard value == "normal" || value == "low" else { return fail(start) }
                event.priority = value
            case UInt8(ascii: "s"): event.sourceType = value
            case UInt8(ascii: "t"):
                guard ["error", "warning", "info", "success"].contains(value) else { return fail(start) }
                event.alertType = value
            default:
                return fail(start)
            }
        }
        return .event(event)
    }

    /// `_sc|name|status|d:ts|h:host|#tags|m:message` (`m:` last: it may hold `|`).
    @usableFromInline
    static func parseServiceCheck(_ b: UnsafeRawBufferPointer, end: Int, now: Int64) -> StatsDLineOutcome {
        func fail(_ offset: Int) -> StatsDLineOutcome {
            for i in 0..<end where b[i] == 0 { return .failure(StatsDParseError(.nulByte, at: i)) }
            return .failure(StatsDParseError(.invalidServiceCheck, at: offset))
        }
        var i = 4
        let nameStart = i
        while i < end, b[i] != UInt8(ascii: "|") { i += 1 }
        let nameRange = nameStart..<i
        guard !nameRange.isEmpty, ByteValidation.isCleanText(b, nameRange) else { return fail(nameStart) }
        guard i < end else { return fail(i) }
        i += 1
        let statusStart = i
        while i < end, b[i] != UInt8(ascii: "|") { i += 1 }
        guard let status = NumberParsing.parseUnsigned(b, statusStart..<i), status <= 3 else { return fail(statusStart) }
        var check = TelemetryEvent(kind: .serviceCheck, title: string(b, nameRange), text: "",
                                   timestamp: now, status: Int(status))
        var f = i
        while f < end {
            let start = f + 1
            if end - start >= 2, b[start] == UInt8(ascii: "m"), b[start + 1] == UInt8(ascii: ":") {
                guard ByteValidation.isValidUTF8(b, (start + 2)..<end), !ByteValidation.containsNUL(b, (start + 2)..<end) else {
                    return fail(start)
                }
                check.text = unescape(string(b, (start + 2)..<end))
                break
            }
            var stop = start
            while stop < end, b[stop] != UInt8(ascii: "|") { stop += 1 }
            f = stop
            guard stop > start else { continue }
            // A service check has no fields of its own besides `m:` (above).
            guard case .handled = sharedField(b, start..<stop, into: &check) else { return fail(start) }
        }
        return .event(check)
    }

    enum SharedField {
        case handled
        /// A well-formed `x:value` field that only the caller knows.
        case specific
        case invalid
    }

    /// The fields events and service checks share: `#tags`, `d:` (Unix
    /// seconds) and `h:` (hostname). `field` is not empty.
    static func sharedField(_ b: UnsafeRawBufferPointer, _ field: Range<Int>, into event: inout TelemetryEvent) -> SharedField {
        guard ByteValidation.isCleanText(b, field) else { return .invalid }
        let start = field.lowerBound
        if b[start] == UInt8(ascii: "#") {
            event.tags = MetricNaming.labels(fromTags: UnsafeRawBufferPointer(rebasing: b[(start + 1)..<field.upperBound]))
            return .handled
        }
        guard field.count >= 2, b[start + 1] == UInt8(ascii: ":") else { return .invalid }
        let value = (start + 2)..<field.upperBound
        switch b[start] {
        case UInt8(ascii: "d"):
            guard let millis = parseSeconds(b, value) else { return .invalid }
            event.timestamp = millis
            return .handled
        case UInt8(ascii: "h"):
            event.hostname = string(b, value)
            return .handled
        default:
            return .specific
        }
    }

    /// Unix seconds as milliseconds, or nil when not a number or out of range.
    static func parseSeconds(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> Int64? {
        guard let seconds = NumberParsing.parseUnsigned(b, r) else { return nil }
        let (millis, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? nil : millis
    }

    static func readInt(_ b: UnsafeRawBufferPointer, _ i: inout Int, end: Int, until terminator: UInt8) -> Int? {
        let start = i
        while i < end, b[i] != terminator { i += 1 }
        guard i < end, let value = NumberParsing.parseUnsigned(b, start..<i), value <= 65_536 else { return nil }
        return Int(value)
    }

    static func string(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: b[r]), as: UTF8.self)
    }

    /// DogStatsD escapes newlines in text as `\n`.
    static func unescape(_ text: String) -> String {
        text.contains("\\n") ? text.split(separator: "\\n", omittingEmptySubsequences: false).joined(separator: "\n") : text
    }
}


