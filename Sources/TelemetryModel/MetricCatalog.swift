import Synchronization

/// The type of every metric family tally has produced, for the Prometheus
/// API's `/api/v1/metadata` (Grafana's query editor reads it): aggregation
/// records a family when it creates its first series.
public final class MetricCatalog: Sendable {
    /// What is known of one family.
    public struct Entry: Sendable, Equatable {
        /// `counter`, `gauge`, `summary`, or what a remote_write sender declared.
        public var type: String
        public var help: String
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// Records a family produced from StatsD lines of `kind`.
    public func record(family: String, kind: MetricKind) {
        entries.withLock { entries in
            guard entries[family] == nil else { return }
            let help: String
            switch kind {
            case .counter: help = "StatsD counter (c), cumulative since the series was first seen."
            case .gauge: help = "StatsD gauge (g), the last value."
            case .set: help = "StatsD set (s), distinct members seen in the flush interval."
            case .timer: help = "StatsD timer (ms), in seconds: quantiles over the flush interval, cumulative count and sum."
            case .histogram: help = "StatsD histogram (h): quantiles over the flush interval, cumulative count and sum."
            case .distribution: help = "DogStatsD distribution (d): quantiles over the flush interval, cumulative count and sum."
            }
            entries[family] = Entry(type: kind.prometheusType, help: help)
        }
    }

    /// Records a family whose sender described it (remote_write metadata):
    /// what the sender says replaces what was known.
    public func record(family: String, type: String, help: String) {
        entries.withLock { $0[family] = Entry(type: type, help: help) }
    }

    /// Every family, by name.
    public var all: [String: Entry] { entries.withLock { $0 } }
}
