#if canImport(Glibc)
import Glibc
#endif
import TelemetryModel

/// Binary operators between scalars and vectors, with Prometheus's vector
/// matching (`on`, `ignoring`, `group_left`, `group_right`) and set operators.
extension Evaluator {
    func binary(_ b: Binary, _ grid: Grid) throws(PromQLError) -> StepValue {
        let lhs = try eval(b.lhs, grid)
        let rhs = try eval(b.rhs, grid)
        switch (lhs, rhs) {
        case (.scalar(let l), .scalar(let r)):
            return .scalar(zip(l, r).map { x, y in
                let (value, keep) = apply(b.op, x, y)
                return b.op.isComparison ? (keep ? 1 : 0) : value
            })
        case (.vector(let l), .scalar(let r)):
            return .vector(try vectorScalar(b, l, r, scalarOnLeft: false))
        case (.scalar(let l), .vector(let r)):
            return .vector(try vectorScalar(b, r, l, scalarOnLeft: true))
        case (.vector(let l), .vector(let r)):
            guard let matching = b.matching else { throw PromQLError.execution("vector matching missing") }
            switch b.op {
            case .and, .or, .unless: return .vector(try setOperation(b.op, l, r, matching))
            default: return .vector(try vectorVector(b, l, r, matching))
            }
        default:
            throw PromQLError.execution("binary expression must contain only scalar and instant vector types")
        }
    }

    /// The value of `x op y`, and for comparisons whether it holds.
    @inline(__always)
    func apply(_ op: BinaryOp, _ x: Double, _ y: Double) -> (Double, Bool) {
        switch op {
        case .add: return (x + y, true)
        case .subtract: return (x - y, true)
        case .multiply: return (x * y, true)
        case .divide: return (x / y, true)
        case .power: return (Glibc.pow(x, y), true)
        case .modulo: return (Glibc.fmod(x, y), true)
        case .atan2: return (Glibc.atan2(x, y), true)
        case .equal: return (x, x == y)
        case .notEqual: return (x, x != y)
        case .greater: return (x, x > y)
        case .less: return (x, x < y)
        case .greaterEqual: return (x, x >= y)
        case .lessEqual: return (x, x <= y)
        case .and, .or, .unless: return (x, true)
        }
    }

    /// Whether the operator drops the metric name (arithmetic, but not atan2, as in Prometheus 2).
    private func dropsName(_ op: BinaryOp) -> Bool {
        switch op {
        case .add, .subtract, .multiply, .divide, .power, .modulo: true
        default: false
        }
    }

    private func vectorScalar(_ b: Binary, _ vector: [StepSeries], _ scalar: [Double], scalarOnLeft: Bool) throws(PromQLError) -> [StepSeries] {
        var out: [StepSeries] = []
        out.reserveCapacity(vector.count)
        let dropName = dropsName(b.op) || b.returnBool
        for s in vector {
            var result = StepSeries(labels: dropName ? s.labels.droppingName : s.labels, steps: s.values.count)
            for i in s.present.indices where s.present[i] {
                let v = s.values[i]
                var (value, keep) = scalarOnLeft ? apply(b.op, scalar[i], v) : apply(b.op, v, scalar[i])
                // A comparison keeps the vector's value, whichever side it is on.
                if b.op.isComparison && scalarOnLeft { value = v }
                if b.returnBool {
                    value = keep ? 1 : 0
                    keep = true
                }
                if keep { result.set(i, value) }
            }
            if !result.isEmpty { out.append(result) }
        }
        return try mergeSameLabels(out)
    }

    /// The labels two series are matched on.
    private func signature(_ labels: Labels, _ matching: VectorMatching) -> Labels {
        matching.on ? labels.keeping(matching.labels) : labels.removing(matching.labels + [Labels.metricName])
    }

    private func vectorVector(_ b: Binary, _ lhsIn: [StepSeries], _ rhsIn: [StepSeries], _ matching: VectorMatching) throws(PromQLError) -> [StepSeries] {
        // group_right: the right side is the "many" side; swap so the many side is on the left.
        let swapped = matching.cardinality == .oneToMany
        let many = swapped ? rhsIn : lhsIn
        let one = swapped ? lhsIn : rhsIn
        let steps = many.first?.values.count ?? one.first?.values.count ?? 0
        var oneBySignature: [Labels: [Int]] = [:]
        for (i, s) in one.enumerated() { oneBySignature[signature(s.labels, matching), default: []].append(i) }
        var manyBySignature: [Labels: [Int]] = [:]
        if matching.cardinality == .oneToOne {
            for (i, s) in many.enumerated() { manyBySignature[signature(s.labels, matching), default: []].append(i) }
        }
        var out: [StepSeries] = []
        var outIndex: [Labels: Int] = [:]
        for (m, s) in many.enumerated() {
            let sig = signature(s.labels, matching)
            guard let candidates = oneBySignature[sig] else { continue }
            for i in 0..<steps where s.present[i] {
                var matched = -1
                for c in candidates where one[c].present[i] {
                    if matched >= 0 {
                        let side = swapped ? "left" : "right"
                        throw PromQLError.execution("found duplicate series for the match group \(sig) on the \(side) hand-side of the operation: [\(one[matched].labels), \(one[c].labels)];many-to-many matching not allowed: matching labels must be unique on one side")
                    }
                    matched = c
                }
                guard matched >= 0 else { continue }
                if matching.cardinality == .oneToOne, let peers = manyBySignature[sig], peers.count > 1,
                   peers.contains(where: { $0 != m && many[$0].present[i] }) {
                    throw PromQLError.execution("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                }
                let other = one[matched]
                let (x, y) = swapped ? (other.values[i], s.values[i]) : (s.values[i], other.values[i])
                var (value, keep) = apply(b.op, x, y)
                if b.returnBool {
                    value = keep ? 1 : 0
                    keep = true
                }
                guard keep else { continue }
                let labels = resultLabels(s.labels, other.labels, b, matching)
                if let o = outIndex[labels] {
                    if out[o].present[i] {
                        throw PromQLError.execution("multiple matches for labels: grouping labels must ensure unique matches")
                    }
                    out[o].set(i, value)
                } else {
                    outIndex[labels] = out.count
                    var result = StepSeries(labels: labels, steps: steps)
                    result.set(i, value)
                    out.append(result)
                }
            }
        }
        return out
    }

    /// The labels of a result: the "many" side's, without the name for
    /// arithmetic, only the `on` labels (or without the `ignoring` ones) for
    /// one-to-one, plus the `group_x` labels taken from the "one" side.
    private func resultLabels(_ many: Labels, _ one: Labels, _ b: Binary, _ matching: VectorMatching) -> Labels {
        var labels = many
        if dropsName(b.op) || b.returnBool { labels = labels.droppingName }
        if matching.cardinality == .oneToOne {
            labels = matching.on ? labels.keeping(matching.labels) : labels.removing(matching.labels)
        }
        for name in matching.include {
            labels = labels.setting(name, to: one[name] ?? "")
        }
        return labels
    }

    private func setOperation(_ op: BinaryOp, _ lhs: [StepSeries], _ rhs: [StepSeries], _ matching: VectorMatching) throws(PromQLError) -> [StepSeries] {
        let steps = lhs.first?.values.count ?? rhs.first?.values.count ?? 0
        var rhsBySignature: [Labels: [Int]] = [:]
        for (i, s) in rhs.enumerated() { rhsBySignature[signature(s.labels, matching), default: []].append(i) }
        switch op {
        case .and, .unless:
            var out: [StepSeries] = []
            for s in lhs {
                let others = rhsBySignature[signature(s.labels, matching)] ?? []
                var result = s
                for i in 0..<steps where s.present[i] {
                    let matched = others.contains { rhs[$0].present[i] }
                    if matched != (op == .and) { result.present[i] = false }
                }
                if !result.isEmpty { out.append(result) }
            }
            return out
        default: // or
            var lhsBySignature: [Labels: [Int]] = [:]
            for (i, s) in lhs.enumerated() { lhsBySignature[signature(s.labels, matching), default: []].append(i) }
            var out = lhs
            for s in rhs {
                let others = lhsBySignature[signature(s.labels, matching)] ?? []
                var result = s
                for i in 0..<steps where s.present[i] && others.contains(where: { lhs[$0].present[i] }) {
                    result.present[i] = false
                }
                if !result.isEmpty { out.append(result) }
            }
            return try mergeSameLabels(out)
        }
    }
}
