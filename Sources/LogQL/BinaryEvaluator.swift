import Foundation
import TelemetryModel

/// Arithmetic, comparisons and set operations between metric queries and
/// numbers, step by step. Two vectors match as in PromQL: on their whole
/// label sets, or on the labels `on(…)` names, or on all but those
/// `ignoring(…)` names; `group_left`/`group_right` let many series on one side
/// match one on the other.
enum BinaryEvaluator {
    static func evaluate(_ operation: BinaryOperation, _ lhs: StepValue, _ rhs: StepValue, steps: Int) throws(LogQLError) -> StepValue {
        let op = operation.op
        switch (lhs, rhs) {
        case (.vector(let left), .vector(let right)):
            if op.isSetOperation { return .vector(setOperation(op, left, right, operation.matching, steps: steps)) }
            return .vector(try match(operation, left, right, steps: steps))
        case _ where operation.matching != nil:
            throw LogQLError.invalid("vector matching (on, ignoring, group_left, group_right) is only allowed between two metric queries")
        case (.scalar(let a), .scalar(let b)):
            guard !op.isSetOperation else { throw LogQLError.invalid("\(op.rawValue) needs vectors on both sides") }
            return .scalar(apply(op, a, b, returnBool: true) ?? .nan)
        case (.vector(let series), .scalar(let b)):
            guard !op.isSetOperation else { throw LogQLError.invalid("\(op.rawValue) needs vectors on both sides") }
            return .vector(series.map { s in
                StepSeries(labels: s.labels, values: s.values.map { a in a.flatMap { a in filter(op, a, b, keep: a, operation.returnBool) } })
            })
        case (.scalar(let a), .vector(let series)):
            guard !op.isSetOperation else { throw LogQLError.invalid("\(op.rawValue) needs vectors on both sides") }
            return .vector(series.map { s in
                StepSeries(labels: s.labels, values: s.values.map { b in b.flatMap { b in filter(op, a, b, keep: b, operation.returnBool) } })
            })
        }
    }

    /// The labels two series match on.
    private static func signature(_ labels: Labels, _ matching: VectorMatching?) -> Labels {
        guard let matching else { return labels }
        let names = Set(matching.labels)
        return Labels(labels.filter { names.contains($0.name) == matching.on })
    }

    /// `and`, `or`, `unless`: a series of one side is kept at the steps where
    /// a series of the other with its signature has (or has not) a value.
    private static func setOperation(
        _ op: BinaryOperation.Op, _ left: [StepSeries], _ right: [StepSeries], _ matching: VectorMatching?, steps: Int
    ) -> [StepSeries] {
        func presence(_ side: [StepSeries]) -> [Labels: [Bool]] {
            var present: [Labels: [Bool]] = [:]
            for series in side {
                let key = signature(series.labels, matching)
                var flags = present[key] ?? [Bool](repeating: false, count: steps)
                for step in 0..<steps where series.values[step] != nil { flags[step] = true }
                present[key] = flags
            }
            return present
        }
        func masked(_ series: StepSeries, by other: [Labels: [Bool]], keepWhere wanted: Bool) -> StepSeries {
            let flags = other[signature(series.labels, matching)]
            let values = (0..<steps).map { step in (flags?[step] ?? false) == wanted ? series.values[step] : nil }
            return StepSeries(labels: series.labels, values: values)
        }
        switch op {
        case .and:
            let other = presence(right)
            return left.map { masked($0, by: other, keepWhere: true) }.filter { $0.values.contains { $0 != nil } }
        case .unless:
            let other = presence(right)
            return left.map { masked($0, by: other, keepWhere: false) }.filter { $0.values.contains { $0 != nil } }
        default:
            let other = presence(left)
            return left + right.map { masked($0, by: other, keepWhere: false) }.filter { $0.values.contains { $0 != nil } }
        }
    }

    /// Arithmetic and comparisons between two vectors: at each step, every
    /// series of the "many" side (the left one unless `group_right`) meets
    /// the series of the other side with its signature.
    private static func match(_ operation: BinaryOperation, _ left: [StepSeries], _ right: [StepSeries], steps: Int) throws(LogQLError) -> [StepSeries] {
        let matching = operation.matching
        let cardinality = matching?.cardinality ?? .oneToOne
        let (many, one) = cardinality == .oneToMany ? (right, left) : (left, right)
        let manyKeys = many.map { signature($0.labels, matching) }
        let oneKeys = one.map { signature($0.labels, matching) }
        var results: [Labels: Int] = [:]
        var output: [StepSeries] = []
        for step in 0..<steps {
            var oneAt: [Labels: Int] = [:]
            for (index, key) in oneKeys.enumerated() where one[index].values[step] != nil {
                if oneAt.updateValue(index, forKey: key) != nil {
                    let side = cardinality == .oneToMany ? "left" : "right"
                    throw LogQLError.invalid("found duplicate series for the match group \(key) on the \(side) hand-side of the operation")
                }
            }
            var manySeen: Set<Labels> = []
            for (index, key) in manyKeys.enumerated() {
                guard let a = many[index].values[step], let partner = oneAt[key], let b = one[partner].values[step] else { continue }
                if cardinality == .oneToOne, !manySeen.insert(key).inserted {
                    throw LogQLError.invalid("multiple matches for labels \(key): many-to-one matching must be explicit (group_left/group_right)")
                }
                let (lhs, rhs) = cardinality == .oneToMany ? (b, a) : (a, b)
                guard let value = filter(operation.op, lhs, rhs, keep: lhs, operation.returnBool) else { continue }
                let labels = resultLabels(many[index].labels, one[partner].labels, matching)
                let slot: Int
                if let existing = results[labels] {
                    slot = existing
                    if output[slot].values[step] != nil {
                        throw LogQLError.invalid("multiple matches for labels \(labels): grouping labels must ensure unique matches")
                    }
                } else {
                    slot = output.count
                    results[labels] = slot
                    output.append(StepSeries(labels: labels, values: [Double?](repeating: nil, count: steps)))
                }
                output[slot].values[step] = value
            }
        }
        return output
    }

    /// One-to-one keeps the matched labels (`on`) or drops the ignored ones;
    /// a group modifier keeps the "many" side's labels and copies those it
    /// names from the "one" side. LogQL series carry no metric name to drop.
    private static func resultLabels(_ many: Labels, _ one: Labels, _ matching: VectorMatching?) -> Labels {
        guard let matching else { return many }
        guard matching.cardinality == .oneToOne else {
            var labels = many
            for name in matching.include { labels = labels.setting(name, to: one[name] ?? "") }
            return labels
        }
        return signature(many, matching)
    }

    /// The value a pair gives: the arithmetic result, or for a comparison the
    /// kept value (nil when false), or 0/1 with `bool`.
    private static func filter(_ op: BinaryOperation.Op, _ a: Double, _ b: Double, keep: Double, _ returnBool: Bool) -> Double? {
        guard op.isComparison else { return apply(op, a, b, returnBool: false) }
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
