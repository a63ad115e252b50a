import LogWire
import TelemetryModel

/// The fields of a stored record, whichever way they were kept: stored
/// beside the line (syslog, Loki, StatsD events), or in the line itself for
/// JSON and logfmt records, read back with the ingest decoder. Reuses its
/// decoding buffers from one entry to the next.
public struct RecordFields {
    private let decoder = LogDecoder(config: LogLabelConfig(labelFields: []))
    private var scratch = DecodedLog()

    public init() {}

    /// Every field of an entry of a stream with labels `streamLabels`.
    public mutating func fields(of entry: LogEntry, streamLabels: Labels) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        entry.fields.forEach { name, value in
            out.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        switch streamLabels["source"] {
        case LogSource.json.rawValue: decoder.decodeJSONLine(entry.line, into: &scratch)
        case LogSource.logfmt.rawValue: decoder.decodeLogfmtLine(entry.line, into: &scratch)
        default: return out
        }
        if scratch.parseError == nil { out.append(contentsOf: scratch.fieldPairs) }
        return out
    }
}
