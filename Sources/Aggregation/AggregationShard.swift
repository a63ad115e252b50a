#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ProtobufWire
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
/// both live in manually managed columns, and summaries and sets in columns
/// of their own, so applying a line touches plain memory only. Labels are
/// built once, when a series is created, and handed to the sink, which keeps
/// them; the shard keeps only the sink's references to the outputs.
public final class AggregationShard {
    public let config: AggregationConfig
    private let mapping: SketchMapping
    private let budget: SeriesBudget
    private let metrics: AggregationMetrics?
    private let sink: any SampleSink
    /// References each summary takes in `refs`: its quantiles, then count, sum, min, max.
    private let summaryWidth: Int

    private var table = AliasTable()
    private var keys = KeyArena()
    private var aliases = Column<AliasEntry>()
    private var freeAliases: [Int32] = []
    private var entries = Column<SeriesEntry>()
    private var freeSeries: [Int32] = []
    private var summaries = Column<SummaryState>()
    private var freeSummaries: [Int32] = []
    /// Output references of summaries, `summaryWidth` per summary.
    private var refs = Column<SeriesRef>()
    private var sets = Column<SetCardinality>()
    private var freeSets: [Int32] = []
    /// Series by the sink's reference of their output: the sink's index is
    /// exact on labels, so every spelling of a series finds the same entry.
    private var families: [SeriesRef: Int32] = [:]
    /// The StatsD kind each family name (by its hash) was first seen with,
    /// and how many live series hold it: one name, one type, as Prometheus
    /// requires. Two names with equal 64-bit hashes could only cause a false
    /// type conflict.
    private var familyKinds: [Int: (kind: MetricKind, series: Int32)] = [:]
    public private(set) var activeSeries = 0

    /// Where new families' types are recorded (`/api/v1/metadata`).
    private let catalog: MetricCatalog?
    /// An agent exports each interval's state before flushing it (`exportAggregates`).
    public let exportsAggregates: Bool
    /// An agent's counters: the cumulative total already exported, by series
    /// index, so an export carries the interval's increment.
    private var forwardedTotals: [Double] = []
    /// Where each interval's values of every summary family go, merged by family.
    private let rollupSink: (any SketchRollupSink)?
    /// The interval's values of each summary family (by family hash), across its series.
    /// (Only for the interval being flushed: a family's sketch is not kept between flushes,
    /// nor its name, which is spelt again from a key of the family at each flush.)
    private var rollups: [Int: SketchRollup] = [:]

    public init(
        config: AggregationConfig, budget: SeriesBudget, metrics: AggregationMetrics?, sink: any SampleSink,
        catalog: MetricCatalog? = nil, exportsAggregates: Bool = false, rollupSink: (any SketchRollupSink)? = nil
    ) {
        self.rollupSink = rollupSink
        self.catalog = catalog
        self.exportsAggregates = exportsAggregates
        self.config = config
        self.mapping = SketchMapping(relativeAccuracy: config.sketchRelativeAccuracy)
        self.budget = budget
        self.metrics = metrics
        self.sink = sink
        precondition(config.quantiles == config.quantiles.sorted() && config.quantiles.allSatisfy { $0 > 0 && $0 < 1 },
                     "quantiles must be in (0, 1) and in increasing order (ConfigLoader sorts them)")
        summaryWidth = config.quantiles.count + 4
    }

    deinit {
        keys.free()
        table.free()
        aliases.free()
        entries.free()
        summaries.free()
        refs.free()
        sets.free()
    }

    /// Applies every record of a batch.
    public func apply(_ batch: RecordBatch) {
        if batch.attachments.isEmpty {
            prefetchSetSlots(batch)
            batch.forEachRecord { apply($0) }
        } else {
            batch.forEachRecord { apply($0, attachments: batch.attachments) }
        }
    }

    /// Before a batch is applied, starts loading the table slot of every set
    /// member in it: a set's members land anywhere in its table, so each
    /// insert would otherwise wait for memory in turn (with a thousand sets of
    /// a thousand members, most of the time a set line took). A series is
    /// found by hash and kind alone here; a wrong guess only wastes a hint.
    private func prefetchSetSlots(_ batch: RecordBatch) {
        batch.forEachRecord { record in
            guard record.kind == .set, let slot = table.find(record.hash, { $0.kind == .set }) else { return }
            let entry = entries.base + Int(slot.pointee.series)
            // Whatever the slot says, only a live set's own state is read.
            guard entry.pointee.live, entry.pointee.kind == .set, entry.pointee.aux >= 0,
                  Int(entry.pointee.aux) < sets.count else { return }
            (sets.base + Int(entry.pointee.aux)).pointee.prefetch(hash: record.value.bitPattern)
        }
    }

    /// Applies one record to its series, creating the series on first sight.
    /// A merge record takes in forwarded state from `attachments`.
    @inline(__always)
    func apply(_ record: MetricRecord, attachments: [AggregateState] = []) {
        let keyBase = keys.base
        let length = Int32(record.key.count)
        // A key is never empty (a metric name has at least one byte), so it has a base address.
        let seriesIndex: Int32
        if let slot = table.find(record.hash, { slot in
            slot.keyLength == length && slot.kind == record.kind
                && memcmp(keyBase + slot.keyOffset, record.key.baseAddress!, record.key.count) == 0
        }) {
            slot.pointee.touched = true
            seriesIndex = slot.pointee.series
        } else {
            guard let created = createAlias(record) else { return }
            seriesIndex = created
        }
        let entry = entries.base + Int(seriesIndex)
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
            if record.isMerge {
                if case .sketch(let sketch) = attachments[Int(record.value)] {
                    (summaries.base + Int(entry.pointee.aux)).pointee.sketch.merge(sketch)
                }
            } else {
                (summaries.base + Int(entry.pointee.aux)).pointee.sketch.add(record.value, weight: record.weight, mapping: mapping)
            }
        case .set:
            if record.isMerge {
                if case .registers(let hll) = attachments[Int(record.value)] { (sets.base + Int(entry.pointee.aux)).pointee.merge(hll) }
            } else {
                (sets.base + Int(entry.pointee.aux)).pointee.add(hash: record.value.bitPattern)
            }
        }
    }

    /// First sight of a spelling: find or create its series, or refuse it.
    /// Returns the series.
    private func createAlias(_ record: MetricRecord) -> Int32? {
        let nameBytes = UnsafeRawBufferPointer(rebasing: record.key[0..<record.nameLength])
        let tagBytes = UnsafeRawBufferPointer(rebasing: record.key[record.nameLength...])
        let family = Self.familyName(nameBytes, kind: record.kind)
        let labels = Labels([Label(Labels.metricName, family)] + MetricNaming.labels(fromTags: tagBytes))
        if let (violation, _) = config.labelLimits.violation(labels) {
            metrics?.labelLimitDropped[LabelLimits.Violation.allCases.firstIndex(of: violation)!].increment() // every case has a counter
            return nil
        }
        let familyHash = family.hashValue
        if let known = familyKinds[familyHash], !Self.compatible(known.kind, record.kind) {
            metrics?.typeConflicts.increment()
            return nil
        }
        // The reference of the series' primary output names it exactly.
        let primary = record.kind.isSummary ? labels.setting(Labels.metricName, to: family + "_count") : labels
        let seriesIndex: Int32
        let familyFull = config.maxSeriesPerMetric > 0 && Int(familyKinds[familyHash]?.series ?? 0) >= config.maxSeriesPerMetric
        if !familyFull, budget.acquire() {
            let ref: SeriesRef
            if let limits = config.storeLimits {
                switch sink.register([primary], within: limits)[0] {
                case .registered(let registered):
                    ref = registered
                case .overSeriesLimit:
                    // The store has no room for a series it does not hold (one it holds registers):
                    // the series it has carry on, nothing new is made.
                    budget.release(1)
                    metrics?.storeLimitDropped[0].increment()
                    return nil
                case .overMetricLimit:
                    budget.release(1)
                    metrics?.storeLimitDropped[1].increment()
                    metrics?.perMetricLimitDropped.increment(primary.metricName)
                    return nil
                }
            } else {
                ref = sink.register(primary)
            }
            if let existing = families[ref] {
                // Another spelling of a series this shard has.
                sink.release([ref])
                budget.release(1)
                seriesIndex = existing
            } else {
                seriesIndex = createSeries(labels, primary: ref, familyHash: familyHash, kind: record.kind)
            }
        } else {
            // At a cap nothing new may reach the store: only another spelling of a series held passes.
            guard let known = sink.find(primary), let existing = families[known] else {
                if familyFull {
                    metrics?.perMetricLimitDropped.increment(family)
                } else {
                    metrics?.seriesLimitDropped.increment()
                }
                return nil
            }
            seriesIndex = existing
        }
        let aliasIndex = aliases.place(AliasEntry(lastSeen: 0), reusing: &freeAliases)
        table.insert(AliasTable.Slot(
            hash: record.hash, keyOffset: keys.store(record.key), keyLength: Int32(record.key.count),
            series: seriesIndex, alias: aliasIndex, kind: record.kind, touched: true, nameLength: UInt16(record.nameLength)))
        return seriesIndex
    }

    /// Creates a series; `primary` is its registered output (a summary's
    /// `_count`), whose reference the series now holds.
    private func createSeries(_ labels: Labels, primary: SeriesRef, familyHash: Int, kind: MetricKind) -> Int32 {
        var aux: Int32 = -1
        switch kind {
        case .timer, .histogram, .distribution:
            let name = labels.metricName
            var outputs = config.quantiles.map { labels.setting("quantile", to: formatQuantile($0)) }
            outputs.append(contentsOf: ["_sum", "_min", "_max"].map { labels.setting(Labels.metricName, to: name + $0) })
            let registered = outputs.map { sink.register($0) }
            let rollsUp = rollupSink?.keeps(family: name) ?? false
            // Block order: quantiles, count, sum, min, max.
            let block = config.quantiles.count
            var ordered = Array(registered[0..<block])
            ordered.append(primary)
            ordered.append(contentsOf: registered[block...])
            if let free = freeSummaries.popLast() {
                aux = free
                let start = summaries[free].refs
                for (k, ref) in ordered.enumerated() { refs[start + Int32(k)] = ref }
                summaries[free] = SummaryState(refs: start, rollsUp: rollsUp)
            } else {
                var start: Int32 = -1
                for ref in ordered {
                    let index = refs.append(ref)
                    if start < 0 { start = index }
                }
                aux = summaries.append(SummaryState(refs: start, rollsUp: rollsUp))
            }
        case .set:
            aux = sets.place(SetCardinality(exactLimit: config.setExactLimit, precision: config.hllPrecision), reusing: &freeSets)
        case .counter, .gauge:
            break
        }
        let entry = SeriesEntry(value: 0, lastSeen: 0, ref: primary, aux: aux, familyHash: familyHash,
                                kind: kind, touched: false, live: true)
        let index = entries.place(entry, reusing: &freeSeries)
        if exportsAggregates {
            while forwardedTotals.count <= Int(index) { forwardedTotals.append(0) }
            forwardedTotals[Int(index)] = 0
        }
        families[primary] = index
        if familyKinds[familyHash] == nil { catalog?.record(family: labels.metricName, kind: kind, hash: familyHash) }
        familyKinds[familyHash, default: (kind, 0)].series += 1
        activeSeries += 1
        metrics?.seriesCreated.increment()
        return index
    }

    /// The output family of a StatsD name: the sanitised name and the kind's suffix.
    static func familyName(_ nameBytes: UnsafeRawBufferPointer, kind: MetricKind) -> String {
        MetricNaming.metricName(nameBytes) + kind.familySuffix
    }

    /// Whether lines of kind `b` may join a family created by kind `a`
    /// (histograms and distributions produce the same series).
    private static func compatible(_ a: MetricKind, _ b: MetricKind) -> Bool {
        a == b || (a == .histogram && b == .distribution) || (a == .distribution && b == .histogram)
    }

    /// An agent's export of the interval, called just before `flush`: every
    /// series updated since the last flush as one `Aggregate` of an
    /// `AggregateRequest` (`AggregateWire`), keyed by one of its spellings:
    /// a counter's increment, a gauge's value, a summary's sketch, a set's
    /// members or sketch.
    public func exportAggregates(into encoder: inout ProtobufEncoder) {
        guard exportsAggregates else { return }
        var exported = Set<Int32>()
        let keyBase = UnsafeRawPointer(keys.base)
        table.forEachSlot { slot in
            let series = slot.pointee.series
            guard slot.pointee.touched, entries[series].touched, exported.insert(series).inserted else { return }
            let key = UnsafeRawBufferPointer(start: keyBase + slot.pointee.keyOffset, count: Int(slot.pointee.keyLength))
            let nameLength = Int(slot.pointee.nameLength)
            let entry = entries[series]
            switch entry.kind {
            case .counter:
                let increment = entry.value - forwardedTotals[Int(series)]
                forwardedTotals[Int(series)] = entry.value
                AggregateWire.appendCounterOrGauge(key: key, nameLength: nameLength, kind: .counter, value: increment, to: &encoder)
            case .gauge:
                AggregateWire.appendCounterOrGauge(key: key, nameLength: nameLength, kind: .gauge, value: entry.value, to: &encoder)
            case .timer, .histogram, .distribution:
                let sketch = summaries[entry.aux].sketch
                guard sketch.count > 0 else { return }
                AggregateWire.appendSketch(
                    key: key, nameLength: nameLength, kind: entry.kind, sketch: sketch, accuracy: mapping.relativeAccuracy, to: &encoder)
            case .set:
                AggregateWire.appendSet(key: key, nameLength: nameLength, set: sets[entry.aux], to: &encoder)
            }
        }
    }

    /// Ends the interval: returns its samples stamped `timestamp` (the
    /// interval's end), resets per-interval state, and releases series not
    /// updated within the expiry.
    public func flush(at timestamp: Int64) -> [RefSample] {
        // One slice: the whole interval, handed over once (or not at all when empty).
        var all: [RefSample] = []
        flush(at: timestamp, sliceSize: .max) { all = $0 }
        return all
    }

    /// Samples handed over per slice by `flush(at:sliceSize:_:)`.
    public static let flushSlice = 65_536

    /// Ends the interval as `flush(at:)` does, handing the samples to `body`
    /// in slices of `sliceSize` as they are made, so that a flush of
    /// millions of series never holds them all at once. Returns how many.
    @discardableResult
    public func flush(at timestamp: Int64, sliceSize: Int = AggregationShard.flushSlice, _ body: ([RefSample]) -> Void) -> Int {
        var out: [RefSample] = []
        out.reserveCapacity(min(sliceSize, activeSeries * 2) + 16)
        var total = 0
        var expired = 0
        var ended: [RefSample] = []
        var released: [SeriesRef] = []
        for index in 0..<Int32(entries.count) where entries[index].live {
            if entries[index].touched {
                entries[index].lastSeen = timestamp
                entries[index].touched = false
            } else if timestamp - entries[index].lastSeen > config.seriesExpiryMillis {
                // Its outputs end here: a staleness marker each, so instant queries drop them at once.
                forEachLiveOutput(index) { ended.append(RefSample(ref: $0, timestamp: timestamp, value: StaleMarker.value)) }
                released += release(series: index)
                expired += 1
                continue
            }
            emit(index, at: timestamp, into: &out)
            if out.count >= sliceSize {
                total += out.count
                body(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        if !released.isEmpty {
            // The markers reach the sink before the references are given back.
            if !ended.isEmpty { sink.append(ended) }
            sink.release(released)
        }
        var gone: [(hash: UInt64, alias: Int32, keyLength: Int32)] = []
        let keyBase = UnsafeRawPointer(keys.base)
        table.forEachSlot { slot in
            let alias = slot.pointee.alias
            if slot.pointee.touched {
                if slot.pointee.kind.isSummary, !rollups.isEmpty { nameRollup(slot.pointee, keyBase: keyBase) }
                aliases[alias].lastSeen = timestamp
                slot.pointee.touched = false
            } else if timestamp - aliases[alias].lastSeen > config.seriesExpiryMillis
                        || !entries[slot.pointee.series].live {
                gone.append((slot.pointee.hash, alias, slot.pointee.keyLength))
            }
        }
        for (hash, alias, keyLength) in gone {
            table.remove(hash, alias: alias)
            keys.release(Int(keyLength))
            freeAliases.append(alias)
        }
        if keys.shouldCompact { compactKeys() }
        if expired > 0 {
            activeSeries -= expired
            budget.release(expired)
            metrics?.seriesExpired.increment(by: Int64(expired))
        }
        total += out.count
        if !out.isEmpty { body(out) }
        metrics?.flushSamples.increment(by: Int64(total))
        handOverRollups(intervalEnd: timestamp)
        return total
    }

    /// Merges a series' interval sketch into its family's rollup for this flush
    /// (named later, by `nameRollup`).
    private func addToRollup(_ familyHash: Int, kind: MetricKind, _ sketch: DDSketch) {
        rollups[familyHash, default: SketchRollup(name: "", kind: kind)].sketch.merge(sketch)
    }

    /// Names the rollup of a touched alias' family, if it has none yet, from
    /// the alias' name bytes: every series with values this interval was
    /// touched through at least one of its aliases.
    private func nameRollup(_ slot: AliasTable.Slot, keyBase: UnsafeRawPointer) {
        let familyHash = entries[slot.series].familyHash
        guard rollups[familyHash]?.name.isEmpty == true else { return }
        let nameBytes = UnsafeRawBufferPointer(start: keyBase + slot.keyOffset, count: Int(slot.nameLength))
        rollups[familyHash]!.name = Self.familyName(nameBytes, kind: slot.kind)
    }

    /// Gives the sink the interval's rollups of the families that had values.
    private func handOverRollups(intervalEnd: Int64) {
        guard let rollupSink else { return }
        let ready = rollups.values.filter { !$0.isEmpty && !$0.name.isEmpty }
        rollups.removeAll()
        if !ready.isEmpty { rollupSink.add(ready, intervalEnd: intervalEnd) }
    }

    /// Calls `body` with each output of a series that holds a current value:
    /// all of them, but a summary's quantiles, `_min` and `_max` only when
    /// its last interval had values.
    private func forEachLiveOutput(_ index: Int32, _ body: (SeriesRef) -> Void) {
        let entry = entries[index]
        body(entry.ref)
        guard entry.kind.isSummary else { return }
        let summary = summaries[entry.aux]
        let q = config.quantiles.count
        for k in 0..<summaryWidth where k != q {
            let isPerInterval = k < q || k >= q + 2
            if !isPerInterval || summary.quantilesLive { body(refs[summary.refs + Int32(k)]) }
        }
    }

    /// Ends every live series with a staleness marker at `timestamp` (after
    /// the last flush, when tally shuts down), so that instant queries stop
    /// returning them as Prometheus stops returning a target's series.
    public func markAllStale(at timestamp: Int64) -> [RefSample] {
        var out: [RefSample] = []
        for index in 0..<Int32(entries.count) where entries[index].live {
            forEachLiveOutput(index) { out.append(RefSample(ref: $0, timestamp: timestamp, value: StaleMarker.value)) }
        }
        return out
    }

    /// Frees a series' state; returns the references the sink must release.
    private func release(series index: Int32) -> [SeriesRef] {
        let entry = entries[index]
        entries[index].live = false
        var released = [entry.ref]
        switch entry.kind {
        case .timer, .histogram, .distribution:
            let start = summaries[entry.aux].refs
            for k in 0..<Int32(summaryWidth) where k != Int32(config.quantiles.count) {
                released.append(refs[start + k])
            }
            summaries[entry.aux].sketch.reset(keepMemory: false)
            freeSummaries.append(entry.aux)
        case .set:
            sets[entry.aux].reset()
            freeSets.append(entry.aux)
        case .counter, .gauge:
            break
        }
        families[entry.ref] = nil
        if let known = familyKinds[entry.familyHash] {
            familyKinds[entry.familyHash] = known.series > 1 ? (known.kind, known.series - 1) : nil
            if known.series == 1 { catalog?.forget(hash: entry.familyHash) }
        }
        freeSeries.append(index)
        return released
    }

    private func compactKeys() {
        let table = self.table
        keys.compact { relocate in
            table.forEachSlot { slot in
                slot.pointee.keyOffset = relocate(slot.pointee.keyOffset, Int(slot.pointee.keyLength))
            }
        }
    }

    private func emit(_ index: Int32, at timestamp: Int64, into out: inout [RefSample]) {
        let entry = entries[index]
        switch entry.kind {
        case .counter, .gauge:
            out.append(RefSample(ref: entry.ref, timestamp: timestamp, value: entry.value))
        case .set:
            out.append(RefSample(ref: entry.ref, timestamp: timestamp, value: sets[entry.aux].count))
            sets[entry.aux].reset()
        case .timer, .histogram, .distribution:
            let summary = summaries.base + Int(entry.aux)
            let start = Int(summary.pointee.refs)
            let q = config.quantiles.count
            // Timers arrive in milliseconds and leave in seconds; dividing
            // (not multiplying by 0.001) keeps 87 ms as exactly 0.087.
            let divisor = entry.kind == .timer ? 1000.0 : 1
            let count = summary.pointee.sketch.count
            if count > 0 {
                let refBase = refs.base + start
                summary.pointee.sketch.quantiles(config.quantiles, mapping: mapping) { k, value in
                    out.append(RefSample(ref: refBase[k], timestamp: timestamp, value: value / divisor))
                }
                if summary.pointee.rollsUp { addToRollup(entry.familyHash, kind: entry.kind, summary.pointee.sketch) }
                out.append(RefSample(ref: refs.base[start + q + 2], timestamp: timestamp, value: summary.pointee.sketch.min / divisor))
                out.append(RefSample(ref: refs.base[start + q + 3], timestamp: timestamp, value: summary.pointee.sketch.max / divisor))
                summary.pointee.totalCount += count
                summary.pointee.totalSum += summary.pointee.sketch.sum
                summary.pointee.quantilesLive = true
            } else if summary.pointee.quantilesLive {
                // No values this interval: the interval's quantiles, min and max end (as a scrape that
                // no longer exposes a series), while the cumulative count and sum go on.
                for k in 0..<q { out.append(RefSample(ref: refs.base[start + k], timestamp: timestamp, value: StaleMarker.value)) }
                out.append(RefSample(ref: refs.base[start + q + 2], timestamp: timestamp, value: StaleMarker.value))
                out.append(RefSample(ref: refs.base[start + q + 3], timestamp: timestamp, value: StaleMarker.value))
                summary.pointee.quantilesLive = false
            }
            out.append(RefSample(ref: refs.base[start + q], timestamp: timestamp, value: summary.pointee.totalCount))
            out.append(RefSample(ref: refs.base[start + q + 1], timestamp: timestamp, value: summary.pointee.totalSum / divisor))
            summary.pointee.sketch.reset(keepMemory: count >= 64)
        }
    }
}

extension MetricKind {
    /// Timers, histograms and distributions: summarised by quantiles.
    var isSummary: Bool { self == .timer || self == .histogram || self == .distribution }
}
