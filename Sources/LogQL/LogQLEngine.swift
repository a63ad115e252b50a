import LogStorage
import TelemetryModel

/// The limits a LogQL query runs under (`logs.query:` in tally.yaml).
public struct LogQLLimits: Sendable {
    /// Most lines a log query may return (`limit` above this is refused).
    public var maxEntries = 5_000
    /// Most series a metric query may produce.
    public var maxSeries = 500
    /// Longest a query may run.
    public var timeout: Duration = .seconds(120)
    /// Most steps a range query may have.
    public var maxSteps = 11_000

    public init() {}
}

/// The answer to a LogQL query.
public enum LogQLResult: Sendable {
    /// Log lines, by the label set they ended with.
    case streams([LogStreamResult])
    /// A metric query over a range: one series per label set, a point per step that has a value.
    case matrix([MetricSeries])
    /// A metric query at one time.
    case vector(time: Int64, [MetricSample])
    case scalar(time: Int64, Double)

    /// The entries, points or samples the answer holds (Loki's `totalEntriesReturned`).
    public var pointCount: Int {
        switch self {
        case .streams(let streams): streams.reduce(0) { $0 + $1.entries.count }
        case .matrix(let series): series.reduce(0) { $0 + $1.points.count }
        case .vector(_, let samples): samples.count
        case .scalar: 1
        }
    }
}

public struct LogStreamResult: Sendable {
    public var labels: Labels
    /// (nanoseconds, line), in the query's direction.
    public var entries: [(Int64, String)]
}

public struct MetricSeries: Sendable {
    public var labels: Labels
    /// (nanoseconds, value).
    public var points: [(Int64, Double)]
}

public struct MetricSample: Sendable {
    public var labels: Labels
    public var value: Double
}

/// Evaluates LogQL over the log store.
public struct LogQLEngine: Sendable {
    let store: LogStore
    public let limits: LogQLLimits

    public init(store: LogStore, limits: LogQLLimits = LogQLLimits()) {
        self.store = store
        self.limits = limits
    }

    /// A log query over `start..<end` (nanoseconds): up to `limit` lines,
    /// the newest (`backward`) or the oldest first.
    public func logs(_ selector: LogSelector, start: Int64, end: Int64, limit: Int, backward: Bool) throws(LogQLError) -> [LogStreamResult] {
        guard limit <= limits.maxEntries else {
            throw LogQLError(kind: .limit, message: "max entries limit per query exceeded, limit > max_entries_limit_per_query (\(limit) > \(limits.maxEntries))")
        }
        let deadline = ContinuousClock.now + limits.timeout
        var found: [(labels: Labels, time: Int64, line: String)] = []
        for stream in try store.streams(selector.matchers, start: start, end: end) {
            let runner = PipelineRunner(stages: selector.stages, streamLabels: stream.labels)
            var taken = 0
            var expired = false
            do {
                try stream.forEachEntry(start: start, end: end, backward: backward) { entry in
                    if taken % 4096 == 0, ContinuousClock.now > deadline {
                        expired = true
                        return false
                    }
                    guard runner.run(timestamp: entry.timestamp, line: entry.line, fields: entry.fields) else { return true }
                    found.append((runner.outputLabels(), entry.timestamp, runner.rewrittenLine ?? String(decoding: entry.line, as: UTF8.self)))
                    taken += 1
                    return taken < limit
                }
            } catch {
                throw LogQLError(kind: .storage, message: "\(error)")
            }
            if expired { throw LogQLError(kind: .limit, message: "query timed out after \(limits.timeout)") }
            // Only the `limit` best so far can be in the answer: memory stays bounded by it.
            if found.count > 2 * limit {
                found.sort { backward ? $0.time > $1.time : $0.time < $1.time }
                found.removeLast(found.count - limit)
            }
        }
        // The `limit` newest (or oldest) lines across every stream.
        found.sort { backward ? $0.time > $1.time : $0.time < $1.time }
        if found.count > limit { found.removeLast(found.count - limit) }
        // Streams in the order of their labels, as Loki gives them.
        var byLabels: [Labels: Int] = [:]
        var results: [LogStreamResult] = []
        for item in found {
            if let index = byLabels[item.labels] {
                results[index].entries.append((item.time, item.line))
            } else {
                byLabels[item.labels] = results.count
                results.append(LogStreamResult(labels: item.labels, entries: [(item.time, item.line)]))
            }
        }
        return results.sorted { $0.labels.description < $1.labels.description }
    }

    /// A metric query at every step from `start` to `end` inclusive (nanoseconds).
    public func range(_ expr: LogQLExpr, start: Int64, end: Int64, step: Int64) throws(LogQLError) -> LogQLResult {
        guard step > 0 else { throw LogQLError.invalid("zero or negative query resolution step widths are not accepted. Try a positive integer") }
        guard end >= start else { throw LogQLError.invalid("the end of the range is before its start") }
        let steps = Int(end.saturatingSubtracting(start) / step) + 1
        guard steps <= limits.maxSteps else {
            throw LogQLError(kind: .limit, message: "exceeded maximum resolution of \(limits.maxSteps) points per timeseries. Try increasing the value of the step parameter")
        }
        let grid = StepGrid(start: start, step: step, count: steps)
        let value = try evaluate(expr, grid, deadline: ContinuousClock.now + limits.timeout)
        switch value {
        case .scalar(let number):
            return .matrix([MetricSeries(labels: Labels([]), points: grid.times.map { ($0, number) })])
        case .vector(let series):
            return .matrix(series.compactMap { series in
                let points = zip(grid.times, series.values).compactMap { time, value in value.map { (time, $0) } }
                return points.isEmpty ? nil : MetricSeries(labels: series.labels, points: points)
            }.sorted { $0.labels.pairs.lexicographicallyPrecedes($1.labels.pairs) })
        }
    }

    /// A metric query at one time (nanoseconds).
    public func instant(_ expr: LogQLExpr, at time: Int64) throws(LogQLError) -> LogQLResult {
        let grid = StepGrid(start: time, step: 1, count: 1)
        switch try evaluate(expr, grid, deadline: ContinuousClock.now + limits.timeout) {
        case .scalar(let number):
            return .scalar(time: time, number)
        case .vector(let series):
            let samples = series.compactMap { series in series.values[0].map { MetricSample(labels: series.labels, value: $0) } }
                .sorted { $0.labels.pairs.lexicographicallyPrecedes($1.labels.pairs) }
            // `sort` and `sort_desc` order an instant answer by value (ties in label order, NaN last).
            guard case .vector(let aggregation) = expr, aggregation.op == .sort || aggregation.op == .sortDesc else {
                return .vector(time: time, samples)
            }
            let ascending = aggregation.op == .sort
            return .vector(time: time, samples.enumerated().sorted { a, b in
                let (x, y) = (a.element.value, b.element.value)
                if x.isNaN != y.isNaN { return y.isNaN } // NaN last, as Prometheus
                if !x.isNaN, x != y { return ascending ? x < y : x > y }
                return a.offset < b.offset
            }.map(\.element))
        }
    }

    // MARK: Evaluation

    private func evaluate(_ expr: LogQLExpr, _ grid: StepGrid, deadline: ContinuousClock.Instant) throws(LogQLError) -> StepValue {
        switch expr {
        case .logs:
            throw LogQLError.invalid("a log query gives lines, not numbers: wrap it in a range aggregation such as count_over_time(…[5m])")
        case .number(let value):
            return .scalar(value)
        case .range(let aggregation):
            return .vector(try RangeEvaluation(store: store, aggregation: aggregation, grid: grid, limits: limits, deadline: deadline).run())
        case .vector(let aggregation):
            guard case .vector(let inner) = try evaluate(aggregation.inner, grid, deadline: deadline) else {
                throw LogQLError.invalid("\(aggregation.op.rawValue) needs a vector, not a number")
            }
            return .vector(VectorAggregator.aggregate(aggregation, inner, steps: grid.count))
        case .binary(let operation):
            let lhs = try evaluate(operation.lhs, grid, deadline: deadline)
            let rhs = try evaluate(operation.rhs, grid, deadline: deadline)
            return try BinaryEvaluator.evaluate(operation, lhs, rhs, steps: grid.count)
        case .vectorOf(let value):
            return .vector([StepSeries(labels: Labels([]), values: [Double?](repeating: value, count: grid.count))])
        case .labelReplace(let replace):
            guard case .vector(let inner) = try evaluate(replace.inner, grid, deadline: deadline) else {
                throw LogQLError.invalid("label_replace needs a vector, not a number")
            }
            return .vector(try Self.replaceLabels(replace, inner, steps: grid.count))
        }
    }

    /// Applies `label_replace` to each series; two that end with the same
    /// labels and a value at the same step are an error, as in PromQL.
    private static func replaceLabels(_ replace: LabelReplace, _ input: [StepSeries], steps: Int) throws(LogQLError) -> [StepSeries] {
        var index: [Labels: Int] = [:]
        var output: [StepSeries] = []
        for series in input {
            var labels = series.labels
            if let match = try? replace.regex.wholeMatch(in: labels[replace.source] ?? "") {
                labels = labels.setting(replace.destination, to: expandRegexTemplate(replace.replacement, with: match))
            }
            guard let existing = index[labels] else {
                index[labels] = output.count
                output.append(StepSeries(labels: labels, values: series.values))
                continue
            }
            for step in 0..<steps where series.values[step] != nil {
                guard output[existing].values[step] == nil else {
                    throw LogQLError.invalid("vector cannot contain metrics with the same labelset \(labels)")
                }
                output[existing].values[step] = series.values[step]
            }
        }
        return output
    }
}

/// The evaluation times of a query.
struct StepGrid {
    let start: Int64
    let step: Int64
    let count: Int

    /// The time of step `index` (within the grid, so below its end: no overflow).
    func time(_ index: Int) -> Int64 { start + Int64(index) * step }

    var times: [Int64] { (0..<count).map(time) }
}

/// One series over the grid: a value per step, nil where it has none.
struct StepSeries {
    var labels: Labels
    var values: [Double?]
}

enum StepValue {
    case scalar(Double)
    case vector([StepSeries])
}
