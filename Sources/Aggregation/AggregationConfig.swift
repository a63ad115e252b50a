import TelemetryModel

/// What an aggregation shard needs to know; the defaults are tally's.
public struct AggregationConfig: Sendable {
    /// The quantiles every timer, histogram and distribution reports.
    public var quantiles: [Double] = [0.5, 0.9, 0.95, 0.99]
    /// The DDSketch relative accuracy α of those quantiles.
    public var sketchRelativeAccuracy: Double = 0.01
    /// Members a set counts exactly before it switches to HyperLogLog.
    public var setExactLimit: Int = 10_000
    /// HyperLogLog precision (registers = 2^precision; error 1.04/√registers).
    public var hllPrecision: Int = 14
    /// A series not updated for this long (milliseconds) is no longer emitted, and its memory is released.
    public var seriesExpiryMillis: Int64 = 300_000
    /// The most series one output name (a StatsD name and type) may hold, so
    /// that one runaway name cannot take all of `max_series`. 0: no limit.
    public var maxSeriesPerMetric: Int = 100_000
    /// The labels (tags) a series may carry (`limits:` in tally.yaml).
    public var labelLimits = LabelLimits()
    /// The series the store may hold, from every path (`limits.max_series`,
    /// `limits.max_series_per_metric`): a new StatsD series the store has no
    /// room for is not created. nil: the store's room is not checked.
    public var storeLimits: SeriesLimits?

    public init() {}
}
