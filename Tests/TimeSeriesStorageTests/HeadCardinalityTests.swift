import TallyTestKit
import TelemetryModel
import Testing
@testable import TimeSeriesStorage

@Suite("Head cardinality")
struct HeadCardinalityTests {
    @Test func countsFollowTheSeriesInTheHead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try TSDB(directory: dir.path, options: testOptions())
        let old = (0..<30).map { labels("gone_soon", ["pod": "p-\($0)", "zone": "z\($0 % 3)"]) }
        let kept = (0..<5).map { labels("kept", ["pod": "p-\($0)", "zone": "a"]) }
        fill(db, series: old, count: 100)
        fill(db, series: kept, count: 300)
        var stats = db.headCardinality(limit: 10)
        #expect(stats.series == 35 && stats.labelPairs == 2 + 30 + 4)
        #expect(stats.seriesCountByMetricName == [.init("gone_soon", 30), .init("kept", 5)])
        #expect(stats.labelValueCountByLabelName == [.init("pod", 30), .init("zone", 4), .init("__name__", 2)])
        // "p-0" … "p-9" (3 bytes), "p-10" … "p-29" (4); "z0", "z1", "z2", "a".
        #expect(stats.memoryInBytesByLabelName.first { $0.name == "pod" }?.value == 10 * 3 + 20 * 4)
        #expect(stats.memoryInBytesByLabelName.first { $0.name == "zone" }?.value == 7)
        // Equal counts by name: the five pods both metrics share come first, in name order.
        #expect(stats.seriesCountByLabelValuePair.prefix(4) == [.init("__name__=gone_soon", 30), .init("zone=z0", 10), .init("zone=z1", 10), .init("zone=z2", 10)])
        #expect(Array(stats.seriesCountByLabelValuePair.dropFirst(4)) == [.init("__name__=kept", 5), .init("zone=a", 5)]
            + ["p-0", "p-1", "p-2", "p-3"].map { .init("pod=\($0)", 2) })
        #expect(stats.minTime == t0 && stats.maxTime == t0 + 299_000)
        // The old series' range goes to a block: they leave the head, and its counts.
        db.maintain(now: t0)
        stats = db.headCardinality(limit: 2)
        #expect(stats.series == 5)
        #expect(stats.seriesCountByMetricName == [.init("kept", 5)])
        #expect(stats.labelValueCountByLabelName == [.init("pod", 5), .init("__name__", 1)])
        #expect(stats.seriesCountByLabelValuePair.count == 2)
    }

    /// A day of maintenance rounds is kept, oldest dropped first; a round
    /// whose time does not move forward adds nothing.
    @Test func theGrowthHistoryKeepsTheLastDay() {
        var growth = HeadGrowth()
        for k in 0..<(HeadGrowth.capacity + 40) { growth.record(Int64(k) * 15_000, series: k) }
        growth.record(0, series: -1)
        let all = growth.all
        #expect(all.count == HeadGrowth.capacity)
        #expect(all.first == HeadSeriesPoint(time: 40 * 15_000, series: 40))
        #expect(all.last?.series == HeadGrowth.capacity + 39)
    }

    @Test func maintenanceRecordsTheHeadSeries() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try TSDB(directory: dir.path, options: testOptions())
        fill(db, series: (0..<3).map { labels("g", ["i": "\($0)"]) }, count: 5)
        db.maintain(now: t0 + 60_000)
        #expect(db.headSeriesHistory() == [HeadSeriesPoint(time: t0 + 60_000, series: 3)])
        #expect(db.headSeriesCount == 3)
    }
}
