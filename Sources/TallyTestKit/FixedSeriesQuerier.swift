import TelemetryModel

/// A querier over series given up front, for engine tests that need no store.
public struct FixedSeriesQuerier: SeriesQuerier {
    public let data: [SeriesPoints]

    public init(_ data: [SeriesPoints]) {
        self.data = data
    }

    public func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [SeriesPoints] {
        data.filter { matchers.allMatch($0.labels) }.map { s in
            SeriesPoints(labels: s.labels, points: s.points.filter { $0.timestamp >= start && $0.timestamp <= end })
        }
    }

    public func series(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [Labels] {
        select(matchers, start: start, end: end).map(\.labels)
    }
}
