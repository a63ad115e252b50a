import TelemetryModel

/// Aggregation operators: series grouped once by their `by`/`without`
/// labels, then folded step by step as Prometheus 2.42 folds them.
extension Evaluator {
    func aggregate(_ a: Aggregation, _ grid: Grid) throws(PromQLError) -> [StepSeries] {
        let steps = grid.count
        let series = try vector(a.expr, grid)
        var parameter: [Double] = []
        var valueLabel = ""
        if let p = a.parameter {
            if a.op == .countValues {
                valueLabel = try string(p, grid)
                guard Labels.isValidName(valueLabel) else { throw PromQLError.execution("invalid label name \"\(valueLabel)\"") }
            } else {
                parameter = try scalar(p, grid)
            }
        }
        // Group keys, in order of first appearance.
        var groupIndex: [Labels: Int] = [:]
        var groups: [(labels: Labels, members: [Int])] = []
        for (i, s) in series.enumerated() {
            let key: Labels
            if a.without {
                key = s.labels.removing(a.grouping + [Labels.metricName])
            } else {
                key = s.labels.keeping(a.grouping)
            }
            if let g = groupIndex[key] {
                groups[g].members.append(i)
            } else {
                groupIndex[key] = groups.count
                groups.append((key, [i]))
            }
        }
        try account(groups.count * steps)
        switch a.op {
        case .topk, .bottomk:
            return try selectK(a.op == .topk, parameter, series, groups, steps: steps)
        case .countValues:
            return try countValues(valueLabel, series, groups, steps: steps)
        case .quantile:
            return groups.compactMap { group in
                var out = StepSeries(labels: group.labels, steps: steps)
                var values: [Double] = []
                for i in 0..<steps {
                    values.removeAll(keepingCapacity: true)
                    for m in group.members where series[m].present[i] { values.append(series[m].values[i]) }
                    if !values.isEmpty { out.set(i, quantile(parameter[i], &values)) }
                }
                return out.isEmpty ? nil : out
            }
        default:
            return groups.compactMap { group in
                let out = fold(a.op, group.members.map { series[$0] }, steps: steps)
                return out.map { StepSeries(labels: group.labels, values: $0.values, present: $0.present) }
            }
        }
    }

    /// sum, avg, min, max, count, group, stddev, stdvar of one group.
    private func fold(_ op: AggregationOp, _ members: [StepSeries], steps: Int) -> (values: [Double], present: [Bool])? {
        var value = [Double](repeating: 0, count: steps)
        var mean = [Double](repeating: 0, count: steps)
        var count = [Double](repeating: 0, count: steps)
        for s in members {
            for i in 0..<steps where s.present[i] {
                let v = s.values[i]
                count[i] += 1
                if count[i] == 1 {
                    switch op {
                    case .count, .group: value[i] = 1
                    case .stddev, .stdvar:
                        mean[i] = v
                        value[i] = 0
                    default:
                        value[i] = v
                        mean[i] = v
                    }
                    continue
                }
                switch op {
                case .sum: value[i] += v
                case .count: value[i] += 1
                case .group: break
                case .max: if value[i] < v || value[i].isNaN { value[i] = v }
                case .min: if value[i] > v || value[i].isNaN { value[i] = v }
                case .avg:
                    if mean[i].isInfinite {
                        if v.isInfinite && (mean[i] > 0) == (v > 0) { break }
                        if !v.isInfinite && !v.isNaN { break }
                    }
                    // Dividing each side by the count avoids overflow.
                    mean[i] += v / count[i] - mean[i] / count[i]
                case .stddev, .stdvar:
                    let delta = v - mean[i]
                    mean[i] += delta / count[i]
                    value[i] += delta * (v - mean[i])
                default: break
                }
            }
        }
        let present = count.map { $0 > 0 }
        guard present.contains(true) else { return nil }
        switch op {
        case .avg: return (mean, present)
        case .stdvar: return (zip(value, count).map { $1 > 0 ? $0 / $1 : 0 }, present)
        case .stddev: return (zip(value, count).map { $1 > 0 ? ($0 / $1).squareRoot() : 0 }, present)
        default: return (value, present)
        }
    }

    /// topk and bottomk: the series keep all their labels. At each step
    /// each group's members go through a bounded heap in input order exactly
    /// as in Prometheus 2.42 (Go's container/heap; a tie never displaces a
    /// kept series; a NaN on top is always replaced), so ties resolve as there.
    private func selectK(
        _ top: Bool, _ k: [Double], _ series: [StepSeries], _ groups: [(labels: Labels, members: [Int])], steps: Int
    ) throws(PromQLError) -> [StepSeries] {
        var out = series.map { StepSeries(labels: $0.labels, steps: steps) }
        // As Prometheus: a k that is no int64 fails the query, whether or not there is input.
        if let bad = k.first(where: { !($0 >= -9.223372036854775808e18 && $0 <= 9.223372036854775807e18) }) {
            throw PromQLError.execution("Scalar value \(formatNumber(bad)) overflows int64")
        }
        var firstStepOrder: [Int] = []
        for group in groups {
            for i in 0..<steps {
                guard k[i] >= 1 else { continue }
                let limit = k[i] >= Double(Int.max) ? Int.max : Int(k[i])
                var heap = KHeap(top: top) { series[$0].values[i] }
                for m in group.members where series[m].present[i] {
                    let v = series[m].values[i]
                    guard let root = heap.items.first else {
                        heap.items = [m]
                        continue
                    }
                    let r = series[root].values[i]
                    guard heap.items.count < limit || (top ? r < v : r > v) || r.isNaN else { continue }
                    if heap.items.count == limit {
                        if limit == 1 {
                            heap.items[0] = m
                            continue
                        }
                        heap.pop()
                    }
                    heap.push(m)
                }
                for m in heap.items { out[m].set(i, series[m].values[i]) }
                if i == 0 { firstStepOrder += heap.sortedForOutput() }
            }
        }
        if steps == 1 { return firstStepOrder.map { out[$0] } }
        return out.filter { !$0.isEmpty }
    }

    /// count_values: per group and distinct value, how many series have it;
    /// the value becomes a label.
    private func countValues(
        _ label: String, _ series: [StepSeries], _ groups: [(labels: Labels, members: [Int])], steps: Int
    ) throws(PromQLError) -> [StepSeries] {
        var out: [StepSeries] = []
        var index: [Labels: Int] = [:]
        for group in groups {
            for i in 0..<steps {
                for m in group.members where series[m].present[i] {
                    let labels = group.labels.setting(label, to: formatSampleValue(series[m].values[i]))
                    if let o = index[labels] {
                        out[o].values[i] += 1
                        out[o].present[i] = true
                    } else {
                        index[labels] = out.count
                        var s = StepSeries(labels: labels, steps: steps)
                        s.set(i, 1)
                        out.append(s)
                    }
                }
            }
        }
        return out
    }
}

/// Go's container/heap over series indices, ordered as Prometheus 2.42's
/// `vectorByValueHeap` (topk) or `vectorByReverseValueHeap` (bottomk).
private struct KHeap {
    let top: Bool
    let value: (Int) -> Double
    var items: [Int] = []

    init(top: Bool, value: @escaping (Int) -> Double) {
        self.top = top
        self.value = value
    }

    func less(_ i: Int, _ j: Int) -> Bool {
        let a = value(items[i]), b = value(items[j])
        if a.isNaN { return true }
        return top ? a < b : a > b
    }

    mutating func push(_ item: Int) {
        items.append(item)
        up(items.count - 1)
    }

    /// Removes the root (Go's heap.Pop).
    mutating func pop() {
        let n = items.count - 1
        items.swapAt(0, n)
        _ = down(0, n)
        items.removeLast()
    }

    private mutating func up(_ start: Int) {
        var j = start
        while true {
            let i = (j - 1) / 2
            if i == j || !less(j, i) { break }
            items.swapAt(i, j)
            j = i
        }
    }

    private mutating func down(_ start: Int, _ n: Int) -> Bool {
        var i = start
        while true {
            let j1 = 2 * i + 1
            if j1 >= n || j1 < 0 { break }
            var j = j1
            if j1 + 1 < n && less(j1 + 1, j1) { j = j1 + 1 }
            if !less(j, i) { break }
            items.swapAt(i, j)
            i = j
        }
        return i > start
    }

    /// The heap's order for an instant answer: Go's sort of the reversed
    /// heap, which for the small k of real queries is a stable insertion sort.
    func sortedForOutput() -> [Int] {
        var copy = self
        var a = copy.items.indices.map { $0 }
        // Reverse(heap).Less(i, j) == heap.Less(j, i).
        for x in 1..<max(1, a.count) {
            var y = x
            while y > 0 && copy.less(a[y - 1], a[y]) {
                a.swapAt(y, y - 1)
                y -= 1
            }
        }
        copy.items = a.map { items[$0] }
        return copy.items
    }
}
