/// The path a log record came in by; every record carries it as its
/// `source` label, so a query can tell syslog from a Loki push.
public enum LogSource: String, Sendable, CaseIterable {
    /// A JSON object per line, on the logs port or `POST /api/v1/logs`.
    case json
    /// A logfmt line (`key=value ...`) on the logs port.
    case logfmt
    /// A line on the logs port that is neither JSON nor logfmt, kept as it
    /// came with a `parse_error` label.
    case raw
    /// RFC 5424 or RFC 3164 syslog.
    case syslog
    /// Loki's push API.
    case loki
    /// OpenTelemetry's OTLP/HTTP logs.
    case otlp
    /// A DogStatsD event or service check.
    case statsdEvent = "statsd_event"

    /// The name as a static string, which appends without allocating.
    var staticName: StaticString {
        switch self {
        case .json: "json"
        case .logfmt: "logfmt"
        case .raw: "raw"
        case .syslog: "syslog"
        case .loki: "loki"
        case .otlp: "otlp"
        case .statsdEvent: "statsd_event"
        }
    }

    /// Whether a record's fields must be stored beside its line: those of
    /// JSON and logfmt lines are in the line itself, read back by the decoder.
    public var fieldsNeedStoring: Bool { self != .json && self != .logfmt }
}
