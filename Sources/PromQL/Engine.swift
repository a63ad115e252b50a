import TelemetryModel

/// One series' value in an instant query's answer.
public struct VectorSample: Sendable {
    public var labels: Labels
    public var value: Double

    public init(labels: Labels, value: Double) {
        self.labels = labels
        self.value = value
    }
}

/// A query's answer, in the four shapes of the Prometheus API.
public enum QueryResult: Sendable {
    case scalar(time: Int64, value: Double)
    case string(time: Int64, value: String)
    /// In the order the query puts them (`sort`, `topk`), else by labels.
    case vector(time: Int64, [VectorSample])
    /// Series with points, sorted by labels.
    case matrix([SeriesPoints])

    /// The API's `resultType`.
    public var resultType: String {
        switch self {
        case .scalar: "scalar"
        case .string: "string"
        case .vector: "vector"
        case .matrix: "matrix"
        }
    }
}

/// The limits every query runs under (`query:` in Config/tally.yaml).
public struct QueryLimits: Sendable {
    /// Longest a query may run before it fails with a timeout.
    public var timeout: Duration = .seconds(120)
    /// Most samples a query may hold at once (points read plus values computed).
    public var maxSamples = 50_000_000
    /// How far back an instant selector looks for a series' latest sample.
    public var lookbackMillis: Int64 = 300_000
    /// The step of a subquery written without one (`x[1h:]`).
    public var defaultSubqueryStepMillis: Int64 = 60_000

    public init() {}
}

/// Evaluates checked PromQL expressions over a series querier, as
/// Prometheus 2 does: the 5-minute lookback, staleness markers, its
/// extrapolation of `rate` and `increase`, its aggregation and matching
/// rules. Each query reads each selector's chunks once for all its steps.
public struct Engine: Sendable {
    public let querier: any SeriesQuerier
    public let limits: QueryLimits

    public init(querier: any SeriesQuerier, limits: QueryLimits = QueryLimits()) {
        self.querier = querier
        self.limits = limits
    }

    /// Evaluates at one time (milliseconds).
    public func instant(_ expr: Expr, at time: Int64) throws(PromQLError) -> QueryResult {
        let evaluator = Evaluator(querier: querier, limits: limits, queryStart: time, queryEnd: time)
        let grid = Grid(start: time, end: time, step: 0)
        switch try evaluator.eval(expr, grid) {
        case .scalar(let values):
            return .scalar(time: time, value: values[0])
        case .string(let text):
            return .string(time: time, value: text)
        case .vector(let series):
            var samples = series.compactMap { s in s.present[0] ? VectorSample(labels: s.labels, value: s.values[0]) : nil }
            if !Evaluator.keepsOrder(expr) { samples.sort { $0.labels.lexicographicallyPrecedes($1.labels) } }
            return .vector(time: time, samples)
        case .range(let data):
            let series = data.series.compactMap { s -> SeriesPoints? in
                let window = Evaluator.window(s.points, end: data.references[0], range: data.range)
                return window.isEmpty ? nil : SeriesPoints(labels: s.labels, points: Array(window))
            }
            return .matrix(series.sorted { $0.labels.lexicographicallyPrecedes($1.labels) })
        }
    }

    /// Evaluates at every step from `start` to `end` (milliseconds); the
    /// expression must yield a scalar or an instant vector.
    public func range(_ expr: Expr, start: Int64, end: Int64, step: Int64) throws(PromQLError) -> QueryResult {
        guard expr.type == .scalar || expr.type == .vector else {
            throw PromQLError.execution("invalid expression type \"\(expr.type)\" for range query, must be Scalar or instant Vector")
        }
        guard step > 0, end >= start else {
            throw PromQLError.execution("a range query needs a positive step and an end not before its start")
        }
        let evaluator = Evaluator(querier: querier, limits: limits, queryStart: start, queryEnd: end)
        let grid = Grid(start: start, end: end, step: step)
        let series: [StepSeries]
        switch try evaluator.eval(expr, grid) {
        case .scalar(let values):
            series = [StepSeries(labels: Labels([]), values: values, present: [Bool](repeating: true, count: values.count))]
        case .vector(let vector):
            series = vector
        case .string, .range:
            throw PromQLError.execution("invalid expression type \"\(expr.type)\" for range query, must be Scalar or instant Vector")
        }
        let matrix = series.compactMap { s -> SeriesPoints? in
            var points: [Point] = []
            for i in s.present.indices where s.present[i] { points.append(Point(timestamp: grid.time(i), value: s.values[i])) }
            return points.isEmpty ? nil : SeriesPoints(labels: s.labels, points: points)
        }
        return .matrix(matrix.sorted { $0.labels.lexicographicallyPrecedes($1.labels) })
    }
}
