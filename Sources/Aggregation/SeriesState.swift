import TelemetryModel

/// One output family of a shard: a counter, gauge, set or summary and its
/// labels (the family name plus the tags as labels).
struct SeriesState {
    var labels: Labels
    let kind: MetricKind
    /// The timestamp of the last flush in whose interval the series was updated.
    var lastSeen: Int64
    var touched: Bool
    /// A counter's cumulative total, or a gauge's value.
    var value: Double
    var summary: SummaryState?
    var members: SetState?
}

/// The state of a timer, histogram or distribution: a sketch for the current
/// interval, cumulative count and sum, and the label sets of its outputs,
/// built once when the series is created.
final class SummaryState {
    var sketch = DDSketch()
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

/// The members of a set in the current interval.
final class SetState {
    var cardinality: SetCardinality

    init(exactLimit: Int, precision: Int) {
        cardinality = SetCardinality(exactLimit: exactLimit, precision: precision)
    }
}

/// A quantile as a label value: the shortest decimal form (`0.5`, `0.99`).
func formatQuantile(_ q: Double) -> String {
    q.description
}

/// One raw spelling of a series (its name and tag bytes as sent), pointing at
/// the family it was merged into.
struct SeriesAlias {
    let hash: UInt64
    let kind: MetricKind
    let key: [UInt8]
    let series: Int32
    var lastSeen: Int64
    var touched: Bool
}
