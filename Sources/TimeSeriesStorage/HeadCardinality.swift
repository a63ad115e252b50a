import HeapModule
import TelemetryModel

extension Head {
    /// The head counted by metric name, label name and label pair, from the
    /// postings (no series is read): Prometheus's TSDB status figures.
    func cardinality(limit: Int) -> HeadCardinality {
        var result = HeadCardinality()
        result.series = seriesCount
        for case let s? in series {
            result.chunks += s.closed.count + (s.open.count > 0 ? 1 : 0)
            if let first = s.minTime { result.minTime = min(result.minTime ?? first, first) }
            if let last = s.maxTime { result.maxTime = max(result.maxTime ?? last, last) }
        }
        let nameID = symbols.find(Labels.metricName)
        var byMetric = TopCounts(limit: limit)
        var valuesByName = TopCounts(limit: limit)
        var bytesByName = TopCounts(limit: limit)
        var byPair = TopCounts(limit: limit)
        for (name, values) in postings {
            let nameString = symbols.string(name)
            valuesByName.offer(values.count) { nameString }
            result.labelPairs += values.count
            var bytes = 0
            for (value, list) in values {
                let count = list.count
                bytes += symbols.byteCount(value)
                byPair.offer(count) { nameString + "=" + symbols.string(value) }
                if name == nameID { byMetric.offer(count) { symbols.string(value) } }
            }
            bytesByName.offer(bytes) { nameString }
        }
        result.seriesCountByMetricName = byMetric.entries
        result.labelValueCountByLabelName = valuesByName.entries
        result.memoryInBytesByLabelName = bytesByName.entries
        result.seriesCountByLabelValuePair = byPair.entries
        return result
    }
}

extension TSDB: CardinalitySource {
    public func headCardinality(limit: Int) -> HeadCardinality {
        head.withLock { $0.cardinality(limit: limit) }
    }

    public func headSeriesHistory() -> [HeadSeriesPoint] {
        growth.withLock { $0.all }
    }

    public var headSeriesCount: Int {
        head.withLock { $0.seriesCount }
    }
}

/// The `limit` largest counts offered, largest first, equal counts by name:
/// a min-heap of the best so far, so a name is made only for a count that
/// may enter it.
private struct TopCounts {
    private struct Candidate: Comparable {
        var count: Int
        var name: String
        /// Smaller is worse: a lower count, or an equal count with a later name.
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.count != b.count ? a.count < b.count : a.name > b.name
        }
    }

    let limit: Int
    private var best = Heap<Candidate>()

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    mutating func offer(_ count: Int, name: () -> String) {
        guard limit > 0 else { return }
        if best.count == limit, let worst = best.min, count < worst.count { return }
        best.insert(Candidate(count: count, name: name()))
        if best.count > limit { _ = best.removeMin() }
    }

    var entries: [HeadCardinality.Entry] {
        best.unordered.sorted(by: >).map { HeadCardinality.Entry($0.name, $0.count) }
    }
}
