import Testing
import TelemetryModel
@testable import TimeSeriesStorage

@Suite("In-memory series store")
struct MemorySeriesStoreTests {
    func matcher(_ name: String, _ op: MatchOperator, _ value: String) -> LabelMatcher {
        // Valid patterns only in these tests.
        (try? LabelMatcher(name, op, value))!
    }

    @Test func appendsAndSelectsByMatchersAndTime() {
        let store = MemorySeriesStore(retentionMillis: 3_600_000)
        let a = Labels(name: "req_total", ["env": "prod"])
        let b = Labels(name: "req_total", ["env": "dev"])
        store.append([Sample(labels: a, timestamp: 10_000, value: 1), Sample(labels: b, timestamp: 10_000, value: 2)])
        store.append([Sample(labels: a, timestamp: 20_000, value: 3)])
        let all = store.select([matcher("__name__", .equal, "req_total")], start: 0, end: 30_000)
        #expect(all.count == 2)
        let prod = store.select([matcher("__name__", .equal, "req_total"), matcher("env", .equal, "prod")], start: 15_000, end: 30_000)
        #expect(prod.count == 1)
        #expect(prod.first?.points == [Point(timestamp: 20_000, value: 3)])
        let regex = store.series([matcher("env", .regexMatch, "d.*")], start: 0, end: 30_000)
        #expect(regex == [b])
    }

    @Test func outOfOrderSamplesAreRejectedAndDuplicatesReplace() {
        let store = MemorySeriesStore(retentionMillis: 3_600_000)
        let a = Labels(name: "x")
        store.append([Sample(labels: a, timestamp: 20_000, value: 1)])
        store.append([Sample(labels: a, timestamp: 10_000, value: 2)])
        store.append([Sample(labels: a, timestamp: 20_000, value: 5)])
        let points = store.select([matcher("__name__", .equal, "x")], start: 0, end: 30_000).first?.points
        #expect(points == [Point(timestamp: 20_000, value: 5)])
    }

    @Test func oldPointsAndEmptySeriesAreSweptAfterRetention() {
        let store = MemorySeriesStore(retentionMillis: 60_000)
        store.append([Sample(labels: Labels(name: "old"), timestamp: 0, value: 1)])
        for t in stride(from: Int64(10_000), through: 200_000, by: 10_000) {
            store.append([Sample(labels: Labels(name: "new"), timestamp: t, value: 1)])
        }
        #expect(store.series([matcher("__name__", .regexMatch, ".+")], start: 0, end: 300_000) == [Labels(name: "new")])
        let points = store.select([matcher("__name__", .equal, "new")], start: 0, end: 300_000).first?.points ?? []
        #expect(points.first!.timestamp >= 200_000 - 60_000 - 60_000)
    }

    @Test func referencesAreStableAndHeldSeriesSurviveTheSweep() {
        let store = MemorySeriesStore(retentionMillis: 60_000)
        let held = store.register(Labels(name: "held"))
        #expect(store.register(Labels(name: "held")) == held)
        store.release([held])
        let dropped = store.register(Labels(name: "dropped"))
        store.append([RefSample(ref: held, timestamp: 0, value: 1), RefSample(ref: dropped, timestamp: 0, value: 1)])
        store.release([dropped])
        // Two minutes of other data: both lose their points; only the held one stays known.
        for t in stride(from: Int64(10_000), through: 200_000, by: 10_000) {
            store.append([Sample(labels: Labels(name: "other"), timestamp: t, value: 1)])
        }
        #expect(store.register(Labels(name: "held")) == held)
        store.append([RefSample(ref: held, timestamp: 210_000, value: 7)])
        let points = store.select([matcher("__name__", .equal, "held")], start: 0, end: 300_000).first?.points
        #expect(points == [Point(timestamp: 210_000, value: 7)])
        #expect(store.series([matcher("__name__", .equal, "dropped")], start: 0, end: 300_000).isEmpty)
    }

    @Test func eventsAreBoundedOldestFirstDropped() {
        let events = MemoryEventStore(capacity: 3)
        for t in 1...5 {
            events.record(TelemetryEvent(kind: .event, title: "e\(t)", text: "", timestamp: Int64(t)))
        }
        #expect(events.events(start: 0, end: 10, limit: 100).map(\.title) == ["e3", "e4", "e5"])
        #expect(events.events(start: 4, end: 10, limit: 1).map(\.title) == ["e5"])
    }
}
