#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TelemetryModel

/// One aggregation shard: it owns its series tables outright, applies the
/// records of the batches its ring delivers, and turns the interval into
/// samples at every flush. It reads no clock and takes no lock; the runner
/// that drives it passes time in and keeps it on one thread.
///
/// Output per StatsD kind (docs/naming.md): a counter `x` gives `x_total`
/// (cumulative, increments scaled by 1/rate); a gauge `x` its last value; a
/// set `x` the distinct members of the interval; a timer `x` gives
/// `x_seconds{quantile=…}`, `_min` and `_max` for the interval and cumulative
/// `_count` and `_sum`; histograms and distributions the same without `_seconds`.
public final class AggregationShard {
    public let config: AggregationConfig
    private let mapping: SketchMapping
    private let budget: SeriesBudget
    private let metrics: AggregationMetrics?

    private var aliasTable = AliasTable()
    private var aliases: [SeriesAlias] = []
    private var freeAliases: [Int32] = []
    private var families: [Labels: Int32] = [:]
    /// The StatsD kind each family name was first seen with, and how many
    /// live series hold it: one name, one type, as Prometheus requires.
    private var familyKinds: [String: (kind: MetricKind, series: Int)] = [:]
    private var series: [SeriesState?] = []
    private var freeSeries: [Int32] = []
    public private(set) var activeSeries = 0

    public init(config: AggregationConfig, budget: SeriesBudget, metrics: AggregationMetrics?) {
        self.config = config
        self.mapping = SketchMapping(relativeAccuracy: config.sketchRelativeAccuracy)
        self.budget = budget
        self.metrics = metrics
    }

    /// Applies every record of a batch.
    public func apply(_ batch: RecordBatch) {
        batch.forEachRecord { apply($0) }
    }

    /// Applies one record to its series, creating the series on first sight.
    @inline(__always)
    func apply(_ record: MetricRecord) {
        let aliasIndex = aliasTable.find(record.hash) { candidate in
            let alias = aliases[Int(candidate)]
            return alias.kind == record.kind && alias.key.count == record.key.count
                && alias.key.withUnsafeBytes { memcmp($0.baseAddress!, record.key.baseAddress!, record.key.count) == 0 }
        } ?? createAlias(record)
        guard let aliasIndex else { return }
        aliases[Int(aliasIndex)].touched = true
        let index = Int(aliases[Int(aliasIndex)].series)
        series[index]!.touched = true
        switch record.kind {
        case .counter:
            series[index]!.value += record.value * record.weight
        case .gauge:
            if record.isDelta {
                series[index]!.value += record.value
            } else {
                series[index]!.value = record.value
            }
        case .timer, .histogram, .distribution:
            series[index]!.summary!.sketch.add(record.value, weight: record.weight, mapping: mapping)
        case .set:
            series[index]!.members!.cardinality.add(hash: record.value.bitPattern)
        }
    }

    /// First sight of a spelling: find or create its family, or refuse it.
    private func createAlias(_ record: MetricRecord) -> Int32? {
        let nameBytes = UnsafeRawBufferPointer(rebasing: record.key[0..<record.nameLength])
        let tagBytes = Array(record.key[record.nameLength...])
        var family = MetricNaming.metricName(nameBytes)
        switch record.kind {
        case .counter: family += "_total"
        case .timer: family += "_seconds"
        default: break
        }
        let labels = Labels([Label(Labels.metricName, family)] + MetricNaming.labels(fromTags: tagBytes))
        let seriesIndex: Int32
        if let existing = families[labels] {
            guard Self.compatible(series[Int(existing)]!.kind, record.kind) else {
                metrics?.typeConflicts.increment()
                return nil
            }
            seriesIndex = existing
        } else {
            if let known = familyKinds[family], !Self.compatible(known.kind, record.kind) {
                metrics?.typeConflicts.increment()
                return nil
            }
            guard budget.acquire() else {
                metrics?.seriesLimitDropped.increment()
                return nil
            }
            var state = SeriesState(labels: labels, kind: record.kind, lastSeen: 0, touched: false, value: 0)
            switch record.kind {
            case .timer:
                state.summary = SummaryState(family: labels, quantiles: config.quantiles, scale: 0.001)
            case .histogram, .distribution:
                state.summary = SummaryState(family: labels, quantiles: config.quantiles, scale: 1)
            case .set:
                state.members = SetState(exactLimit: config.setExactLimit, precision: config.hllPrecision)
            case .counter, .gauge:
                break
            }
            if let free = freeSeries.popLast() {
                seriesIndex = free
                series[Int(free)] = state
            } else {
                seriesIndex = Int32(series.count)
                series.append(state)
            }
            families[labels] = seriesIndex
            familyKinds[family, default: (record.kind, 0)].series += 1
            activeSeries += 1
            metrics?.seriesCreated.increment()
        }
        let alias = SeriesAlias(hash: record.hash, kind: record.kind, key: Array(record.key),
                                series: seriesIndex, lastSeen: 0, touched: false)
        let aliasIndex: Int32
        if let free = freeAliases.popLast() {
            aliasIndex = free
            aliases[Int(free)] = alias
        } else {
            aliasIndex = Int32(aliases.count)
            aliases.append(alias)
        }
        aliasTable.insert(record.hash, aliasIndex)
        return aliasIndex
    }

    /// Whether lines of kind `b` may join a family created by kind `a`
    /// (histograms and distributions produce the same series).
    private static func compatible(_ a: MetricKind, _ b: MetricKind) -> Bool {
        a == b || (a == .histogram && b == .distribution) || (a == .distribution && b == .histogram)
    }

    /// Ends the interval: returns its samples stamped `timestamp` (the
    /// interval's end), resets per-interval state, and releases series not
    /// updated within the expiry.
    public func flush(at timestamp: Int64) -> [Sample] {
        var out: [Sample] = []
        out.reserveCapacity(activeSeries * 2)
        var expired = 0
        for index in series.indices {
            guard var state = series[index] else { continue }
            if state.touched {
                state.lastSeen = timestamp
                state.touched = false
            } else if timestamp - state.lastSeen > config.seriesExpiryMillis {
                families[state.labels] = nil
                let family = state.labels.metricName
                if let known = familyKinds[family] {
                    familyKinds[family] = known.series > 1 ? (known.kind, known.series - 1) : nil
                }
                series[index] = nil
                freeSeries.append(Int32(index))
                expired += 1
                continue
            }
            emit(state, at: timestamp, into: &out)
            series[index] = state
        }
        for index in aliases.indices where aliases[index].series >= 0 {
            if aliases[index].touched {
                aliases[index].lastSeen = timestamp
                aliases[index].touched = false
            } else if timestamp - aliases[index].lastSeen > config.seriesExpiryMillis
                        || series[Int(aliases[index].series)] == nil {
                aliasTable.remove(aliases[index].hash, Int32(index))
                aliases[index] = SeriesAlias(hash: 0, kind: .counter, key: [], series: -1, lastSeen: 0, touched: false)
                freeAliases.append(Int32(index))
            }
        }
        if expired > 0 {
            activeSeries -= expired
            budget.release(expired)
            metrics?.seriesExpired.increment(by: Int64(expired))
        }
        metrics?.flushSamples.increment(by: Int64(out.count))
        return out
    }

    private func emit(_ state: SeriesState, at timestamp: Int64, into out: inout [Sample]) {
        switch state.kind {
        case .counter, .gauge:
            out.append(Sample(labels: state.labels, timestamp: timestamp, value: state.value))
        case .set:
            let members = state.members!
            out.append(Sample(labels: state.labels, timestamp: timestamp, value: members.cardinality.count))
            members.cardinality.reset()
        case .timer, .histogram, .distribution:
            let summary = state.summary!
            let sketch = summary.sketch
            let scale = summary.scale
            if !sketch.isEmpty {
                for (q, labels) in zip(config.quantiles, summary.quantileLabels) {
                    if let value = sketch.quantile(q, mapping: mapping) {
                        out.append(Sample(labels: labels, timestamp: timestamp, value: value * scale))
                    }
                }
                out.append(Sample(labels: summary.minLabels, timestamp: timestamp, value: sketch.min * scale))
                out.append(Sample(labels: summary.maxLabels, timestamp: timestamp, value: sketch.max * scale))
                summary.totalCount += sketch.count
                summary.totalSum += sketch.sum
            }
            out.append(Sample(labels: summary.countLabels, timestamp: timestamp, value: summary.totalCount))
            out.append(Sample(labels: summary.sumLabels, timestamp: timestamp, value: summary.totalSum * scale))
            summary.sketch.reset(keepMemory: sketch.count >= 64)
        }
    }
}
