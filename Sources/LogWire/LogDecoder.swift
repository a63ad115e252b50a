/// Decodes log lines into `DecodedLog`s: JSON objects and logfmt on the
/// logs port (told apart by the first byte), JSON alone for the HTTP JSON
/// lines API, and syslog. A line that is not what it claims is kept raw
/// with a `parse_error` label naming the format; invalid UTF-8 is replaced
/// by U+FFFD first. Nothing is allocated per line once the `DecodedLog`'s
/// buffers have grown.
public struct LogDecoder: Sendable {
    public let config: LogLabelConfig
    let rules: FieldRules

    public init(config: LogLabelConfig = LogLabelConfig()) {
        self.config = config
        rules = FieldRules(config: config)
    }

    /// A line from the logs port: a JSON object when it starts with `{`,
    /// otherwise logfmt; neither, it is kept raw (source `raw`).
    /// `truncatedBytes` says how much of an over-long line the framing cut.
    public func decodeLine(_ input: UnsafeRawBufferPointer, truncatedBytes: Int = 0, into log: inout DecodedLog) {
        decode(input, truncatedBytes: truncatedBytes, into: &log) { text, log in
            var start = 0
            while start < text.count, text[start] == 0x20 || text[start] == 0x09 { start += 1 }
            if start < text.count, text[start] == UInt8(ascii: "{") {
                readJSON(text, into: &log)
            } else {
                readLogfmt(text, into: &log)
            }
        }
    }

    /// A line that must be a JSON object (`POST /api/v1/logs`).
    public func decodeJSONLine(_ input: UnsafeRawBufferPointer, truncatedBytes: Int = 0, into log: inout DecodedLog) {
        decode(input, truncatedBytes: truncatedBytes, into: &log) { text, log in readJSON(text, into: &log) }
    }

    /// A line that must be logfmt (LogQL's `| logfmt`).
    public func decodeLogfmtLine(_ input: UnsafeRawBufferPointer, into log: inout DecodedLog) {
        decode(input, truncatedBytes: 0, into: &log) { text, log in readLogfmt(text, into: &log) }
    }

    /// One syslog message (RFC 5424, or RFC 3164 as BSD syslog and
    /// `logger --rfc3164` send it), without its framing. `now` (nanoseconds)
    /// supplies the year RFC 3164 leaves out.
    public func decodeSyslog(_ input: UnsafeRawBufferPointer, now: Int64, truncatedBytes: Int = 0, into log: inout DecodedLog) {
        decode(input, truncatedBytes: truncatedBytes, into: &log) { text, log in
            var reader = SyslogReader(input: text, rules: rules, now: now)
            do throws(LogParseError) {
                try reader.read(into: &log)
            } catch {
                keepRaw(text, error: error, into: &log)
            }
        }
    }

    /// A record given whole rather than as a line to decode (Loki's push
    /// API, StatsD events): stream labels, line, time (nanoseconds, or nil
    /// for arrival time) and fields. The `source` label is set to `source`
    /// whatever the labels say, and the level normalised. Returns why the record cannot be taken (a
    /// label name that is not valid), or nil.
    /// The most labels a record given whole may carry into a batch.
    public static let maxRecordLabels = 1_000

    public func makeRecord(
        labels: [(String, String)], line: String, timestamp: Int64?, fields: [(String, String)], source: LogSource,
        maxLineBytes: Int = 256 << 10, into log: inout DecodedLog
    ) -> String? {
        log.reset()
        // The store refuses streams past its label limit with a clear reason; this bound only
        // keeps a flood of labels (a pushed stream of 100,000) from reaching the batch format.
        guard labels.count <= Self.maxRecordLabels else {
            return "a stream with \(labels.count) labels (at most \(Self.maxRecordLabels) can be taken; the store keeps fewer)"
        }
        for (name, _) in labels where !LogDecoder.isValidLabelName(name) {
            return "invalid label name \"\(name)\""
        }
        var text = Array(line.utf8)
        if text.count > maxLineBytes {
            log.truncatedBytes = text.count - maxLineBytes
            text.removeLast(text.count - maxLineBytes)
            // Back off to a whole UTF-8 sequence.
            while let last = text.last, last & 0xC0 == 0x80 { text.removeLast() }
            if let last = text.last, last >= 0xC0 { text.removeLast() }
        }
        text.withUnsafeBytes { log.line = log.append($0) }
        if log.truncatedBytes > 0 {
            _ = log.append(" [truncated ")
            log.bytes.append(contentsOf: Array(String(log.truncatedBytes).utf8))
            _ = log.append(" bytes]")
            log.line = log.line.lowerBound..<log.bytes.count
        }
        // The level is normalised as for decoded records: a `level` label is
        // rewritten, or one is added from `severity`, `lvl` or `loglevel`.
        let levelSource = rules.levelIsLabel
            ? ["level", "lvl", "severity", "loglevel"].lazy.compactMap { key in labels.first { $0.0 == key && !$0.1.isEmpty } }.first
            : nil
        var labels = labels
        // A delivery event's kind is a label, as for decoded records (docs/events.md).
        if let kind = fields.first(where: { $0.0 == "event" })?.1, ["deployment", "incident"].contains(kind),
            !labels.contains(where: { $0.0 == "event" })
        {
            labels.append(("event", kind))
        }
        for (name, value) in labels where !value.isEmpty && name != "source" && !(name == "level" && levelSource != nil) {
            let n = Array(name.utf8).withUnsafeBytes { log.append($0) }
            let v = Array(value.utf8).withUnsafeBytes { log.append($0) }
            log.labels.append(LogPair(name: n, value: v))
        }
        if let (_, value) = levelSource {
            rules.setLevel(Array(value.utf8).withUnsafeBytes { LogLevel(text: $0) }, into: &log)
        }
        for (name, value) in fields {
            let n = Array(name.utf8).withUnsafeBytes { log.append($0) }
            let v = Array(value.utf8).withUnsafeBytes { log.append($0) }
            log.fields.append(LogPair(name: n, value: v))
        }
        log.timestamp = timestamp
        let name = log.append("source")
        let value = log.append(source.staticName)
        log.labels.append(LogPair(name: name, value: value))
        log.source = source
        log.sortLabels()
        return nil
    }

    /// Prometheus's rule for label names, without the reserved `__` prefix.
    static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 48 && first <= 57), !name.hasPrefix("__") else { return false }
        return name.utf8.allSatisfy { c in
            (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c == UInt8(ascii: "_") || (c >= 48 && c <= 57)
        }
    }

    // MARK: Shared steps

    /// Resets `log`, repairs the UTF-8 if it must, runs `body` over the text, and marks truncation.
    private func decode(
        _ input: UnsafeRawBufferPointer, truncatedBytes: Int, into log: inout DecodedLog,
        _ body: (UnsafeRawBufferPointer, inout DecodedLog) -> Void
    ) {
        log.reset()
        log.truncatedBytes = truncatedBytes
        if UTF8Repair.isValid(input) {
            body(input, &log)
        } else {
            // The scratch is moved out while it is read, so `log` can grow meanwhile.
            var scratch = log.repairScratch
            log.repairScratch = []
            UTF8Repair.repair(input, into: &scratch)
            scratch.withUnsafeBytes { body($0, &log) }
            log.repairScratch = scratch
            log.repairedUTF8 = true
        }
        if truncatedBytes > 0 { markTruncated(&log) }
        log.sortLabels()
    }

    private func readJSON(_ text: UnsafeRawBufferPointer, into log: inout DecodedLog) {
        log.line = log.append(text)
        var reader = JSONRecordReader(input: text, rules: rules)
        do {
            try reader.read(into: &log)
            rules.finish(source: .json, into: &log)
        } catch {
            keepRaw(text, error: error, into: &log)
        }
    }

    private func readLogfmt(_ text: UnsafeRawBufferPointer, into log: inout DecodedLog) {
        log.line = log.append(text)
        var reader = LogfmtReader(input: text, rules: rules)
        do {
            try reader.read(into: &log)
            rules.finish(source: .logfmt, into: &log)
        } catch {
            keepRaw(text, error: error, into: &log, source: .raw)
        }
    }

    /// Drops whatever was read and keeps the line as it came.
    private func keepRaw(_ text: UnsafeRawBufferPointer, error: LogParseError, into log: inout DecodedLog, source: LogSource? = nil) {
        let truncated = log.truncatedBytes
        let repaired = log.repairedUTF8
        log.reset()
        log.truncatedBytes = truncated
        log.repairedUTF8 = repaired
        log.line = log.append(text)
        log.parseError = error
        let name = log.append("parse_error")
        let value = log.append(error.format.staticName)
        log.labels.append(LogPair(name: name, value: value))
        rules.finish(source: source ?? error.format, into: &log)
    }

    /// Appends ` [truncated N bytes]` to the line (the line's bytes are the last copied before any name).
    private func markTruncated(_ log: inout DecodedLog) {
        // The line is copied first, so a copy of it with the marker goes at the end.
        let start = log.bytes.count
        for k in log.line { log.bytes.append(log.bytes[k]) }
        _ = log.append(" [truncated ")
        var digits: [UInt8] = []
        var n = log.truncatedBytes
        repeat {
            digits.append(UInt8(48 + n % 10))
            n /= 10
        } while n > 0
        log.bytes.append(contentsOf: digits.reversed())
        _ = log.append(" bytes]")
        log.line = start..<log.bytes.count
    }
}
