import LogStorage
import TelemetryModel

/// Evaluates one range aggregation over a step grid: reads the entries the
/// windows cover once, runs the pipeline, gathers a (time, value) list per
/// output series, then slides each step's window over it. The window of the
/// step at `t` holds the entries with `t - range < time <= t` (shifted back by
/// `offset`), as Loki's range vectors do.
struct RangeEvaluation {
    let store: LogStore
    let aggregation: RangeAggregation
    let grid: StepGrid
    let limits: LogQLLimits
    let deadline: ContinuousClock.Instant

    private struct Points {
        var times: [Int64] = []
        var values: [Double] = []
        var sorted = true
    }

    func run() throws(LogQLError) -> [StepSeries] {
        let op = aggregation.op
        // Saturating: a query near the ends of time, with a long range or offset, clamps.
        let first = grid.start.saturatingSubtracting(aggregation.offset).saturatingSubtracting(aggregation.range)
        let last = grid.time(grid.count - 1).saturatingSubtracting(aggregation.offset)
        var series: [Labels: Points] = [:]
        var checked = 0
        for stream in try store.streams(aggregation.selector.matchers, start: first.saturatingAdding(1), end: last.saturatingAdding(1)) {
            let runner = PipelineRunner(stages: aggregation.selector.stages, streamLabels: stream.labels)
            var failure: LogQLError?
            do {
                try stream.forEachEntry(start: first.saturatingAdding(1), end: last.saturatingAdding(1)) { entry in
                    checked += 1
                    if checked % 8192 == 0, ContinuousClock.now > deadline {
                        failure = LogQLError(kind: .limit, message: "query timed out after \(limits.timeout)")
                        return false
                    }
                    guard runner.run(timestamp: entry.timestamp, line: entry.line, fields: entry.fields) else { return true }
                    let value: Double
                    var labels: Labels
                    if let unwrap = aggregation.unwrap {
                        let extracted = Self.unwrapValue(runner.value(of: unwrap.label), unwrap.conversion)
                        if extracted == nil { runner.markUnwrapFailure(unwrap.label) }
                        for filter in unwrap.filters where !runner.passes(filter) { return true }
                        labels = runner.outputLabels().removing(unwrap.label)
                        guard runner.error == nil, let extracted else {
                            failure = Self.pipelineError(runner, labels)
                            return false
                        }
                        value = extracted
                    } else {
                        labels = runner.outputLabels()
                        if runner.error != nil {
                            failure = Self.pipelineError(runner, labels)
                            return false
                        }
                        switch op {
                        case .bytesOverTime, .bytesRate: value = Double(runner.rewrittenLine?.utf8.count ?? entry.line.count)
                        default: value = 1
                        }
                    }
                    if let grouping = aggregation.grouping { labels = labels.grouped(grouping) }
                    if series[labels] == nil, series.count >= limits.maxSeries {
                        failure = LogQLError(kind: .limit, message: "maximum of series (\(limits.maxSeries)) reached for a single query")
                        return false
                    }
                    // Mutated in place: a copy out of the dictionary would copy its arrays every time.
                    if let previous = series[labels]?.times.last, entry.timestamp < previous { series[labels]!.sorted = false }
                    series[labels, default: Points()].times.append(entry.timestamp)
                    series[labels, default: Points()].values.append(value)
                    return true
                }
            } catch {
                throw LogQLError(kind: .storage, message: "\(error)")
            }
            if let failure { throw failure }
        }
        if op == .absentOverTime { return absent(series) }
        return series.map { labels, points in
            StepSeries(labels: labels, values: windows(points))
        }
    }

    private static func pipelineError(_ runner: PipelineRunner, _ labels: Labels) -> LogQLError {
        let error = runner.error ?? "SampleExtractionErr"
        return LogQLError.invalid(
            "pipeline error: '\(error)' for series: '\(labels)'. Use a label filter to intentionally skip this error. "
                + "(e.g | __error__!=\"\(error)\"). To skip all potential errors you can match empty errors.(e.g __error__=\"\")")
    }

    private static func unwrapValue(_ text: String?, _ conversion: Unwrap.Conversion) -> Double? {
        guard let text, !text.isEmpty else { return nil }
        switch conversion {
        case .number: return Double(text)
        case .duration: return LogQLLexer.duration(text).map { Double($0) / 1e9 } ?? Double(text)
        case .bytes: return LogQLLexer.byteSize(text.filter { $0 != " " }) ?? Double(text)
        }
    }

    /// The aggregate of each step's window.
    private func windows(_ input: Points) -> [Double?] {
        var points = input
        if !points.sorted {
            let order = points.times.indices.sorted { points.times[$0] < points.times[$1] }
            points.times = order.map { input.times[$0] }
            points.values = order.map { input.values[$0] }
        }
        var out = [Double?](repeating: nil, count: grid.count)
        var low = 0
        var high = 0
        let seconds = Double(aggregation.range) / 1e9
        for step in 0..<grid.count {
            let t = grid.time(step).saturatingSubtracting(aggregation.offset)
            while high < points.times.count, points.times[high] <= t { high += 1 }
            while low < high, points.times[low] <= t.saturatingSubtracting(aggregation.range) { low += 1 }
            guard high > low else { continue }
            let window = points.values[low..<high]
            switch aggregation.op {
            case .countOverTime: out[step] = Double(window.count)
            case .rate: out[step] = aggregation.unwrap == nil ? Double(window.count) / seconds : window.reduce(0, +) / seconds
            case .bytesOverTime, .sumOverTime: out[step] = window.reduce(0, +)
            case .bytesRate: out[step] = window.reduce(0, +) / seconds
            case .avgOverTime: out[step] = window.reduce(0, +) / Double(window.count)
            case .minOverTime: out[step] = window.min()
            case .maxOverTime: out[step] = window.max()
            case .firstOverTime: out[step] = window.first
            case .lastOverTime: out[step] = window.last
            case .stddevOverTime, .stdvarOverTime:
                let mean = window.reduce(0, +) / Double(window.count)
                let variance = window.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(window.count)
                out[step] = aggregation.op == .stddevOverTime ? variance.squareRoot() : variance
            case .quantileOverTime:
                out[step] = Self.quantile(aggregation.parameter ?? 0.5, Array(window))
            case .rateCounter:
                // Increase with counter resets, per second; 0 below two points.
                guard window.count >= 2 else {
                    out[step] = 0
                    continue
                }
                var increase = 0.0
                var previous = window.first!
                for value in window.dropFirst() {
                    increase += value >= previous ? value - previous : value
                    previous = value
                }
                out[step] = increase / seconds
            case .absentOverTime:
                break
            }
        }
        return out
    }

    /// Prometheus's quantile: linear interpolation between the closest ranks.
    static func quantile(_ phi: Double, _ values: [Double]) -> Double {
        guard !values.isEmpty, !phi.isNaN else { return .nan }
        if phi < 0 { return -.infinity }
        if phi > 1 { return .infinity }
        let sorted = values.sorted()
        let rank = phi * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let weight = rank - Double(lower)
        return sorted[lower] * (1 - weight) + sorted[upper] * weight
    }

    /// 1 at the steps whose window holds no entry of any stream, labelled
    /// with the selector's equality matchers.
    private func absent(_ series: [Labels: Points]) -> [StepSeries] {
        var present = [Bool](repeating: false, count: grid.count)
        for points in series.values {
            let counts = windows(Points(times: points.times, values: points.values.map { _ in 1 }, sorted: points.sorted))
            for (step, count) in counts.enumerated() where count != nil { present[step] = true }
        }
        let labels = Labels(aggregation.selector.matchers.filter { $0.op == .equal }.map { Label($0.name, $0.value) })
        let values: [Double?] = present.map { $0 ? nil : 1 }
        return values.contains { $0 != nil } ? [StepSeries(labels: labels, values: values)] : []
    }
}

extension Labels {
    func removing(_ name: String) -> Labels {
        Labels(pairs.filter { $0.name != name })
    }

    /// The labels `by` keeps or `without` leaves.
    func grouped(_ grouping: Grouping) -> Labels {
        let names = Set(grouping.labels)
        return Labels(pairs.filter { grouping.without ? !names.contains($0.name) : names.contains($0.name) })
    }
}
