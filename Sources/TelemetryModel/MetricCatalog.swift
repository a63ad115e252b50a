import Synchronization

/// The type of every metric family tally holds, for the Prometheus API's
/// `/api/v1/metadata` (Grafana's query editor reads it): aggregation records
/// a family when it creates its first series and forgets it with its last
/// (so names that come and go do not pile up); remote_write and OTLP senders
/// declare theirs.
public final class MetricCatalog: Sendable {
    /// What is known of one family.
    public struct Entry: Sendable, Equatable {
        /// `counter`, `gauge`, `summary`, or what a remote_write sender declared.
        public var type: String
        public var help: String
    }

    private struct State {
        /// Families made from StatsD lines, by the hash of their name: the
        /// name and kind only (the help text follows from the kind).
        var statsd = StatsDFamilyNames()
        /// What senders declared, by name; it wins over a StatsD kind.
        var declared: [String: Entry] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Records a family produced from StatsD lines of `kind`; `hash` is the
    /// name's `hashValue`, which `forget` is given when the family ends.
    public func record(family: String, kind: MetricKind, hash: Int) {
        state.withLock { state in
            state.statsd.insert(hash: hash, name: family, kind: kind)
        }
    }

    /// Records a family produced from StatsD lines of `kind`.
    public func record(family: String, kind: MetricKind) {
        record(family: family, kind: kind, hash: family.hashValue)
    }

    /// The StatsD family with this name hash has no series any more.
    public func forget(hash: Int) {
        state.withLock { $0.statsd.remove(hash: hash) }
    }

    /// Records a family whose sender described it (remote_write metadata):
    /// what the sender says replaces what was known.
    public func record(family: String, type: String, help: String) {
        state.withLock { $0.declared[family] = Entry(type: type, help: help) }
    }

    /// Every family, by name.
    public var all: [String: Entry] {
        state.withLock { state in
            var out = state.declared
            state.statsd.forEach { name, kind in
                if out[name] == nil { out[name] = Entry(type: kind.prometheusType, help: Self.help(kind)) }
            }
            return out
        }
    }

    private static func help(_ kind: MetricKind) -> String {
        switch kind {
        case .counter: "StatsD counter (c), cumulative since the series was first seen."
        case .gauge: "StatsD gauge (g), the last value."
        case .set: "StatsD set (s), distinct members seen in the flush interval."
        case .timer: "StatsD timer (ms), in seconds: quantiles over the flush interval, cumulative count and sum."
        case .histogram: "StatsD histogram (h): quantiles over the flush interval, cumulative count and sum."
        case .distribution: "DogStatsD distribution (d): quantiles over the flush interval, cumulative count and sum."
        }
    }
}
