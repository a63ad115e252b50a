import TelemetryModel

/// Evaluates one query: each node over a whole grid of steps at once, so a
/// selector reads its series once for every step. Not shared between
/// queries or threads.
final class Evaluator {
    let querier: any SeriesQuerier
    let limits: QueryLimits
    let queryStart: Int64
    let queryEnd: Int64
    private let deadline: ContinuousClock.Instant
    /// Samples read so far, against `limits.maxSamples`.
    private var samplesRead = 0

    init(querier: any SeriesQuerier, limits: QueryLimits, queryStart: Int64, queryEnd: Int64) {
        self.querier = querier
        self.limits = limits
        self.queryStart = queryStart
        self.queryEnd = queryEnd
        deadline = ContinuousClock.now + limits.timeout
    }

    /// Whether the answer keeps the order the expression gives it.
    static func keepsOrder(_ expr: Expr) -> Bool {
        switch expr {
        case .call(let f, _): f.name == "sort" || f.name == "sort_desc"
        case .aggregate(let a): a.op == .topk || a.op == .bottomk
        case .paren(let e): keepsOrder(e)
        default: false
        }
    }

    // MARK: Limits

    func checkDeadline() throws(PromQLError) {
        if ContinuousClock.now > deadline {
            throw PromQLError(.timeout, "query timed out in query execution", at: 0, in: "")
        }
    }

    func account(_ samples: Int) throws(PromQLError) {
        samplesRead += samples
        if samplesRead > limits.maxSamples {
            throw PromQLError.execution("query processing would load too many samples into memory in query execution")
        }
    }

    // MARK: Dispatch

    func eval(_ expr: Expr, _ grid: Grid) throws(PromQLError) -> StepValue {
        try checkDeadline()
        switch expr {
        case .number(let value):
            return .scalar([Double](repeating: value, count: grid.count))
        case .string(let text):
            return .string(text)
        case .paren(let inner):
            return try eval(inner, grid)
        case .negate(let inner):
            switch try eval(inner, grid) {
            case .scalar(let values): return .scalar(values.map { -$0 })
            case .vector(let series):
                return .vector(try mergeSameLabels(series.map { s in
                    StepSeries(labels: s.labels.droppingName, values: s.values.map { -$0 }, present: s.present)
                }))
            default: throw PromQLError.execution("unary minus on a \(inner.type)")
            }
        case .selector(let selector):
            return .vector(try instantSelector(selector, grid))
        case .matrix(let selector, let range):
            let times = evaluationTimes(grid, at: selector.at)
            return .range(try rangeSelector(selector.matchers, range: range, times: times, offset: selector.offset))
        case .subquery(let subquery):
            return .range(try self.subquery(subquery, grid))
        case .call(let function, let arguments):
            return try call(function, arguments, grid)
        case .aggregate(let aggregation):
            return .vector(try aggregate(aggregation, grid))
        case .binary(let binary):
            return try self.binary(binary, grid)
        }
    }

    /// Each step's reference time: the step (or the `@` time) minus the offset.
    func references(_ grid: Grid, offset: Int64, at: AtModifier?) -> [Int64] {
        evaluationTimes(grid, at: at).map { $0 - offset }
    }

    /// Each step's evaluation time: the step's, or the `@` time.
    func evaluationTimes(_ grid: Grid, at: AtModifier?) -> [Int64] {
        let fixed: Int64?
        switch at {
        case .time(let t)?: fixed = t
        case .start?: fixed = queryStart
        case .end?: fixed = queryEnd
        case nil: fixed = nil
        }
        return (0..<grid.count).map { fixed ?? grid.time($0) }
    }

    // MARK: Selectors

    /// Reads the matching series' points in `[from, to]`, counted against the limit.
    func fetch(_ matchers: [LabelMatcher], from: Int64, to: Int64) throws(PromQLError) -> [SeriesPoints] {
        let found: [SeriesPoints]
        do throws(StoredDataError) {
            found = try querier.select(matchers, start: from, end: to)
        } catch {
            throw PromQLError(.storage, error.message, at: 0, in: "")
        }
        try account(found.reduce(0) { $0 + $1.points.count })
        try checkDeadline()
        return found
    }

    /// An instant vector selector: at each step, each series' latest sample
    /// no older than the lookback, unless it is a staleness marker. With
    /// `timestamps`, the value is the sample's time in seconds.
    func instantSelector(_ selector: Selector, _ grid: Grid, timestamps: Bool = false) throws(PromQLError) -> [StepSeries] {
        let refs = references(grid, offset: selector.offset, at: selector.at)
        guard let low = refs.min(), let high = refs.max() else { return [] }
        let lookback = limits.lookbackMillis
        let fetched = try fetch(selector.matchers, from: low - lookback, to: high)
        // Each series' steps on its own core (an instant query's single step is not worth a hand-off).
        return parallelMap(count: fetched.count, serialBelow: refs.count < 64 ? .max : 8) { index in
            Evaluator.latestSamples(fetched[index], refs: refs, lookback: lookback, timestamps: timestamps)
        }.compactMap { $0 }
    }

    /// One series at each step: its latest sample no older than the
    /// lookback, unless that is a staleness marker.
    private static func latestSamples(
        _ s: SeriesPoints, refs: [Int64], lookback: Int64, timestamps: Bool
    ) -> StepSeries? {
        var series = StepSeries(labels: s.labels, steps: refs.count)
        var any = false
        s.points.withUnsafeBufferPointer { points in
            var upper = 0
            for (i, ref) in refs.enumerated() {
                // The last point at or before the reference time; the references only move forward.
                while upper < points.count && points[upper].timestamp <= ref { upper += 1 }
                guard upper > 0 else { continue }
                let point = points[upper - 1]
                guard point.timestamp >= ref - lookback, !point.value.isStaleMarker else { continue }
                series.set(i, timestamps ? Double(point.timestamp) / 1000 : point.value)
                any = true
            }
        }
        return any ? series : nil
    }

    /// A range selector's series, staleness markers removed.
    func rangeSelector(_ matchers: [LabelMatcher], range: Int64, times: [Int64], offset: Int64) throws(PromQLError) -> RangeData {
        let references = times.map { $0 - offset }
        guard let low = references.min(), let high = references.max() else {
            return RangeData(series: [], range: range, references: references)
        }
        return prepareRange(try fetch(matchers, from: low - range, to: high), range: range, references: references, times: times)
    }

    /// A range function over a range selector, a batch of series at a time,
    /// so each batch is worked through while its points are in cache.
    func rangeSelectorInBatches(
        _ matchers: [LabelMatcher], range: Int64, times: [Int64], offset: Int64,
        _ body: (RangeData) throws(PromQLError) -> Void
    ) throws(PromQLError) {
        let references = times.map { $0 - offset }
        guard let low = references.min(), let high = references.max() else { return }
        var failure: PromQLError?
        do throws(StoredDataError) {
            try querier.select(matchers, start: low - range, end: high, seriesPerBatch: 128) { batch in
                do throws(PromQLError) {
                    try account(batch.reduce(0) { $0 + $1.points.count })
                    try checkDeadline()
                    try body(prepareRange(batch, range: range, references: references, times: times))
                    return true
                } catch {
                    failure = error
                    return false
                }
            }
        } catch {
            throw PromQLError(.storage, error.message, at: 0, in: "")
        }
        if let failure { throw failure }
    }

    /// Drops staleness markers and notes which series ever decrease (counter
    /// resets), in one pass per series.
    private func prepareRange(_ fetched: [SeriesPoints], range: Int64, references: [Int64], times: [Int64]) -> RangeData {
        let cleaned = parallelMap(count: fetched.count) { i -> (series: SeriesPoints, decreases: Bool) in
            var s = fetched[i]
            var stale = false
            var decreases = false
            s.points.withUnsafeBufferPointer { points in
                var previous = -Double.infinity
                for p in points {
                    if p.value.isStaleMarker { stale = true }
                    if p.value < previous { decreases = true }
                    previous = p.value
                }
            }
            if stale { s.points.removeAll { $0.value.isStaleMarker } }
            return (s, decreases || stale)
        }
        let series = cleaned.map(\.series)
        let decreases = cleaned.map(\.decreases)
        var data = RangeData(series: series, range: range, references: references)
        data.decreases = decreases
        return data
    }

    /// A subquery: the inner expression evaluated at its own step, aligned to
    /// multiples of the step, over the ranges the outer steps need.
    func subquery(_ subquery: Subquery, _ grid: Grid) throws(PromQLError) -> RangeData {
        let times = evaluationTimes(grid, at: subquery.at)
        let refs = times.map { $0 - subquery.offset }
        guard let low = refs.min(), let high = refs.max() else {
            return RangeData(series: [], range: subquery.range, references: refs)
        }
        let step = subquery.step ?? limits.defaultSubqueryStepMillis
        guard step > 0 else { throw PromQLError.execution("subquery step must be positive") }
        let from = low - subquery.range
        var start = floorDivide(from, step) * step
        if start < from { start += step }
        guard start <= high else { return RangeData(series: [], range: subquery.range, references: refs) }
        let inner = Grid(start: start, end: high, step: step)
        let series: [StepSeries]
        switch try eval(subquery.expr, inner) {
        case .vector(let v): series = v
        default: throw PromQLError.execution("subquery of a \(subquery.expr.type)") // the parser allows instant vectors only
        }
        let points = series.map { s in
            SeriesPoints(labels: s.labels, points: s.present.indices.compactMap { i in
                s.present[i] ? Point(timestamp: inner.time(i), value: s.values[i]) : nil
            })
        }
        try account(points.reduce(0) { $0 + $1.points.count })
        return RangeData(series: points, range: subquery.range, references: refs)
    }

    // MARK: Helpers

    /// The index of the first point after `time` (binary search).
    static func firstIndex<Points: RandomAccessCollection<Point>>(_ points: Points, after time: Int64) -> Int where Points.Index == Int {
        var low = 0
        var high = points.count
        while low < high {
            let mid = (low + high) / 2
            if points[mid].timestamp <= time { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The index of the first point at or after `time`.
    static func firstIndex<Points: RandomAccessCollection<Point>>(_ points: Points, atOrAfter time: Int64) -> Int where Points.Index == Int {
        var low = 0
        var high = points.count
        while low < high {
            let mid = (low + high) / 2
            if points[mid].timestamp < time { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The points in `[end - range, end]`.
    static func window(_ points: [Point], end: Int64, range: Int64) -> ArraySlice<Point> {
        let lower = firstIndex(points, atOrAfter: end - range)
        let upper = firstIndex(points, after: end)
        return lower < upper ? points[lower..<upper] : []
    }

    /// Merges series whose labels became equal (a function dropped the
    /// metric name); two of them with a value at the same step are an error,
    /// as in Prometheus.
    func mergeSameLabels(_ series: [StepSeries], message: String = "vector cannot contain metrics with the same labelset") throws(PromQLError) -> [StepSeries] {
        var index: [Labels: Int] = [:]
        var out: [StepSeries] = []
        out.reserveCapacity(series.count)
        for s in series {
            if let i = index[s.labels] {
                for step in s.present.indices where s.present[step] {
                    if out[i].present[step] { throw PromQLError.execution(message) }
                    out[i].set(step, s.values[step])
                }
            } else {
                index[s.labels] = out.count
                out.append(s)
            }
        }
        return out
    }
}
