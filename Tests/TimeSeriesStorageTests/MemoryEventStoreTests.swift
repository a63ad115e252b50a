import Testing
import TelemetryModel
@testable import TimeSeriesStorage

@Suite("In-memory event store")
struct MemoryEventStoreTests {
    @Test func eventsAreBoundedOldestFirstDropped() {
        let events = MemoryEventStore(capacity: 3)
        for t in 1...5 {
            events.record(TelemetryEvent(kind: .event, title: "e\(t)", text: "", timestamp: Int64(t)))
        }
        #expect(events.events(start: 0, end: 10, limit: 100).map(\.title) == ["e3", "e4", "e5"])
        #expect(events.events(start: 4, end: 10, limit: 1).map(\.title) == ["e5"])
    }
}
