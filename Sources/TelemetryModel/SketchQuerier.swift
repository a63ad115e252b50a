/// Quantiles of every value a summary metric (a StatsD timer, histogram or
/// distribution) took over a long range, from its sketches merged across its
/// series and intervals. A day's p99 is then the 99th percentile of the
/// day's values (within the sketch's relative accuracy), which no function
/// of the stored per-interval quantiles can give.
public protocol SketchQuerier: Sendable {
    /// The `q` quantile of the values of each named family (its output name,
    /// such as `api_latency_seconds`) in `start..<end` (milliseconds), in the
    /// family's output unit; a name without values in the range is absent.
    /// Fails when the data over the range is damaged.
    func quantiles(_ q: Double, names: Set<String>, start: Int64, end: Int64) throws(StoredDataError) -> [String: Double]
}
