import Foundation
import TelemetryModel

/// `sum`, `avg`, `min`, `max`, `count`, `stddev`, `stdvar`, `topk` and
/// `bottomk` over the series of a metric query, step by step, grouped `by`
/// or `without` labels as in PromQL.
enum VectorAggregator {
    static func aggregate(_ aggregation: VectorAggregation, _ input: [StepSeries], steps: Int) -> [StepSeries] {
        switch aggregation.op {
        case .topk, .bottomk: return selectK(aggregation, input, steps: steps)
        case .sort, .sortDesc: return input
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
        case .topk, .bottomk, .sort, .sortDesc: return values[0]
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
