/// The kind of a StatsD/DogStatsD metric, by its wire type.
public enum MetricKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// `c`: a count of events; increments are summed.
    case counter = 0
    /// `g`: a level; the last value wins, `+N`/`-N` are deltas.
    case gauge = 1
    /// `ms`: a duration in milliseconds; summarised by quantiles.
    case timer = 2
    /// `h`: a histogram value; summarised like a timer, without the unit.
    case histogram = 3
    /// `d`: a DogStatsD distribution; summarised like a histogram.
    case distribution = 4
    /// `s`: a set; counts distinct members per interval.
    case set = 5

    /// The wire type, as it appears after `|`.
    public var wireType: String {
        switch self {
        case .counter: "c"
        case .gauge: "g"
        case .timer: "ms"
        case .histogram: "h"
        case .distribution: "d"
        case .set: "s"
        }
    }

    /// What the output family's name adds to the StatsD name (docs/naming.md):
    /// `_total` for a counter, `_seconds` for a timer (its values become seconds).
    public var familySuffix: String {
        switch self {
        case .counter: "_total"
        case .timer: "_seconds"
        case .gauge, .histogram, .distribution, .set: ""
        }
    }

    /// The Prometheus metadata type of the series this kind produces.
    public var prometheusType: String {
        switch self {
        case .counter: "counter"
        case .gauge, .set: "gauge"
        case .timer, .histogram, .distribution: "summary"
        }
    }

    public var description: String { wireType }
}
