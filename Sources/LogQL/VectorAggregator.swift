import Foundation
import TelemetryModel

/// `sum`, `avg`, `min`, `max`, `count`, `stddev`, `stdvar`, `topk` and
/// `bottomk` over the series of a metric query, step by step, grouped `by`
/// or `without` labels as in PromQL.
enum VectorAggregator {
    static func aggregate(_ aggregation: VectorAggregation, _ input: [StepSeries], steps: Int) -> [StepSeries] {
        switch aggregation.op {
        case .topk, .bottomk: return selectK(aggregation, input, steps: steps)
        default: break
        }
        var groups: [Labels: [Int]] = [:]
        var order: [Labels] = []
        for (index, series) in input.enumerated() {
            let key = groupLabels(series.labels, aggregation.grouping)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(index)
        }
        return order.map { key in
            let members = groups[key]!
            var values = [Double?](repeating: nil, count: steps)
            for step in 0..<steps {
                let present = members.compactMap { input[$0].values[step] }
                guard !present.isEmpty else { continue }
                values[step] = combine(aggregation.op, present)
            }
            return StepSeries(labels: key, values: values)
        }
    }

    private static func groupLabels(_ labels: Labels, _ grouping: Grouping?) -> Labels {
        guard let grouping else { return Labels([]) }
        return labels.grouped(grouping)
    }

    private static func combine(_ op: VectorAggregation.Op, _ values: [Double]) -> Double {
        switch op {
        case .sum: return values.reduce(0, +)
        case .avg: return values.reduce(0, +) / Double(values.count)
        case .min: return values.min()!
        case .max: return values.max()!
        case .count: return Double(values.count)
        case .stddev, .stdvar:
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            return op == .stddev ? variance.squareRoot() : variance
        case .topk, .bottomk: return values[0]
        }
    }

    /// The k largest (or smallest) series of each group at each step; the
    /// series keep their labels, and have values only at the steps where
    /// they are among the k.
    private static func selectK(_ aggregation: VectorAggregation, _ input: [StepSeries], steps: Int) -> [StepSeries] {
        let k = aggregation.parameter ?? 1
        var out = input.map { StepSeries(labels: $0.labels, values: [Double?](repeating: nil, count: steps)) }
        var groups: [Labels: [Int]] = [:]
        for (index, series) in input.enumerated() { groups[groupLabels(series.labels, aggregation.grouping), default: []].append(index) }
        for members in groups.values {
            for step in 0..<steps {
                let ranked = members.compactMap { index in input[index].values[step].map { (index, $0) } }
                    .sorted { aggregation.op == .topk ? $0.1 > $1.1 : $0.1 < $1.1 }
                for (index, value) in ranked.prefix(k) { out[index].values[step] = value }
            }
        }
        return out.filter { $0.values.contains { $0 != nil } }
    }
}

/// Arithmetic, comparisons and set operations between metric queries and
/// numbers. Two vectors match on identical label sets.
enum BinaryEvaluator {
    static func evaluate(_ operation: BinaryOperation, _ lhs: StepValue, _ rhs: StepValue, steps: Int) throws(LogQLError) -> StepValue {
        let op = operation.op
        switch (lhs, rhs) {
        case (.scalar(let a), .scalar(let b)):
            guard let value = apply(op, a, b, returnBool: true) else { return .scalar(.nan) }
            return .scalar(value)
        case (.vector(let series), .scalar(let b)):
            guard !isSetOperation(op) else { throw LogQLError.invalid("\(op.rawValue) needs vectors on both sides") }
            return .vector(series.map { s in
                StepSeries(labels: resultLabels(s.labels, op), values: s.values.map { a in a.flatMap { a in filter(op, a, b, keep: a, operation.returnBool) } })
            })
        case (.scalar(let a), .vector(let series)):
            guard !isSetOperation(op) else { throw LogQLError.invalid("\(op.rawValue) needs vectors on both sides") }
            return .vector(series.map { s in
                StepSeries(labels: resultLabels(s.labels, op), values: s.values.map { b in b.flatMap { b in filter(op, a, b, keep: b, operation.returnBool) } })
            })
        case (.vector(let left), .vector(let right)):
            var rightByLabels: [Labels: StepSeries] = [:]
            for series in right { rightByLabels[series.labels] = series }
            switch op {
            case .and:
                return .vector(left.compactMap { series in
                    guard let other = rightByLabels[series.labels] else { return nil }
                    return StepSeries(labels: series.labels, values: zip(series.values, other.values).map { $1 == nil ? nil : $0 })
                })
            case .unless:
                return .vector(left.map { series in
                    guard let other = rightByLabels[series.labels] else { return series }
                    return StepSeries(labels: series.labels, values: zip(series.values, other.values).map { $1 == nil ? $0 : nil })
                })
            case .or:
                var out = left
                let leftLabels = Set(left.map(\.labels))
                out.append(contentsOf: right.filter { !leftLabels.contains($0.labels) })
                return .vector(out)
            default:
                return .vector(left.compactMap { series in
                    guard let other = rightByLabels[series.labels] else { return nil }
                    let values = zip(series.values, other.values).map { a, b -> Double? in
                        guard let a, let b else { return nil }
                        return filter(op, a, b, keep: a, operation.returnBool)
                    }
                    return StepSeries(labels: resultLabels(series.labels, op), values: values)
                })
            }
        }
    }

    private static func isSetOperation(_ op: BinaryOperation.Op) -> Bool {
        op == .and || op == .or || op == .unless
    }

    private static func isComparison(_ op: BinaryOperation.Op) -> Bool {
        switch op {
        case .equal, .notEqual, .greater, .greaterOrEqual, .less, .lessOrEqual: true
        default: false
        }
    }

    /// Arithmetic drops no labels here: LogQL series carry no metric name.
    private static func resultLabels(_ labels: Labels, _ op: BinaryOperation.Op) -> Labels { labels }

    /// The value a pair gives: the arithmetic result, or for a comparison the
    /// kept value (nil when false), or 0/1 with `bool`.
    private static func filter(_ op: BinaryOperation.Op, _ a: Double, _ b: Double, keep: Double, _ returnBool: Bool) -> Double? {
        guard isComparison(op) else { return apply(op, a, b, returnBool: false) }
        let holds = apply(op, a, b, returnBool: true) == 1
        if returnBool { return holds ? 1 : 0 }
        return holds ? keep : nil
    }

    private static func apply(_ op: BinaryOperation.Op, _ a: Double, _ b: Double, returnBool: Bool) -> Double? {
        switch op {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .modulo: a.truncatingRemainder(dividingBy: b)
        case .power: pow(a, b)
        case .equal: a == b ? 1 : 0
        case .notEqual: a != b ? 1 : 0
        case .greater: a > b ? 1 : 0
        case .greaterOrEqual: a >= b ? 1 : 0
        case .less: a < b ? 1 : 0
        case .lessOrEqual: a <= b ? 1 : 0
        case .and, .or, .unless: nil
        }
    }
}
