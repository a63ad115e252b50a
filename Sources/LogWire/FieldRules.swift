/// What becomes of each field a reader finds: the record's time, its level,
/// a stream label, or structured data.
struct FieldRules: Sendable {
    let labelNames: [[UInt8]]
    let levelIsLabel: Bool
    let maxLabelValueBytes: Int

    static let timestampKeys: [[UInt8]] = ["ts", "time", "timestamp", "@timestamp"].map { Array($0.utf8) }
    static let levelKeys: [[UInt8]] = ["level", "lvl", "severity", "loglevel"].map { Array($0.utf8) }
    static let levelName = Array("level".utf8)
    static let eventName = Array("event".utf8)
    /// The `event` values that make a record a delivery event, and the field a label.
    static let deliveryKinds: [[UInt8]] = ["deployment", "incident"].map { Array($0.utf8) }

    init(config: LogLabelConfig) {
        labelNames = config.labelFields.filter { $0 != "source" && $0 != "parse_error" && $0 != "level" }.map { Array($0.utf8) }
        levelIsLabel = config.labelFields.contains("level")
        maxLabelValueBytes = config.maxLabelValueBytes
    }

    /// Files one field whose name and value are in `log.bytes`. Only
    /// top-level fields can be the time, the level or a label;
    /// `timestampKey` says the key, as it came, was one of the time keys.
    /// `valueInLine` is where the value's text lies in the line, when it
    /// lies there unchanged (no escapes): a time read from it is stored as a
    /// reference to that text rather than a second time.
    func take(
        name: Range<Int>, value: Range<Int>, topLevel: Bool, timestampKey: Bool, valueInLine: Range<Int>? = nil,
        into log: inout DecodedLog
    ) {
        if topLevel {
            if log.timestamp == nil, timestampKey {
                let nanos = log.bytes.withUnsafeBytes { RecordTimestamp.nanoseconds(UnsafeRawBufferPointer(rebasing: $0[value])) }
                if let nanos {
                    log.timestamp = nanos
                    if let valueInLine, valueInLine.count == value.count { log.timestampText = valueInLine }
                    return
                }
            }
            if levelIsLabel, Self.levelKeys.contains(where: { log.bytes(name, equal: $0) }), !log.hasLabel(Self.levelName) {
                let level = log.bytes.withUnsafeBytes { LogLevel(text: UnsafeRawBufferPointer(rebasing: $0[value])) }
                setLevel(level, into: &log)
                return
            }
            // Delivery events (docs/events.md) are found by their stream: `event` is a label for them.
            if log.bytes(name, equal: Self.eventName), Self.deliveryKinds.contains(where: { log.bytes(value, equal: $0) }),
                !log.hasLabel(Self.eventName)
            {
                log.labels.append(LogPair(name: name, value: value))
                return
            }
            if !value.isEmpty, value.count <= maxLabelValueBytes,
                let key = labelNames.first(where: { log.bytes(name, equal: $0) }), !log.hasLabel(key)
            {
                log.labels.append(LogPair(name: name, value: value))
                return
            }
        }
        log.fields.append(LogPair(name: name, value: value))
    }

    /// Sets the `level` label, when levels are labels and none is set yet.
    func setLevel(_ level: LogLevel, into log: inout DecodedLog) {
        guard levelIsLabel, !log.hasLabel(Self.levelName) else { return }
        let name = log.append("level")
        let value = log.append(level.staticName)
        log.labels.append(LogPair(name: name, value: value))
    }

    /// Sets a label read by position rather than by field (syslog's APP-NAME
    /// and HOSTNAME), when it is configured and not set yet.
    func setLabel(_ name: StaticString, value: UnsafeRawBufferPointer, into log: inout DecodedLog) {
        guard !value.isEmpty, value.count <= maxLabelValueBytes,
            let key = name.withUTF8Buffer({ buffer in labelNames.first { $0.elementsEqual(buffer) } }), !log.hasLabel(key)
        else { return }
        let nameRange = log.append(name)
        let valueRange = log.append(value)
        log.labels.append(LogPair(name: nameRange, value: valueRange))
    }

    /// The labels every record gets: `source`, and `level="unknown"` when
    /// levels are labels and the record had none.
    func finish(source: LogSource, into log: inout DecodedLog) {
        if levelIsLabel, log.parseError == nil { setLevel(.unknown, into: &log) }
        log.source = source
        let name = log.append("source")
        let value = log.append(source.staticName)
        log.labels.append(LogPair(name: name, value: value))
    }

    /// Whether the key in `log.bytes[range]`, as it came, is one of the time keys.
    func isTimestampKey(_ range: Range<Int>, in log: DecodedLog) -> Bool {
        Self.timestampKeys.contains { log.bytes(range, equal: $0) }
    }

    /// Makes the name in `log.bytes[range]` a valid label name in place:
    /// every byte outside `[A-Za-z0-9_]` becomes `_` (one per character),
    /// and a leading digit gets a `_` before it (the name is then moved to
    /// the end of the bytes). Returns where the name now is.
    func sanitize(_ range: Range<Int>, in log: inout DecodedLog) -> Range<Int> {
        var write = range.lowerBound
        var read = range.lowerBound
        while read < range.upperBound {
            let c = log.bytes[read]
            let ok = (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c == UInt8(ascii: "_") || (c >= 0x30 && c <= 0x39)
            log.bytes[write] = ok ? c : UInt8(ascii: "_")
            write += 1
            read += 1
            // The continuation bytes of a multi-byte character are dropped.
            if c >= 0xC0 { while read < range.upperBound, log.bytes[read] & 0xC0 == 0x80 { read += 1 } }
        }
        var name = range.lowerBound..<write
        if write < range.upperBound, range.upperBound == log.bytes.count {
            log.bytes.removeSubrange(write..<range.upperBound)
        }
        if let first = name.first.map({ log.bytes[$0] }), first >= 0x30, first <= 0x39 {
            let start = log.bytes.count
            log.bytes.append(UInt8(ascii: "_"))
            for k in name { log.bytes.append(log.bytes[k]) }
            name = start..<log.bytes.count
        }
        return name
    }
}

extension LogLevel {
    /// The name as a static string, which appends without allocating.
    var staticName: StaticString {
        switch self {
        case .critical: "critical"
        case .error: "error"
        case .warn: "warn"
        case .info: "info"
        case .debug: "debug"
        case .trace: "trace"
        case .unknown: "unknown"
        }
    }
}
