#if canImport(Glibc)
import Glibc
#endif
import TelemetryModel

/// Function calls: argument evaluation and the functions of instant vectors
/// and scalars (range-vector functions are in RangeFunctions.swift).
extension Evaluator {
    func call(_ function: Function, _ arguments: [Expr], _ grid: Grid) throws(PromQLError) -> StepValue {
        let steps = grid.count
        switch function.name {
        case "time":
            return .scalar((0..<steps).map { Double(grid.time($0)) / 1000 })
        case "pi":
            return .scalar([Double](repeating: .pi, count: steps))
        case "vector":
            let values = try scalar(arguments[0], grid)
            return .vector([StepSeries(labels: Labels([]), values: values, present: [Bool](repeating: true, count: steps))])
        case "scalar":
            let series = try vector(arguments[0], grid)
            return .scalar((0..<steps).map { i in
                var found: Double?
                var count = 0
                for s in series where s.present[i] {
                    count += 1
                    found = s.values[i]
                }
                return count == 1 ? found! : .nan
            })
        case "timestamp":
            return .vector(try timestamp(arguments[0], grid))
        case "absent":
            let series = try vector(arguments[0], grid)
            return .vector(absent(arguments[0], steps: steps) { i in series.contains { $0.present[i] } })
        case "absent_over_time":
            guard case .range(let data) = try eval(arguments[0], grid) else { return .vector([]) }
            return .vector(absent(arguments[0], steps: steps) { i in
                data.series.contains { !Evaluator.window($0.points, end: data.references[i], range: data.range).isEmpty }
            })
        case "sort", "sort_desc":
            var series = try vector(arguments[0], grid)
            let descending = function.name == "sort_desc"
            // Orders the answer of an instant query; NaN goes last either way.
            series.sort { a, b in
                let x = a.values[0], y = b.values[0]
                if x.isNaN || y.isNaN { return !x.isNaN && y.isNaN }
                return descending ? x > y : x < y
            }
            return .vector(series)
        case "label_replace":
            return .vector(try labelReplace(arguments, grid))
        case "label_join":
            return .vector(try labelJoin(arguments, grid))
        case "histogram_quantile":
            let q = try scalar(arguments[0], grid)
            return .vector(try histogramQuantile(q, try vector(arguments[1], grid), steps: steps))
        case "clamp":
            let low = try scalar(arguments[1], grid), high = try scalar(arguments[2], grid)
            return .vector(try mapValues(arguments[0], grid) { v, i in
                high[i] < low[i] ? nil : goMax(low[i], goMin(high[i], v))
            })
        case "clamp_min":
            let low = try scalar(arguments[1], grid)
            return .vector(try mapValues(arguments[0], grid) { v, i in goMax(low[i], v) })
        case "clamp_max":
            let high = try scalar(arguments[1], grid)
            return .vector(try mapValues(arguments[0], grid) { v, i in goMin(high[i], v) })
        case "round":
            let nearest = arguments.count > 1 ? try scalar(arguments[1], grid) : [Double](repeating: 1, count: steps)
            return .vector(try mapValues(arguments[0], grid) { v, i in
                let inverse = 1 / nearest[i]
                return (v * inverse + 0.5).rounded(.down) / inverse
            })
        case "minute", "hour", "day_of_week", "day_of_month", "day_of_year", "days_in_month", "month", "year":
            let part = function.name
            if arguments.isEmpty {
                let values = (0..<steps).map { calendarPart(part, of: Double(grid.time($0)) / 1000) }
                return .vector([StepSeries(labels: Labels([]), values: values, present: [Bool](repeating: true, count: steps))])
            }
            return .vector(try mapValues(arguments[0], grid) { v, _ in calendarPart(part, of: v) })
        default:
            if let math = Evaluator.mathFunctions[function.name] {
                return .vector(try mapValues(arguments[0], grid) { v, _ in math(v) })
            }
            guard let matrixIndex = arguments.firstIndex(where: { $0.type == .matrix }) else {
                throw PromQLError.execution("function \(function.name) is not implemented")
            }
            var scalars: [[Double]] = []
            for (i, argument) in arguments.enumerated() where i != matrixIndex { scalars.append(try scalar(argument, grid)) }
            if function.name == "holt_winters" {
                for (name, values) in zip(["smoothing factor. Expected: 0 < sf < 1", "trend factor. Expected: 0 < tf < 1"], scalars)
                    where values.contains(where: { !($0 > 0 && $0 < 1) }) {
                    let bad = values.first { !($0 > 0 && $0 < 1) }!
                    throw PromQLError.execution("invalid \(name), got: \(formatNumber(bad))")
                }
            }
            if case .matrix(let selector, let range) = arguments[matrixIndex] {
                // A range selector is read a batch of series at a time.
                var out: [StepSeries] = []
                try rangeSelectorInBatches(
                    selector.matchers, range: range, times: evaluationTimes(grid, at: selector.at), offset: selector.offset
                ) { data throws(PromQLError) in
                    guard let part = try rangeFunction(function.name, data, scalars: scalars, grid: grid) else {
                        throw PromQLError.execution("function \(function.name) is not implemented")
                    }
                    out += part
                }
                return .vector(try mergeSameLabels(out))
            }
            guard case .range(let data) = try eval(arguments[matrixIndex], grid),
                  let result = try rangeFunction(function.name, data, scalars: scalars, grid: grid) else {
                throw PromQLError.execution("function \(function.name) is not implemented")
            }
            return .vector(try mergeSameLabels(result))
        }
    }

    static let mathFunctions: [String: @Sendable (Double) -> Double] = [
        "abs": { $0.magnitude }, "ceil": { $0.rounded(.up) }, "floor": { $0.rounded(.down) },
        "exp": { Glibc.exp($0) }, "ln": { Glibc.log($0) }, "log2": { Glibc.log2($0) }, "log10": { Glibc.log10($0) },
        "sqrt": { $0.squareRoot() }, "sgn": { $0 > 0 ? 1 : ($0 < 0 ? -1 : $0) },
        "acos": { Glibc.acos($0) }, "acosh": { Glibc.acosh($0) }, "asin": { Glibc.asin($0) }, "asinh": { Glibc.asinh($0) },
        "atan": { Glibc.atan($0) }, "atanh": { Glibc.atanh($0) }, "cos": { Glibc.cos($0) }, "cosh": { Glibc.cosh($0) },
        "sin": { Glibc.sin($0) }, "sinh": { Glibc.sinh($0) }, "tan": { Glibc.tan($0) }, "tanh": { Glibc.tanh($0) },
        "deg": { $0 * 180 / .pi }, "rad": { $0 * .pi / 180 },
    ]

    // MARK: Argument helpers

    func scalar(_ expr: Expr, _ grid: Grid) throws(PromQLError) -> [Double] {
        guard case .scalar(let values) = try eval(expr, grid) else { throw PromQLError.execution("expected a scalar") }
        return values
    }

    func vector(_ expr: Expr, _ grid: Grid) throws(PromQLError) -> [StepSeries] {
        guard case .vector(let series) = try eval(expr, grid) else { throw PromQLError.execution("expected an instant vector") }
        return series
    }

    func string(_ expr: Expr, _ grid: Grid) throws(PromQLError) -> String {
        guard case .string(let text) = try eval(expr, grid) else { throw PromQLError.execution("expected a string") }
        return text
    }

    /// Applies `body` to every value (nil drops it) and drops the metric name.
    func mapValues(_ expr: Expr, _ grid: Grid, _ body: (Double, Int) -> Double?) throws(PromQLError) -> [StepSeries] {
        var out: [StepSeries] = []
        for var s in try vector(expr, grid) {
            s.labels = s.labels.droppingName
            for i in s.present.indices where s.present[i] {
                if let value = body(s.values[i], i) { s.values[i] = value } else { s.present[i] = false }
            }
            if !s.isEmpty { out.append(s) }
        }
        return try mergeSameLabels(out)
    }

    /// `timestamp(v)`: the time of each sample; a selector's own sample times,
    /// otherwise the evaluation time.
    private func timestamp(_ argument: Expr, _ grid: Grid) throws(PromQLError) -> [StepSeries] {
        var inner = argument
        while case .paren(let e) = inner { inner = e }
        let series: [StepSeries]
        if case .selector(let selector) = inner {
            series = try instantSelector(selector, grid, timestamps: true)
        } else {
            series = try vector(argument, grid).map { s in
                var s = s
                for i in s.present.indices where s.present[i] { s.values[i] = Double(grid.time(i)) / 1000 }
                return s
            }
        }
        return try mergeSameLabels(series.map { s in
            StepSeries(labels: s.labels.droppingName, values: s.values, present: s.present)
        })
    }

    /// `absent` and `absent_over_time`: 1 where nothing matched, labelled
    /// with the selector's equality matchers.
    private func absent(_ argument: Expr, steps: Int, _ anyPresent: (Int) -> Bool) -> [StepSeries] {
        var series = StepSeries(labels: absentLabels(argument), steps: steps)
        for i in 0..<steps where !anyPresent(i) { series.set(i, 1) }
        return series.isEmpty ? [] : [series]
    }

    /// Prometheus's rule, matcher by matcher: the first `=` of a name sets it,
    /// any later matcher of that name (or a non-`=` one before it) clears it.
    private func absentLabels(_ argument: Expr) -> Labels {
        var inner = argument
        while case .paren(let e) = inner { inner = e }
        let matchers: [LabelMatcher]
        switch inner {
        case .selector(let s), .matrix(let s, _): matchers = s.matchers
        default: return Labels([])
        }
        var labels: [String: String] = [:]
        var seen = Set<String>()
        for m in matchers where m.name != Labels.metricName {
            if m.op == .equal && !seen.contains(m.name) {
                labels[m.name] = m.value
                seen.insert(m.name)
            } else {
                labels[m.name] = nil
            }
        }
        return Labels(labels.map { Label($0.key, $0.value) })
    }

    // MARK: Labels

    private func labelReplace(_ arguments: [Expr], _ grid: Grid) throws(PromQLError) -> [StepSeries] {
        let destination = try string(arguments[1], grid)
        let replacement = try string(arguments[2], grid)
        let source = try string(arguments[3], grid)
        let pattern = try string(arguments[4], grid)
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex("^(?:" + pattern + ")$")
        } catch {
            throw PromQLError.execution("invalid regular expression in label_replace(): \(pattern)")
        }
        guard Labels.isValidName(destination) else {
            throw PromQLError.execution("invalid destination label name in label_replace(): \(destination)")
        }
        var out: [StepSeries] = []
        for var s in try vector(arguments[0], grid) {
            let value = s.labels[source] ?? ""
            if let match = try? regex.wholeMatch(in: value) {
                s.labels = s.labels.setting(destination, to: expandRegexTemplate(replacement, with: match))
            }
            out.append(s)
        }
        return try mergeSameLabels(out)
    }

    private func labelJoin(_ arguments: [Expr], _ grid: Grid) throws(PromQLError) -> [StepSeries] {
        let destination = try string(arguments[1], grid)
        let separator = try string(arguments[2], grid)
        var sources: [String] = []
        for argument in arguments.dropFirst(3) { sources.append(try string(argument, grid)) }
        guard Labels.isValidName(destination) else {
            throw PromQLError.execution("invalid destination label name in label_join(): \(destination)")
        }
        var out: [StepSeries] = []
        for var s in try vector(arguments[0], grid) {
            s.labels = s.labels.setting(destination, to: sources.map { s.labels[$0] ?? "" }.joined(separator: separator))
            out.append(s)
        }
        return try mergeSameLabels(out)
    }

    // MARK: Histograms

    private func histogramQuantile(_ q: [Double], _ series: [StepSeries], steps: Int) throws(PromQLError) -> [StepSeries] {
        var groups: [Labels: [(bound: Double, series: Int)]] = [:]
        var order: [Labels] = []
        for (i, s) in series.enumerated() {
            guard let le = s.labels["le"], let bound = parseBound(le) else { continue }
            let key = s.labels.droppingName.removing(["le"])
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append((bound, i))
        }
        var out: [StepSeries] = []
        for key in order {
            let members = groups[key]!.sorted { $0.bound < $1.bound }
            var result = StepSeries(labels: key, steps: steps)
            var buckets: [(bound: Double, count: Double)] = []
            for i in 0..<steps {
                buckets.removeAll(keepingCapacity: true)
                for m in members where series[m.series].present[i] { buckets.append((m.bound, series[m.series].values[i])) }
                guard !buckets.isEmpty else { continue }
                result.set(i, bucketQuantile(q[i], &buckets))
            }
            if !result.isEmpty { out.append(result) }
        }
        return out
    }

    private func parseBound(_ text: String) -> Double? {
        switch text.lowercased() {
        case "+inf", "inf": return .infinity
        case "-inf": return -.infinity
        case "nan": return .nan
        default: return Double(text)
        }
    }
}

/// Prometheus's `bucketQuantile`: linear interpolation inside the bucket
/// the rank falls in, over buckets sorted by bound, merged where bounds are
/// equal, and made monotonic.
func bucketQuantile(_ q: Double, _ buckets: inout [(bound: Double, count: Double)]) -> Double {
    if q.isNaN { return .nan }
    if q < 0 { return -.infinity }
    if q > 1 { return .infinity }
    guard let last = buckets.last, last.bound == .infinity else { return .nan }
    // Coalesce equal bounds, in place (the caller's scratch array).
    var kept = 0
    for b in buckets.indices {
        if kept > 0 && buckets[kept - 1].bound == buckets[b].bound {
            buckets[kept - 1].count += buckets[b].count
        } else {
            buckets[kept] = buckets[b]
            kept += 1
        }
    }
    buckets.removeSubrange(kept...)
    // Ensure monotonic counts.
    var maximum = -Double.infinity
    for i in buckets.indices {
        if buckets[i].count > maximum {
            maximum = buckets[i].count
        } else if buckets[i].count < maximum {
            buckets[i].count = maximum
        }
    }
    guard buckets.count >= 2 else { return .nan }
    let observations = buckets[buckets.count - 1].count
    if observations == 0 { return .nan }
    var rank = q * observations
    var b = 0
    while b < buckets.count - 1 && !(buckets[b].count >= rank) { b += 1 }
    if b == buckets.count - 1 { return buckets[buckets.count - 2].bound }
    if b == 0 && buckets[0].bound <= 0 { return buckets[0].bound }
    var start = 0.0
    let end = buckets[b].bound
    var count = buckets[b].count
    if b > 0 {
        start = buckets[b - 1].bound
        count -= buckets[b - 1].count
        rank -= buckets[b - 1].count
    }
    return start + (end - start) * (rank / count)
}

/// Go's `math.Max`: NaN if either is NaN, +0 over -0.
func goMax(_ x: Double, _ y: Double) -> Double {
    if x.isNaN || y.isNaN { return .nan }
    if x == 0 && y == 0 { return x.sign == .minus ? y : x }
    return x > y ? x : y
}

/// Go's `math.Min`: NaN if either is NaN, -0 over +0.
func goMin(_ x: Double, _ y: Double) -> Double {
    if x.isNaN || y.isNaN { return .nan }
    if x == 0 && y == 0 { return x.sign == .minus ? x : y }
    return x < y ? x : y
}

/// A part of the UTC date and time of `seconds` since the epoch.
func calendarPart(_ part: String, of seconds: Double) -> Double {
    guard seconds.isFinite, abs(seconds) < 9e18 else { return .nan }
    let total = Int64(seconds)
    var days = total / 86_400
    var rest = total % 86_400
    if rest < 0 {
        rest += 86_400
        days -= 1
    }
    let civil = civilFromDays(Int(days))
    let (year, month, day) = (Int64(civil.year), Int64(civil.month), Int64(civil.day))
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    switch part {
    case "minute": return Double(rest / 60 % 60)
    case "hour": return Double(rest / 3_600)
    case "day_of_week": return Double(((days % 7) + 11) % 7)
    case "day_of_month": return Double(day)
    case "month": return Double(month)
    case "year": return Double(year)
    case "days_in_month":
        let lengths: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return Double(lengths[Int(month) - 1])
    case "day_of_year":
        let before: [Int64] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        return Double(before[Int(month) - 1] + day + (leap && month > 2 ? 1 : 0))
    default: return .nan
    }
}
