import DequeModule
import Prometheus
import Synchronization
import TelemetryModel

/// The newest events and service checks, in memory, up to a fixed count:
/// an event querier for route tests that need no log store.
public final class MemoryEventStore: EventSink, EventQuerier {
    public let capacity: Int
    private let events: Mutex<Deque<TelemetryEvent>>
    private let dropped: Counter?

    public init(capacity: Int, registry: PrometheusCollectorRegistry? = nil) {
        self.capacity = max(1, capacity)
        events = Mutex([])
        dropped = registry?.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_events_dropped", unitName: "total",
            helpText: "Events and service checks dropped from memory because max_events was reached."))
    }

    public func record(_ event: TelemetryEvent) {
        let overflow = events.withLock { events -> Bool in
            events.append(event)
            if events.count > capacity {
                events.removeFirst()
                return true
            }
            return false
        }
        if overflow { dropped?.increment() }
    }

    public func events(start: Int64, end: Int64, limit: Int) -> [TelemetryEvent] {
        events.withLock { events in
            let matching = events.filter { $0.timestamp >= start && $0.timestamp <= end }
            return matching.sorted { $0.timestamp < $1.timestamp }.suffix(limit).map { $0 }
        }
    }
}
