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
///
/// Layout: a line is matched to an alias (its raw spelling) through an
/// open-addressing table, and the alias points at the series' hot entry;
/// both live in manually managed columns, and sketches and sets in columns of
/// their own, so applying a line touches plain memory only. Labels and other
/// cold state are used only when a series is created and at flush.
public final class AggregationShard {
    public let config: AggregationConfig
    private let mapping: SketchMapping
    private let budget: SeriesBudget
    private let metrics: AggregationMetrics?

    private var table = AliasTable()
    private var keys = KeyArena()
    private var aliases = Column<AliasEntry>()
    private var freeAliases: [Int32] = []
    private var entries = Column<SeriesEntry>()
    private var cold: [SeriesCold?] = []
    private var freeSeries: [Int32] = []
    private var sketches = Column<DDSketch>()
    private var freeSketches: [Int32] = []
    private var sets = Column<SetCardinality>()
    private var freeSets: [Int32] = []
    private var families: [Labels: Int32] = [:]
    /// The StatsD kind each family name was first seen with, and how many
    /// live series hold it: one name, one type, as Prometheus requires.
    private var familyKinds: [String: (kind: MetricKind, series: Int)] = [:]
    public private(set) var activeSeries = 0

    public init(config: AggregationConfig, budget: SeriesBudget, metrics: AggregationMetrics?) {
        self.config = config
        self.mapping = SketchMapping(relativeAccuracy: config.sketchRelativeAccuracy)
        self.budget = budget
        self.metrics = metrics
    }

    deinit {
        keys.free()
        aliases.free()
        entries.free()
        sketches.free()
        sets.free()
    }

    /// Applies every record of a batch.
    public func apply(_ batch: RecordBatch) {
        batch.forEachRecord { apply($0) }
    }

    /// Applies one record to its series, creating the series on first sight.
    @inline(__always)
    func apply(_ record: MetricRecord) {
        let keyBase = keys.base
        let aliasBase = aliases.base
        // A key is never empty (a metric name has at least one byte), so it has a base address.
        let found = table.find(record.hash) { candidate in
            let alias = aliasBase[Int(candidate)]
            return alias.kind == record.kind && Int(alias.keyLength) == record.key.count
                && memcmp(keyBase + alias.keyOffset, record.key.baseAddress!, record.key.count) == 0
        }
        guard let aliasIndex = found ?? createAlias(record) else { return }
        let alias = aliases.base + Int(aliasIndex)
        alias.pointee.touched = true
        let entry = entries.base + Int(alias.pointee.series)
        entry.pointee.touched = true
        switch record.kind {
        case .counter:
            entry.pointee.value += record.value * record.weight
        case .gauge:
            if record.isDelta {
                entry.pointee.value += record.value
            } else {
                entry.pointee.value = record.value
            }
        case .timer, .histogram, .distribution:
            (sketches.base + Int(entry.pointee.aux)).pointee.add(record.value, weight: record.weight, mapping: mapping)
        case .set:
            (sets.base + Int(entry.pointee.aux)).pointee.add(hash: record.value.bitPattern)
        }
    }

    /// First sight of a spelling: find or create its series, or refuse it.
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
            guard Self.compatible(entries[existing].kind, record.kind) else {
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
            seriesIndex = createSeries(labels, family: family, kind: record.kind)
        }
        let alias = AliasEntry(
            hash: record.hash, keyOffset: keys.store(record.key), keyLength: Int32(record.key.count),
            series: seriesIndex, lastSeen: 0, kind: record.kind, touched: false, live: true)
        let aliasIndex: Int32
        if let free = freeAliases.popLast() {
            aliasIndex = free
            aliases[free] = alias
        } else {
            aliasIndex = aliases.append(alias)
        }
        table.insert(record.hash, aliasIndex)
        return aliasIndex
    }

    private func createSeries(_ labels: Labels, family: String, kind: MetricKind) -> Int32 {
        var aux: Int32 = -1
        var summary: SummaryOutputs?
        switch kind {
        case .timer, .histogram, .distribution:
            summary = SummaryOutputs(family: labels, quantiles: config.quantiles, scale: kind == .timer ? 0.001 : 1)
            if let free = freeSketches.popLast() {
                aux = free
            } else {
                aux = sketches.append(DDSketch())
            }
        case .set:
            if let free = freeSets.popLast() {
                aux = free
            } else {
                aux = sets.append(SetCardinality(exactLimit: config.setExactLimit, precision: config.hllPrecision))
            }
        case .counter, .gauge:
            break
        }
        let entry = SeriesEntry(value: 0, lastSeen: 0, aux: aux, kind: kind, touched: false, live: true)
        let index: Int32
        if let free = freeSeries.popLast() {
            index = free
            entries[free] = entry
            cold[Int(free)] = SeriesCold(labels: labels, summary: summary)
        } else {
            index = entries.append(entry)
            cold.append(SeriesCold(labels: labels, summary: summary))
        }
        families[labels] = index
        familyKinds[family, default: (kind, 0)].series += 1
        activeSeries += 1
        metrics?.seriesCreated.increment()
        return index
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
        for index in 0..<Int32(entries.count) where entries[index].live {
            if entries[index].touched {
                entries[index].lastSeen = timestamp
                entries[index].touched = false
            } else if timestamp - entries[index].lastSeen > config.seriesExpiryMillis {
                release(series: index)
                expired += 1
                continue
            }
            emit(index, at: timestamp, into: &out)
        }
        for index in 0..<Int32(aliases.count) where aliases[index].live {
            if aliases[index].touched {
                aliases[index].lastSeen = timestamp
                aliases[index].touched = false
            } else if timestamp - aliases[index].lastSeen > config.seriesExpiryMillis
                        || !entries[aliases[index].series].live {
                table.remove(aliases[index].hash, index)
                keys.release(Int(aliases[index].keyLength))
                aliases[index].live = false
                freeAliases.append(index)
            }
        }
        if keys.shouldCompact { compactKeys() }
        if expired > 0 {
            activeSeries -= expired
            budget.release(expired)
            metrics?.seriesExpired.increment(by: Int64(expired))
        }
        metrics?.flushSamples.increment(by: Int64(out.count))
        return out
    }

    private func release(series index: Int32) {
        let entry = entries[index]
        entries[index].live = false
        switch entry.kind {
        case .timer, .histogram, .distribution:
            sketches[entry.aux].reset(keepMemory: false)
            freeSketches.append(entry.aux)
        case .set:
            sets[entry.aux].reset()
            freeSets.append(entry.aux)
        case .counter, .gauge:
            break
        }
        if let labels = cold[Int(index)]?.labels {
            families[labels] = nil
            let family = labels.metricName
            if let known = familyKinds[family] {
                familyKinds[family] = known.series > 1 ? (known.kind, known.series - 1) : nil
            }
        }
        cold[Int(index)] = nil
        freeSeries.append(index)
    }

    private func compactKeys() {
        let aliasBase = aliases.base
        let count = aliases.count
        keys.compact { relocate in
            for i in 0..<count where aliasBase[i].live {
                aliasBase[i].keyOffset = relocate(aliasBase[i].keyOffset, Int(aliasBase[i].keyLength))
            }
        }
    }

    private func emit(_ index: Int32, at timestamp: Int64, into out: inout [Sample]) {
        let entry = entries[index]
        guard let state = cold[Int(index)] else { return }
        switch entry.kind {
        case .counter, .gauge:
            out.append(Sample(labels: state.labels, timestamp: timestamp, value: entry.value))
        case .set:
            out.append(Sample(labels: state.labels, timestamp: timestamp, value: sets[entry.aux].count))
            sets[entry.aux].reset()
        case .timer, .histogram, .distribution:
            guard var summary = state.summary else { return }
            let sketch = sketches[entry.aux]
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
                cold[Int(index)]?.summary = summary
            }
            out.append(Sample(labels: summary.countLabels, timestamp: timestamp, value: summary.totalCount))
            out.append(Sample(labels: summary.sumLabels, timestamp: timestamp, value: summary.totalSum * scale))
            sketches[entry.aux].reset(keepMemory: sketch.count >= 64)
        }
    }
}
