import TallyTestKit
import TelemetryModel
import Testing
@testable import PromQL

@Suite("Query limits")
struct LimitsTests {
    private let querier = FixedSeriesQuerier((0..<10).map { s in
        SeriesPoints(labels: Labels(name: "m", ["s": "\(s)"]),
                     points: (0..<1_000).map { Point(timestamp: Int64($0) * 15_000, value: Double($0 + s)) })
    })

    @Test func tooManySamplesFailsWithPrometheussMessage() throws {
        var limits = QueryLimits()
        limits.maxSamples = 5_000
        let engine = Engine(querier: querier, limits: limits)
        #expect(throws: PromQLError.execution("query processing would load too many samples into memory in query execution")) {
            try engine.range(try Parser.parse("sum(rate(m[5m]))"), start: 0, end: 15_000_000, step: 15_000)
        }
        // Within the limit, the same query runs.
        limits.maxSamples = 1_000_000
        _ = try Engine(querier: querier, limits: limits).range(try Parser.parse("sum(rate(m[5m]))"), start: 0, end: 15_000_000, step: 15_000)
    }

    @Test func aQueryPastItsTimeoutFailsAsATimeout() throws {
        var limits = QueryLimits()
        limits.timeout = .seconds(-1)
        let engine = Engine(querier: querier, limits: limits)
        do {
            _ = try engine.instant(try Parser.parse("m"), at: 100_000)
            Issue.record("the query should have timed out")
        } catch {
            #expect(error.kind == .timeout)
            #expect(error.description == "query timed out in query execution")
        }
    }

    @Test func rangeQueriesRefuseRangeVectorsStringsAndEmptyGrids() throws {
        let engine = Engine(querier: querier)
        #expect(throws: PromQLError.self) { try engine.range(try Parser.parse("m"), start: 60_000, end: 0, step: 15_000) }
        #expect(throws: PromQLError.self) { try engine.range(try Parser.parse("m"), start: 0, end: 60_000, step: 0) }
        for query in ["m[5m]", #""text""#] {
            #expect(throws: PromQLError.self) { try engine.range(try Parser.parse(query), start: 0, end: 60_000, step: 15_000) }
        }
    }
}
