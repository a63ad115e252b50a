/// How many series pushes (remote_write, OTLP) may make the store hold:
/// in all, and under one metric name, so that one runaway name (an id in
/// a label) cannot take every series the store has room for.
public struct SeriesLimits: Sendable, Equatable {
    /// Series the store holds in memory, from every path; pushes create none beyond it.
    public var maxSeries: Int
    /// Series of one metric name; pushes create none of that name beyond it.
    public var maxSeriesPerMetric: Int

    public init(maxSeries: Int = 2_000_000, maxSeriesPerMetric: Int = 100_000) {
        self.maxSeries = maxSeries
        self.maxSeriesPerMetric = maxSeriesPerMetric
    }

    /// What registering a pushed series came to.
    public enum Registration: Sendable, Equatable {
        case registered(SeriesRef)
        /// New, and the store holds `maxSeries` already.
        case overSeriesLimit
        /// New, and its metric name has `maxSeriesPerMetric` series already.
        case overMetricLimit
    }
}
