/// What the store's head holds, counted the ways that explain where series
/// come from: the answer of `/api/v1/status/tsdb`, shaped as Prometheus's.
public struct HeadCardinality: Sendable, Equatable {
    /// A name and its count, in a top-N list.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var value: Int

        public init(_ name: String, _ value: Int) {
            self.name = name
            self.value = value
        }
    }

    public var series = 0
    /// Closed chunks waiting for a block, and open ones.
    public var chunks = 0
    /// Distinct `name=value` pairs.
    public var labelPairs = 0
    /// The oldest and newest sample in the head (nil when it is empty).
    public var minTime: Int64?
    public var maxTime: Int64?
    /// Series per metric name (`__name__` value).
    public var seriesCountByMetricName: [Entry] = []
    /// Distinct values per label name.
    public var labelValueCountByLabelName: [Entry] = []
    /// Per label name, the bytes of its distinct values (each kept once).
    public var memoryInBytesByLabelName: [Entry] = []
    /// Series per `name=value` pair.
    public var seriesCountByLabelValuePair: [Entry] = []

    public init() {}
}

/// The series in the store's head at one moment.
public struct HeadSeriesPoint: Sendable, Equatable {
    /// Milliseconds since the epoch.
    public var time: Int64
    public var series: Int

    public init(time: Int64, series: Int) {
        self.time = time
        self.series = series
    }
}

/// A store that can count its head for the cardinality explorer.
public protocol CardinalitySource: Sendable {
    /// Each top-N list holds the `limit` largest entries, largest first
    /// (equal counts by name).
    func headCardinality(limit: Int) -> HeadCardinality

    /// The head's series count over the last day, oldest first, one point
    /// per maintenance round.
    func headSeriesHistory() -> [HeadSeriesPoint]

    /// The series in the head now.
    var headSeriesCount: Int { get }
}
