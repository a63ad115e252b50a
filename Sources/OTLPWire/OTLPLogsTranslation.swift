import Foundation

/// OTLP log records as tally log entries (docs/otlp.md): the body is the
/// line, service.name the `service`, the severity the `level`, host.name
/// the `host`, deployment.environment(.name) the `env`; trace_id, span_id
/// and every other attribute are fields stored beside the line, which
/// LogQL reads like labels.
public enum OTLPLogsTranslation {
    /// One log record. `candidates` are the pairs that may be stream labels
    /// (service, level, host, env), in that order; the receiver makes labels
    /// of those its configuration names and fields of the rest.
    public struct Entry: Sendable {
        public var timestampNanos: Int64
        public var line: String
        public var candidates: [(String, String)]
        public var fields: [(String, String)]
    }

    public struct Result: Sendable {
        public var entries: [Entry] = []
    }

    /// Decodes an `ExportLogsServiceRequest` and translates it; `nowNanos`
    /// stamps records sent with neither a time nor an observed time.
    public static func translate(_ body: [UInt8], encoding: OTLPEncoding, nowNanos: Int64) throws(OTLPError) -> Result {
        let request = try encoding.decode(
            Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self, from: body, what: "ExportLogsServiceRequest")
        var result = Result()
        for resourceLogs in request.resourceLogs {
            let attributes = resourceLogs.resource.attributes
            func value(_ keys: String...) -> String? {
                for key in keys {
                    if let found = attributes.last(where: { $0.key == key }) {
                        let text = OTLPAttributes.text(found.value)
                        if !text.isEmpty { return text }
                    }
                }
                return nil
            }
            var resourceCandidates: [(String, String)] = []
            if let service = value("service.name") { resourceCandidates.append(("service", service)) }
            let host = value("host.name")
            let env = value("deployment.environment.name", "deployment.environment")
            let promoted: Set<String> = ["service.name", "host.name", "deployment.environment.name", "deployment.environment"]
            let resourceFields = OTLPAttributes.labels(attributes.filter { !promoted.contains($0.key) }).sorted { $0.0 < $1.0 }
            for scope in resourceLogs.scopeLogs {
                for record in scope.logRecords {
                    var candidates = resourceCandidates
                    if let level = level(record) { candidates.append(("level", level)) }
                    if let host { candidates.append(("host", host)) }
                    if let env { candidates.append(("env", env)) }
                    var fields: [(String, String)] = []
                    // Ids of the wrong length or not hex are left out: a field that matches no span would mislead.
                    if let trace = encoding.hexID(record.traceID, length: 16) { fields.append(("trace_id", trace)) }
                    if let span = encoding.hexID(record.spanID, length: 8) { fields.append(("span_id", span)) }
                    if !record.eventName.isEmpty { fields.append(("event_name", record.eventName)) }
                    fields += OTLPAttributes.labels(record.attributes).sorted { $0.0 < $1.0 }
                    fields += resourceFields
                    let time = record.timeUnixNano != 0 ? record.timeUnixNano : record.observedTimeUnixNano
                    result.entries.append(Entry(
                        timestampNanos: time == 0 ? nowNanos : Int64(clamping: time), line: line(record.body),
                        candidates: candidates, fields: fields))
                }
            }
        }
        return result
    }

    /// The body as the line: a string as it is, anything else as JSON.
    static func line(_ body: AnyValue) -> String {
        switch body.value {
        case .stringValue(let text): text
        case nil: ""
        default: OTLPAttributes.json(body)
        }
    }

    /// severity_text in lower case, or the severity number's name
    /// (1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal).
    static func level(_ record: Opentelemetry_Proto_Logs_V1_LogRecord) -> String? {
        if !record.severityText.isEmpty { return record.severityText.lowercased() }
        switch record.severityNumber.rawValue {
        case 1...4: return "trace"
        case 5...8: return "debug"
        case 9...12: return "info"
        case 13...16: return "warn"
        case 17...20: return "error"
        case 21...24: return "fatal"
        default: return nil
        }
    }
}
