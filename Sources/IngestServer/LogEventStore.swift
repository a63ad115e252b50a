import DurableFiles
import LogStorage
import LogWire
import TelemetryModel

/// DogStatsD events and service checks kept in the log store, as records
/// of the `{source="statsd_event"}` streams, so they survive restarts and
/// LogQL reads them like any log. The title and text, the event's
/// attributes and its tags are fields; the tags named in `logs.label_fields`
/// (such as `service`) are also stream labels, `hostname` is `host`, and the
/// alert type or check status gives the level.
public final class LogEventStore: EventSink, EventQuerier {
    private let writers: LogWriters
    private let store: LogStore
    private let decoder: LogDecoder
    private let metrics: LogIngestMetrics

    /// Fields the event itself fills, apart from its tags.
    static let attributes: Set<String> = ["kind", "title", "text", "aggregation_key", "priority", "source_type", "alert_type", "status"]

    public init(writers: LogWriters, store: LogStore, labels: LogLabelConfig, metrics: LogIngestMetrics) {
        self.writers = writers
        self.store = store
        decoder = LogDecoder(config: labels)
        self.metrics = metrics
    }

    /// Hands the event to a log writer; never blocks (a full ring drops it,
    /// counted). An event tagged `event:deployment` or `event:incident` must
    /// carry the fields docs/events.md lists, or it is refused and counted.
    public func record(_ event: TelemetryEvent) {
        if let kind = event.tags.first(where: { $0.name == "event" })?.value, kind == "deployment" || kind == "incident" {
            var fields: [String: String] = [:]
            for tag in event.tags where fields[tag.name] == nil { fields[tag.name] = tag.value }
            if case .failure(let error) = DeliveryEvent.parse(fields, time: event.timestamp) {
                metrics.refusedDeliveryEvents[error.kind]?.increment()
                return
            }
        }
        var labels: [(String, String)] = event.tags.filter { decoder.config.labelFields.contains($0.name) }.map { ($0.name, $0.value) }
        if let host = event.hostname, decoder.config.labelFields.contains("host"), !labels.contains(where: { $0.0 == "host" }) {
            labels.append(("host", host))
        }
        labels.removeAll { $0.0 == "level" }
        labels.append(("level", Self.level(event)))
        var fields: [(String, String)] = [("kind", event.kind.rawValue), ("title", event.title)]
        if !event.text.isEmpty { fields.append(("text", event.text)) }
        for (name, value) in [("aggregation_key", event.aggregationKey), ("priority", event.priority),
                              ("source_type", event.sourceType), ("alert_type", event.alertType)] {
            if let value { fields.append((name, value)) }
        }
        if let status = event.status { fields.append(("status", String(status))) }
        for tag in event.tags where !Self.attributes.contains(tag.name) { fields.append((tag.name, tag.value)) }
        var log = DecodedLog()
        let line = event.text.isEmpty ? event.title : event.title + ": " + event.text
        guard decoder.makeRecord(
            labels: labels, line: line, timestamp: event.timestamp.saturatingMultiplied(by: 1_000_000), fields: fields, source: .statsdEvent, into: &log) == nil
        else { return }
        var batch = LogBatch(capacity: 512)
        batch.append(log)
        var lane = 0
        batch.forEach { lane = Int($0.streamHash % UInt64(writers.laneCount)) }
        if !writers.push(batch, lane: lane) { metrics.droppedRingFull.increment() }
    }

    private static func level(_ event: TelemetryEvent) -> String {
        if let status = event.status {
            return ["info", "warn", "error", "unknown"][min(max(status, 0), 3)]
        }
        switch event.alertType {
        case "error": return "error"
        case "warning": return "warn"
        default: return "info"
        }
    }

    /// The events with times in `start...end` (milliseconds), oldest first.
    public func events(start: Int64, end: Int64, limit: Int) throws(StoredDataError) -> [TelemetryEvent] {
        do throws(StorageError) {
            return try readEvents(start: start, end: end, limit: limit)
        } catch {
            throw StoredDataError("\(error)")
        }
    }

    private func readEvents(start: Int64, end: Int64, limit: Int) throws(StorageError) -> [TelemetryEvent] {
        let matcher = try? LabelMatcher("source", .equal, LogSource.statsdEvent.rawValue)
        let from = start.saturatingMultiplied(by: 1_000_000)
        let to = end.saturatingMultiplied(by: 1_000_000).saturatingAdding(1)
        var out: [TelemetryEvent] = []
        for stream in try store.select(matcher.map { [$0] } ?? [], start: from, end: to) {
            let streamTags = stream.labels.filter { !["source", "level", "host"].contains($0.name) }
            let host = stream.labels["host"]
            try stream.forEachEntry(start: from, end: to) { entry in
                var fields: [String: String] = [:]
                var tags = streamTags
                entry.fields.forEach { name, value in
                    let key = String(decoding: name, as: UTF8.self)
                    let text = String(decoding: value, as: UTF8.self)
                    if Self.attributes.contains(key) { fields[key] = text } else if !tags.contains(where: { $0.name == key }) { tags.append(Label(key, text)) }
                }
                out.append(TelemetryEvent(
                    kind: fields["kind"] == TelemetryEvent.Kind.serviceCheck.rawValue ? .serviceCheck : .event,
                    title: fields["title"] ?? "", text: fields["text"] ?? "", timestamp: floorDivide(entry.timestamp, 1_000_000),
                    hostname: host, aggregationKey: fields["aggregation_key"], priority: fields["priority"],
                    sourceType: fields["source_type"], alertType: fields["alert_type"], status: fields["status"].flatMap { Int($0) },
                    tags: tags))
                return true
            }
        }
        out.sort { $0.timestamp < $1.timestamp }
        return Array(out.prefix(limit))
    }
}
