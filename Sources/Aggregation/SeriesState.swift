import TelemetryModel

/// The cold part of one raw spelling of a series (the hot part is its
/// `AliasTable` slot). Plain data: it lives in a `Column`.
struct AliasEntry {
    /// The flush timestamp of the last interval in which it was seen.
    var lastSeen: Int64
}

/// The hot state of one series. Plain data: it lives in a `Column`. The
/// series' labels are not kept here: the sink holds them, and the shard
/// refers to its outputs by `SeriesRef`.
struct SeriesEntry {
    /// A counter's cumulative total, or a gauge's value.
    var value: Double
    var lastSeen: Int64
    /// The sink's reference of the series' output (for a summary, its `_count`).
    var ref: SeriesRef
    /// The slot of the series' summary or set in the shard's columns, or -1.
    var aux: Int32
    /// The hash of the output family name, for the one-type-per-name rule.
    var familyHash: Int
    var kind: MetricKind
    var touched: Bool
    var live: Bool
}

/// A timer, histogram or distribution: the sketch of the current interval,
/// the cumulative count and sum, and where its output references start in
/// the shard's reference column (quantiles in order, then `_count`, `_sum`,
/// `_min`, `_max`).
struct SummaryState {
    var sketch = DDSketch()
    var totalCount = 0.0
    var totalSum = 0.0
    var refs: Int32
    /// The quantiles, `_min` and `_max` were written last interval: an
    /// interval without values then ends them with a staleness marker.
    var quantilesLive = false
    /// Its values go into its family's rollup for the sketch sink (the sink
    /// keeps that family).
    var rollsUp = false
}

/// A quantile as a label value: the shortest decimal form (`0.5`, `0.99`).
func formatQuantile(_ q: Double) -> String {
    q.description
}
