import DurableFiles
import LogStorage
import TelemetryModel

/// What the report reads from the log store: the delivery events (records
/// of the `event="deployment"` and `event="incident"` streams, whichever way
/// they came in) and the log volume by service and level.
public enum EventHistory {
    /// The events with times in `start..<end` (ms), and the stored records that did not read as
    /// events, with what is wrong with each. Fails when the range holds damaged data: a report
    /// without it would be wrong.
    public static func events(in store: LogStore, start: Int64, end: Int64) throws(StorageError) -> (events: [DeliveryEvent], refused: [RefusedEvent]) {
        guard let matcher = try? LabelMatcher("event", .regexMatch, "deployment|incident") else { return ([], []) }
        var events: [DeliveryEvent] = []
        var refused: [RefusedEvent] = []
        var reader = RecordFields()
        for stream in try store.select([matcher], start: start.saturatingMultiplied(by: 1_000_000), end: end.saturatingMultiplied(by: 1_000_000)) {
            try stream.forEachEntry(start: start.saturatingMultiplied(by: 1_000_000), end: end.saturatingMultiplied(by: 1_000_000)) { entry in
                var fields: [String: String] = [:]
                for (name, value) in reader.fields(of: entry, streamLabels: stream.labels) where fields[name] == nil {
                    fields[name] = value
                }
                // Labels the record was filed under stand for its fields (service, event).
                for label in stream.labels where fields[label.name] == nil { fields[label.name] = label.value }
                let time = floorDivide(entry.timestamp, 1_000_000)
                switch DeliveryEvent.parse(fields, time: time) {
                case .success(let event): events.append(event)
                case .failure(let error):
                    refused.append(RefusedEvent(time: time, service: fields["service"] ?? "", event: fields["event"] ?? "", problems: error.description))
                }
                return true
            }
        }
        return (events, refused)
    }

    /// Log lines in `start..<end` (ms) by `service` label and `level` label.
    public static func logVolume(in store: LogStore, start: Int64, end: Int64) throws(StorageError) -> [String: [String: Int]] {
        guard let matcher = try? LabelMatcher("service", .regexMatch, ".+") else { return [:] }
        var volume: [String: [String: Int]] = [:]
        for stream in try store.select([matcher], start: start.saturatingMultiplied(by: 1_000_000), end: end.saturatingMultiplied(by: 1_000_000)) {
            // Delivery events are counted as events, not as log lines.
            guard let service = stream.labels["service"], stream.labels["event"] == nil else { continue }
            let level = stream.labels["level"] ?? "unknown"
            var count = 0
            try stream.forEachEntry(start: start.saturatingMultiplied(by: 1_000_000), end: end.saturatingMultiplied(by: 1_000_000)) { _ in
                count += 1
                return true
            }
            if count > 0 { volume[service, default: [:]][level, default: 0] += count }
        }
        return volume
    }
}

/// A stored record filed as a delivery event that does not read as one: kept
/// in the log store, left out of the keys, and listed in the report's data quality.
public struct RefusedEvent: Sendable, Codable, Equatable {
    /// Milliseconds.
    public var time: Int64
    public var service: String
    public var event: String
    /// Every field that is missing or malformed.
    public var problems: String

    public init(time: Int64, service: String, event: String, problems: String) {
        self.time = time
        self.service = service
        self.event = event
        self.problems = problems
    }
}
