/// Where aggregated samples go at every flush. The in-memory store implements
/// it now; the on-disk time-series engine and the forwarders implement it later.
///
/// Implementations must accept calls from several aggregation shards at once
/// and must not block for long: a shard does not aggregate while it appends.
public protocol SampleSink: Sendable {
    /// Appends one flush's samples. They are all stamped with the same
    /// timestamp (the end of the flushed interval).
    func append(_ samples: [Sample])
}

/// Reads series back for queries. The HTTP API and, later, PromQL use only
/// this protocol, so the storage engine can change behind it.
public protocol SeriesQuerier: Sendable {
    /// The series matching every matcher with at least one point in
    /// `[start, end]` (milliseconds, inclusive), with those points in time order.
    func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [SeriesPoints]

    /// The label sets of the matching series with a point in `[start, end]`.
    func series(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [Labels]
}
