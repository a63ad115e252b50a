import DequeModule
import Prometheus
import Synchronization
import TelemetryModel

/// Samples kept in memory for a bounded window: the sample sink and querier
/// that tally uses until the on-disk engine (the WAL and Gorilla blocks)
/// takes its place behind the same two protocols.
///
/// Appends come from the aggregation shards at each flush, queries from the
/// HTTP handlers; one mutex guards the tables, held for one flush's batch or
/// one query's scan, never across I/O.
public final class MemorySeriesStore: SampleSink, SeriesQuerier {
    /// How long samples are kept (milliseconds).
    public let retentionMillis: Int64
    private let state: Mutex<State>
    private let outOfOrder: Counter?
    private let seriesGauge: Gauge?

    struct StoredSeries {
        var labels: Labels
        var points: Deque<Point>
    }

    struct State {
        var index: [Labels: Int] = [:]
        var series: [StoredSeries?] = []
        var free: [Int] = []
        /// Postings by metric name, so a selector with a name scans only its series.
        var byName: [String: Set<Int>] = [:]
        var newest: Int64 = 0
        var lastSweep: Int64 = 0
    }

    public init(retentionMillis: Int64, registry: PrometheusCollectorRegistry? = nil) {
        self.retentionMillis = retentionMillis
        state = Mutex(State())
        outOfOrder = registry?.makeCounter(
            name: "tally_storage_out_of_order_samples_total",
            help: "Samples rejected because their series already has a newer one.")
        seriesGauge = registry?.makeGauge(name: "tally_storage_series", help: "Series held by the in-memory store.")
    }

    public func append(_ samples: [Sample]) {
        var rejected = 0
        let count = state.withLock { state -> Int in
            for sample in samples {
                let slot: Int
                if let existing = state.index[sample.labels] {
                    slot = existing
                } else {
                    let stored = StoredSeries(labels: sample.labels, points: [])
                    if let reuse = state.free.popLast() {
                        slot = reuse
                        state.series[slot] = stored
                    } else {
                        slot = state.series.count
                        state.series.append(stored)
                    }
                    state.index[sample.labels] = slot
                    state.byName[sample.labels.metricName, default: []].insert(slot)
                }
                let point = Point(timestamp: sample.timestamp, value: sample.value)
                // `slot` was found in or just added to the index, so it holds a series.
                if let last = state.series[slot]!.points.last {
                    if last.timestamp == sample.timestamp {
                        state.series[slot]!.points[state.series[slot]!.points.count - 1] = point
                        continue
                    }
                    if last.timestamp > sample.timestamp {
                        rejected += 1
                        continue
                    }
                }
                state.series[slot]!.points.append(point)
                state.newest = max(state.newest, sample.timestamp)
            }
            // Sweep old points and empty series once a minute of data time.
            if state.newest - state.lastSweep >= 60_000 {
                sweep(&state, cutoff: state.newest - retentionMillis)
                state.lastSweep = state.newest
            }
            return state.index.count
        }
        if rejected > 0 { outOfOrder?.increment(by: Int64(rejected)) }
        seriesGauge?.set(Int64(count))
    }

    private func sweep(_ state: inout State, cutoff: Int64) {
        for slot in state.series.indices {
            guard var stored = state.series[slot] else { continue }
            while let first = stored.points.first, first.timestamp < cutoff { stored.points.removeFirst() }
            if stored.points.isEmpty {
                state.index[stored.labels] = nil
                state.byName[stored.labels.metricName]?.remove(slot)
                if state.byName[stored.labels.metricName]?.isEmpty == true { state.byName[stored.labels.metricName] = nil }
                state.series[slot] = nil
                state.free.append(slot)
            } else {
                state.series[slot] = stored
            }
        }
    }

    public func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [SeriesPoints] {
        state.withLock { state in
            candidates(state, matchers).compactMap { slot -> SeriesPoints? in
                guard let stored = state.series[slot], matchers.allMatch(stored.labels) else { return nil }
                let points = stored.points.filter { $0.timestamp >= start && $0.timestamp <= end }
                return points.isEmpty ? nil : SeriesPoints(labels: stored.labels, points: Array(points))
            }
        }
    }

    public func series(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [Labels] {
        state.withLock { state in
            candidates(state, matchers).compactMap { slot -> Labels? in
                guard let stored = state.series[slot], matchers.allMatch(stored.labels) else { return nil }
                let inRange = stored.points.contains { $0.timestamp >= start && $0.timestamp <= end }
                return inRange ? stored.labels : nil
            }
        }
    }

    /// The slots worth testing: the name's postings when a matcher fixes the name.
    private func candidates(_ state: State, _ matchers: [LabelMatcher]) -> [Int] {
        if let byName = matchers.first(where: { $0.name == Labels.metricName && $0.op == .equal }) {
            return Array(state.byName[byName.value] ?? []).sorted()
        }
        return Array(state.series.indices)
    }
}
