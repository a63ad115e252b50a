import TelemetryModel

/// Reads one syslog message, RFC 5424 or RFC 3164, into a record: the
/// message is the line, APP-NAME (or the 3164 tag) the `service` label,
/// HOSTNAME the `host` label, the severity the `level` label; the facility,
/// PROCID, MSGID and every structured-data parameter become fields.
struct SyslogReader {
    let input: UnsafeRawBufferPointer
    let rules: FieldRules
    /// Nanoseconds since the epoch: the year for RFC 3164 stamps.
    let now: Int64
    var i = 0

    init(input: UnsafeRawBufferPointer, rules: FieldRules, now: Int64) {
        self.input = input
        self.rules = rules
        self.now = now
    }

    static let facilities: [StaticString] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5",
        "local6", "local7",
    ]

    private func fail(_ reason: String) -> LogParseError {
        LogParseError(format: .syslog, offset: i, reason: reason)
    }

    mutating func read(into log: inout DecodedLog) throws(LogParseError) {
        guard i < input.count, input[i] == UInt8(ascii: "<") else { throw fail("expected '<' and a priority") }
        i += 1
        var priority = 0
        let from = i
        while i < input.count, input[i] >= 48, input[i] <= 57, i - from < 3 {
            priority = priority * 10 + Int(input[i] - 48)
            i += 1
        }
        guard i > from, i < input.count, input[i] == UInt8(ascii: ">"), priority <= 191 else {
            throw fail("expected a priority of 0 to 191 and '>'")
        }
        i += 1
        rules.setLevel(LogLevel(syslogSeverity: priority & 7), into: &log)
        // RFC 5424 has a version (1) and a space after the priority.
        if i + 1 < input.count, input[i] >= 49, input[i] <= 57, input[i + 1] == 0x20 {
            i += 2
            try read5424(into: &log)
        } else {
            read3164(into: &log)
        }
        let name = log.append("facility")
        let value = log.append(Self.facilities[priority >> 3])
        log.fields.append(LogPair(name: name, value: value))
        rules.finish(source: .syslog, into: &log)
    }

    // MARK: RFC 5424

    private mutating func read5424(into log: inout DecodedLog) throws(LogParseError) {
        let stamp = try token("a timestamp")
        if !(stamp.count == 1 && input[stamp.lowerBound] == UInt8(ascii: "-")) {
            switch parseRFC3339Nanoseconds(UnsafeRawBufferPointer(rebasing: input[stamp])) {
            case .success(let nanos): log.timestamp = nanos
            case .failure(let failure):
                i = stamp.lowerBound
                throw fail("bad timestamp: \(failure.reason)")
            }
        }
        let host = try token("a hostname")
        let app = try token("an app name")
        let procID = try token("a process id")
        let messageID = try token("a message id")
        if let host = nilUnlessDash(host) { rules.setLabel("host", value: UnsafeRawBufferPointer(rebasing: input[host]), into: &log) }
        if let app = nilUnlessDash(app) { rules.setLabel("service", value: UnsafeRawBufferPointer(rebasing: input[app]), into: &log) }
        if let procID = nilUnlessDash(procID) { addField("pid", procID, into: &log) }
        if let messageID = nilUnlessDash(messageID) { addField("msgid", messageID, into: &log) }
        try readStructuredData(into: &log)
        // The message, after one space; a UTF-8 byte order mark is dropped.
        if i < input.count, input[i] == 0x20 { i += 1 }
        if i + 3 <= input.count, input[i] == 0xEF, input[i + 1] == 0xBB, input[i + 2] == 0xBF { i += 3 }
        log.line = log.append(UnsafeRawBufferPointer(rebasing: input[i...]))
    }

    /// The next space-delimited header field.
    private mutating func token(_ what: String) throws(LogParseError) -> Range<Int> {
        let from = i
        while i < input.count, input[i] != 0x20 { i += 1 }
        guard i > from else { throw fail("expected \(what)") }
        guard i < input.count else { throw fail("message ends after \(what)") }
        let range = from..<i
        i += 1
        return range
    }

    private func nilUnlessDash(_ range: Range<Int>) -> Range<Int>? {
        range.count == 1 && input[range.lowerBound] == UInt8(ascii: "-") ? nil : range
    }

    private func addField(_ name: StaticString, _ value: Range<Int>, into log: inout DecodedLog) {
        let n = log.append(name)
        let v = log.append(UnsafeRawBufferPointer(rebasing: input[value]))
        log.fields.append(LogPair(name: n, value: v))
    }

    /// `-` or `[id name="value" ...]...`; each parameter becomes a field.
    private mutating func readStructuredData(into log: inout DecodedLog) throws(LogParseError) {
        guard i < input.count else { return }
        if input[i] == UInt8(ascii: "-") {
            i += 1
            return
        }
        guard input[i] == UInt8(ascii: "[") else { throw fail("expected '-' or '[' for structured data") }
        while i < input.count, input[i] == UInt8(ascii: "[") {
            i += 1
            let idFrom = i
            while i < input.count, input[i] > 0x20, input[i] != UInt8(ascii: "]"), input[i] != UInt8(ascii: "=") { i += 1 }
            guard i > idFrom else { throw fail("expected an SD-ID") }
            while true {
                guard i < input.count else { throw fail("unterminated structured data") }
                if input[i] == UInt8(ascii: "]") {
                    i += 1
                    break
                }
                guard input[i] == 0x20 else { throw fail("expected a space or ']'") }
                i += 1
                let nameFrom = i
                while i < input.count, input[i] > 0x20, input[i] != UInt8(ascii: "="), input[i] != UInt8(ascii: "]") { i += 1 }
                guard i > nameFrom, i < input.count, input[i] == UInt8(ascii: "=") else { throw fail("expected name=\"value\"") }
                let rawName = log.append(UnsafeRawBufferPointer(rebasing: input[nameFrom..<i]))
                let name = rules.sanitize(rawName, in: &log)
                i += 1
                guard i < input.count, input[i] == UInt8(ascii: "\"") else { throw fail("expected '\"'") }
                i += 1
                let valueStart = log.bytes.count
                while true {
                    guard i < input.count else { throw fail("unterminated parameter value") }
                    let c = input[i]
                    if c == UInt8(ascii: "\"") {
                        i += 1
                        break
                    }
                    // Only \" \\ and \] are escapes; any other backslash is kept.
                    if c == UInt8(ascii: "\\"), i + 1 < input.count,
                        input[i + 1] == UInt8(ascii: "\"") || input[i + 1] == UInt8(ascii: "\\") || input[i + 1] == UInt8(ascii: "]")
                    {
                        log.bytes.append(input[i + 1])
                        i += 2
                        continue
                    }
                    log.bytes.append(c)
                    i += 1
                }
                rules.take(name: name, value: valueStart..<log.bytes.count, topLevel: true, timestampKey: false, into: &log)
            }
        }
    }

    // MARK: RFC 3164

    private static let months: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, leniently, as senders vary:
    /// after a timestamp the first word is the host; a word ending in `:`
    /// or `[pid]:` is the tag; what no part claims is the message.
    private mutating func read3164(into log: inout DecodedLog) {
        var host: Range<Int>?
        if let nanos = stamp3164() {
            log.timestamp = nanos
            i += 16
            let from = i
            while i < input.count, input[i] != 0x20 { i += 1 }
            // A first word ending in ':' or holding '[' is the tag: the host was left out.
            let isTag = i > from && (input[i - 1] == UInt8(ascii: ":") || input[from..<i].contains(UInt8(ascii: "[")))
            if i < input.count, i > from, !isTag {
                host = from..<i
                i += 1
            } else {
                i = from
            }
        }
        let messageIfNoTag = i
        // TAG[PID]: or TAG:
        let tagFrom = i
        while i < input.count, input[i] != 0x20, input[i] != UInt8(ascii: ":"), input[i] != UInt8(ascii: "[") { i += 1 }
        let tag = tagFrom..<i
        var pid: Range<Int>?
        if i < input.count, input[i] == UInt8(ascii: "[") {
            var j = i + 1
            while j < input.count, input[j] != UInt8(ascii: "]") { j += 1 }
            if j < input.count {
                pid = i + 1..<j
                i = j + 1
            }
        }
        let tagFound = !tag.isEmpty && tag.count <= 48 && i < input.count && input[i] == UInt8(ascii: ":")
        if let host { rules.setLabel("host", value: UnsafeRawBufferPointer(rebasing: input[host]), into: &log) }
        if tagFound {
            rules.setLabel("service", value: UnsafeRawBufferPointer(rebasing: input[tag]), into: &log)
            if let pid { addField("pid", pid, into: &log) }
            i += 1
            if i < input.count, input[i] == 0x20 { i += 1 }
        } else {
            i = messageIfNoTag
        }
        log.line = log.append(UnsafeRawBufferPointer(rebasing: input[i...]))
    }

    /// The time of a `Mmm dd hh:mm:ss ` stamp at `i` in UTC, in the year that
    /// puts it no more than a day after `now`.
    private func stamp3164() -> Int64? {
        guard i + 16 <= input.count, input[i + 3] == 0x20, input[i + 6] == 0x20, input[i + 9] == UInt8(ascii: ":"),
            input[i + 12] == UInt8(ascii: ":"), input[i + 15] == 0x20
        else { return nil }
        guard
            let month = Self.months.firstIndex(where: { m in
                m.withUTF8Buffer { $0[0] == input[i] && $0[1] == input[i + 1] && $0[2] == input[i + 2] }
            })
        else { return nil }
        func number(_ at: Int) -> Int? {
            let a = input[at], b = input[at + 1]
            guard b >= 48, b <= 57, a == 0x20 || (a >= 48 && a <= 57) else { return nil }
            return (a == 0x20 ? 0 : Int(a - 48) * 10) + Int(b - 48)
        }
        guard let day = number(i + 4), let hour = number(i + 7), let minute = number(i + 10), let second = number(i + 13),
            (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let nowSeconds = floorDivide(now, 1_000_000_000)
        var year = civilFromDays(Int(floorDivide(nowSeconds, 86_400))).year
        func at(_ year: Int) -> Int64 {
            let days = daysFromCivil(year: year, month: month + 1, day: day)
            return (Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1_000_000_000
        }
        if at(year) > now + 86_400 * 1_000_000_000 { year -= 1 }
        return at(year)
    }
}
