/// The levels a record's level is normalised to, the names Loki and Grafana
/// use, so `{level="error"}` finds `ERROR`, `err`, `E`, syslog severity 3
/// and pino's 50 alike.
public enum LogLevel: String, Sendable, CaseIterable {
    case critical, error, warn, info, debug, trace, unknown

    /// The level a syslog severity (0 emergency ... 7 debug) stands for.
    public init(syslogSeverity: Int) {
        switch syslogSeverity {
        case 0, 1, 2: self = .critical
        case 3: self = .error
        case 4: self = .warn
        case 5, 6: self = .info
        default: self = .debug
        }
    }

    /// Normalises a level as services write it, ignoring case: names and
    /// their usual abbreviations, syslog severities 0-7, and the numeric
    /// levels of pino and bunyan (10 trace ... 60 fatal). Anything else is
    /// `unknown`.
    public init(text: UnsafeRawBufferPointer) {
        // Lower-case into a small stack buffer; no level name is longer than 13 bytes.
        guard !text.isEmpty, text.count <= 13 else {
            self = .unknown
            return
        }
        var key: UInt64 = 0
        var digitsOnly = true
        for byte in text {
            let lower = (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
            if !(48...57).contains(byte) { digitsOnly = false }
            key = key &* 31 &+ UInt64(lower)
        }
        if digitsOnly {
            var value = 0
            for byte in text { value = value * 10 + Int(byte - 48) }
            switch value {
            case 0...7: self = LogLevel(syslogSeverity: value)
            case 10: self = .trace
            case 20: self = .debug
            case 30: self = .info
            case 40: self = .warn
            case 50: self = .error
            case 60: self = .critical
            default: self = .unknown
            }
            return
        }
        guard let (spelling, level) = LogLevel.byName[key], spelling.count == text.count else {
            self = .unknown
            return
        }
        for (i, byte) in text.enumerated() where ((byte >= 65 && byte <= 90) ? byte | 0x20 : byte) != spelling[i] {
            self = .unknown
            return
        }
        self = level
    }

    private static func hash(_ text: String) -> UInt64 {
        text.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }
    }

    /// The lower-case spellings recognised.
    static let spellings: [(String, LogLevel)] = [
        ("emerg", .critical), ("emergency", .critical), ("alert", .critical), ("crit", .critical),
        ("critical", .critical), ("fatal", .critical), ("panic", .critical), ("f", .critical), ("c", .critical),
        ("err", .error), ("error", .error), ("eror", .error), ("e", .error), ("severe", .error),
        ("warn", .warn), ("warning", .warn), ("w", .warn),
        ("info", .info), ("information", .info), ("informational", .info), ("notice", .info),
        ("i", .info), ("n", .info),
        ("debug", .debug), ("dbug", .debug), ("d", .debug), ("verbose", .debug),
        ("trace", .trace), ("t", .trace),
    ]

    /// Spellings by the rolling hash `init(text:)` computes, which then
    /// compares the bytes (distinct spellings never share a hash: a test checks).
    static let byName: [UInt64: ([UInt8], LogLevel)] = Dictionary(
        spellings.map { (hash($0.0), (Array($0.0.utf8), $0.1)) }, uniquingKeysWith: { first, _ in first })
}
