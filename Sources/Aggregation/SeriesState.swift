import TelemetryModel

/// One raw spelling of a series (its name and tag bytes as sent), pointing
/// at the series it was merged into. Plain data: it lives in a `Column`.
struct AliasEntry {
    var hash: UInt64
    var keyOffset: Int
    var keyLength: Int32
    var series: Int32
    /// The flush timestamp of the last interval in which it was seen.
    var lastSeen: Int64
    var kind: MetricKind
    var touched: Bool
    var live: Bool
}

/// The hot state of one output series. Plain data: it lives in a `Column`.
struct SeriesEntry {
    /// A counter's cumulative total, or a gauge's value.
    var value: Double
    var lastSeen: Int64
    /// The slot of the series' sketch or set in the shard's columns, or -1.
    var aux: Int32
    var kind: MetricKind
    var touched: Bool
    var live: Bool
}

/// What a flush needs of a series besides its hot state: its labels, and for
/// summaries the label sets of their outputs and the cumulative totals.
struct SeriesCold {
    let labels: Labels
    var summary: SummaryOutputs?
}

/// The outputs of a timer, histogram or distribution, built once when the
/// series is created, and its cumulative count and sum.
struct SummaryOutputs {
    var totalCount = 0.0
    var totalSum = 0.0
    /// 0.001 for timers (milliseconds in, seconds out), else 1.
    let scale: Double
    let quantileLabels: [Labels]
    let countLabels: Labels
    let sumLabels: Labels
    let minLabels: Labels
    let maxLabels: Labels

    init(family: Labels, quantiles: [Double], scale: Double) {
        self.scale = scale
        let name = family.metricName
        quantileLabels = quantiles.map { family.setting("quantile", to: formatQuantile($0)) }
        countLabels = family.setting(Labels.metricName, to: name + "_count")
        sumLabels = family.setting(Labels.metricName, to: name + "_sum")
        minLabels = family.setting(Labels.metricName, to: name + "_min")
        maxLabels = family.setting(Labels.metricName, to: name + "_max")
    }
}

/// A quantile as a label value: the shortest decimal form (`0.5`, `0.99`).
func formatQuantile(_ q: Double) -> String {
    q.description
}
