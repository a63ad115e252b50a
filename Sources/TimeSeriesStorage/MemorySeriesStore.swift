import DequeModule
import Prometheus
import Synchronization
import TelemetryModel

/// Samples kept in memory for a bounded window: the sample sink and querier
/// that tally uses until the on-disk engine (the WAL and Gorilla blocks)
/// takes its place behind the same two protocols.
///
/// A series' `SeriesRef` is its slot in the table; a slot is reused only
/// once nobody holds its reference and its points have aged out. Appends
/// come from the aggregation shards at each flush, queries from the HTTP
/// handlers; one mutex guards the tables, held for one flush's batch or one
/// query's scan, never across I/O.
public final class MemorySeriesStore: SampleSink, SeriesQuerier {
    /// How long samples are kept (milliseconds).
    public let retentionMillis: Int64
    private let state: Mutex<State>
    private let outOfOrder: Counter?
    private let seriesGauge: Gauge?

    struct StoredSeries {
        var labels: Labels
        var points: Deque<Point>
        /// Writers holding the series' reference.
        var holders: Int32
    }

    struct State {
        var index: [Labels: Int] = [:]
        var series: [StoredSeries?] = []
        var free: [Int] = []
        /// Postings by metric name, so a selector with a name scans only its series.
        var byName: [String: [Int]] = [:]
        var newest: Int64 = 0
        var lastSweep: Int64 = 0
    }

    public init(retentionMillis: Int64, registry: PrometheusCollectorRegistry? = nil) {
        self.retentionMillis = retentionMillis
        state = Mutex(State())
        outOfOrder = registry?.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_out_of_order_samples", unitName: "total",
            helpText: "Samples rejected because their series already has a newer one."))
        seriesGauge = registry?.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_series", unitName: "",
            helpText: "Series held by the in-memory store."))
    }

    public func register(_ labels: Labels) -> SeriesRef {
        let (slot, count) = state.withLock { state -> (Int, Int) in
            if let existing = state.index[labels] {
                state.series[existing]!.holders += 1 // indexed slots hold a series
                return (existing, state.index.count)
            }
            let stored = StoredSeries(labels: labels, points: [], holders: 1)
            let slot: Int
            if let reuse = state.free.popLast() {
                slot = reuse
                state.series[slot] = stored
            } else {
                slot = state.series.count
                state.series.append(stored)
            }
            state.index[labels] = slot
            state.byName[labels.metricName, default: []].append(slot)
            return (slot, state.index.count)
        }
        seriesGauge?.set(Int64(count))
        return SeriesRef(raw: UInt32(slot))
    }

    public func release(_ refs: [SeriesRef]) {
        state.withLock { state in
            for ref in refs {
                state.series[Int(ref.raw)]?.holders -= 1
            }
        }
    }

    public func append(_ samples: [RefSample]) {
        var rejected = 0
        state.withLock { state in
            for sample in samples {
                let slot = Int(sample.ref.raw)
                guard slot < state.series.count, state.series[slot] != nil else { continue }
                let point = Point(timestamp: sample.timestamp, value: sample.value)
                // Checked just above: the slot holds a series.
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
            // Sweep old points and forgotten series once a minute of data time.
            if state.newest - state.lastSweep >= 60_000 {
                sweep(&state, cutoff: state.newest - retentionMillis)
                state.lastSweep = state.newest
            }
        }
        if rejected > 0 { outOfOrder?.increment(by: Int64(rejected)) }
    }

    private func sweep(_ state: inout State, cutoff: Int64) {
        var removed = false
        for slot in state.series.indices {
            guard var stored = state.series[slot] else { continue }
            while let first = stored.points.first, first.timestamp < cutoff { stored.points.removeFirst() }
            if stored.points.isEmpty, stored.holders <= 0 {
                state.index[stored.labels] = nil
                state.series[slot] = nil
                state.free.append(slot)
                removed = true
            } else {
                state.series[slot] = stored
            }
        }
        if removed {
            let series = state.series
            state.byName = state.byName.compactMapValues { slots in
                let live = slots.filter { series[$0] != nil }
                return live.isEmpty ? nil : live
            }
        }
        seriesGauge?.set(Int64(state.index.count))
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
            return state.byName[byName.value] ?? []
        }
        return Array(state.series.indices)
    }
}
