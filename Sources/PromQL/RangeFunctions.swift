#if canImport(Glibc)
import Glibc
#endif
import TelemetryModel

/// The functions of range vectors (`rate`, `*_over_time`, …), each computed
/// over every step's window of raw points as Prometheus 2.42 computes it.
extension Evaluator {
    /// Applies `body` to each series' window at each step; a nil result
    /// leaves the step empty. The metric name is dropped unless `keepName`.
    /// The window slides over the points (the references never go back), and
    /// is handed over as a buffer, so a step costs no search and no allocation.
    func overWindows(
        _ data: RangeData, keepName: Bool = false,
        _ body: @escaping @Sendable (_ window: UnsafeBufferPointer<Point>, _ reference: Int64, _ step: Int) -> Double?
    ) throws(PromQLError) -> [StepSeries] {
        try overWindows(data, keepName: keepName, context: { _, _ in () }) { w, reference, step, _ in body(w, reference, step) }
    }

    /// `overWindows` with something computed once per series (from all its
    /// points) and handed to every window of that series. Series are worked
    /// through in parallel on all cores.
    func overWindows<Context>(
        _ data: RangeData, keepName: Bool = false, context: @escaping @Sendable (_ series: Int, UnsafeBufferPointer<Point>) -> Context,
        _ body: @escaping @Sendable (_ window: UnsafeBufferPointer<Point>, _ reference: Int64, _ step: Int, _ context: Context) -> Double?
    ) throws(PromQLError) -> [StepSeries] {
        let results = parallelMap(count: data.series.count) { index in
            Evaluator.windows(of: data, index: index, keepName: keepName, context: context, body)
        }
        try checkDeadline()
        // Series that lost their name may now coincide: `call` merges them, once, over all batches.
        return results.compactMap { $0 }
    }

    /// One series' values at every step, from its windows, which slide
    /// forward with the references (never decreasing: steps, or one `@` time).
    private static func windows<Context>(
        of data: RangeData, index: Int, keepName: Bool,
        context: (_ series: Int, UnsafeBufferPointer<Point>) -> Context,
        _ body: (_ window: UnsafeBufferPointer<Point>, _ reference: Int64, _ step: Int, _ context: Context) -> Double?
    ) -> StepSeries? {
        let s = data.series[index]
        guard !s.points.isEmpty else { return nil }
        var series = StepSeries(labels: keepName ? s.labels : s.labels.droppingName, steps: data.references.count)
        var any = false
        s.points.withUnsafeBufferPointer { points in
            let seriesContext = context(index, points)
            forEachWindow(points, data) { window, reference, i in
                guard let value = body(window, reference, i, seriesContext) else { return }
                series.set(i, value)
                any = true
            }
        }
        return any ? series : nil
    }

    /// Each step's window of `points` (those in `(reference - range, reference]`),
    /// sliding forward with the references, which never decrease.
    @inline(__always)
    private static func forEachWindow(
        _ points: UnsafeBufferPointer<Point>, _ data: RangeData, _ body: (UnsafeBufferPointer<Point>, Int64, Int) -> Void
    ) {
        var lower = 0
        var upper = 0
        for (i, reference) in data.references.enumerated() {
            let start = reference - data.range
            while lower < points.count && points[lower].timestamp < start { lower += 1 }
            if upper < lower { upper = lower }
            while upper < points.count && points[upper].timestamp <= reference { upper += 1 }
            guard lower < upper else { continue }
            body(UnsafeBufferPointer(rebasing: points[lower..<upper]), reference, i)
        }
    }

    /// `rate` and `increase`, the most used range functions, with each
    /// window's arithmetic inlined into the loop over windows rather than
    /// called through the general path's closure.
    private func counterIncreases(_ data: RangeData, perSecond: Bool) throws(PromQLError) -> [StepSeries] {
        let rangeSeconds = Double(data.range) / 1000
        let results = parallelMap(count: data.series.count) { index -> StepSeries? in
            let s = data.series[index]
            guard !s.points.isEmpty else { return nil }
            var series = StepSeries(labels: s.labels.droppingName, steps: data.references.count)
            var any = false
            s.points.withUnsafeBufferPointer { points in
                // Where the series resets is found once; each window adds back only the resets inside it.
                let resets = CounterResets(points, mayDecrease: data.mayDecrease(index))
                Evaluator.forEachWindow(points, data) { window, reference, i in
                    guard let value = extrapolatedDelta(
                        window, reference, data.range, rangeSeconds: rangeSeconds, counter: true, perSecond: perSecond, resets: resets)
                    else { return }
                    series.set(i, value)
                    any = true
                }
            }
            return any ? series : nil
        }
        try checkDeadline()
        return results.compactMap { $0 }
    }

    func rangeFunction(_ name: String, _ data: RangeData, scalars: [[Double]], grid: Grid) throws(PromQLError) -> [StepSeries]? {
        let range = data.range
        switch name {
        case "rate", "increase":
            return try counterIncreases(data, perSecond: name == "rate")
        case "delta":
            let rangeSeconds = Double(range) / 1000
            return try overWindows(data) { w, ref, _ in
                extrapolatedDelta(w, ref, range, rangeSeconds: rangeSeconds, counter: false, perSecond: false)
            }
        case "irate": return try overWindows(data) { w, _, _ in instantDelta(w, rate: true) }
        case "idelta": return try overWindows(data) { w, _, _ in instantDelta(w, rate: false) }
        case "deriv":
            return try overWindows(data) { w, _, _ in
                w.count < 2 ? nil : linearRegression(w, interceptTime: w.first!.timestamp).slope
            }
        case "predict_linear":
            return try overWindows(data) { w, _, i in
                guard w.count >= 2 else { return nil }
                // Regressed around the step's own time, even when `@` moved the window (as Prometheus).
                let (slope, intercept) = linearRegression(w, interceptTime: grid.time(i))
                return slope * scalars[0][i] + intercept
            }
        case "holt_winters":
            return try overWindows(data) { w, _, i in holtWinters(w, smoothing: scalars[0][i], trend: scalars[1][i]) }
        case "resets":
            return try overWindows(data) { w, _, _ in
                var resets = 0.0
                var previous = w.first!.value
                for p in w.dropFirst() {
                    if p.value < previous { resets += 1 }
                    previous = p.value
                }
                return resets
            }
        case "changes":
            return try overWindows(data) { w, _, _ in
                var changes = 0.0
                var previous = w.first!.value
                for p in w.dropFirst() {
                    if !(p.value == previous || (p.value.isNaN && previous.isNaN)) { changes += 1 }
                    previous = p.value
                }
                return changes
            }
        case "avg_over_time":
            return try overWindows(data) { w, _, _ in
                var mean = 0.0, c = 0.0, count = 0.0
                for p in w {
                    count += 1
                    if mean.isInfinite {
                        if p.value.isInfinite && (mean > 0) == (p.value > 0) { continue }
                        if !p.value.isInfinite && !p.value.isNaN { continue }
                    }
                    (mean, c) = kahanAdd(p.value / count - mean / count, mean, c)
                }
                return mean.isInfinite ? mean : mean + c
            }
        case "sum_over_time":
            return try overWindows(data) { w, _, _ in
                var sum = 0.0, c = 0.0
                for p in w { (sum, c) = kahanAdd(p.value, sum, c) }
                return sum.isInfinite ? sum : sum + c
            }
        case "min_over_time": return try slidingExtreme(data, largest: false)
        case "max_over_time": return try slidingExtreme(data, largest: true)
        case "count_over_time": return try overWindows(data) { w, _, _ in Double(w.count) }
        case "last_over_time": return try overWindows(data, keepName: true) { w, _, _ in w.last!.value }
        case "present_over_time": return try overWindows(data) { _, _, _ in 1 }
        case "stddev_over_time": return try overWindows(data) { w, _, _ in variance(w).squareRoot() }
        case "stdvar_over_time": return try overWindows(data) { w, _, _ in variance(w) }
        case "quantile_over_time":
            return try overWindows(data) { w, _, i in
                var values = w.map(\.value)
                return quantile(scalars[0][i], &values)
            }
        default:
            return nil
        }
    }
}

extension Evaluator {
    /// `max_over_time` and `min_over_time` in O(1) per step: a monotonic
    /// queue of the window's candidates. Prometheus's answer is the largest
    /// (smallest) number in the window, the earliest of equals, NaN when the
    /// window holds only NaN; the queue gives the same.
    func slidingExtreme(_ data: RangeData, largest: Bool) throws(PromQLError) -> [StepSeries] {
        var out: [StepSeries] = []
        var queue: [Int] = []
        for s in data.series where !s.points.isEmpty {
            var series = StepSeries(labels: s.labels.droppingName, steps: data.references.count)
            var any = false
            s.points.withUnsafeBufferPointer { points in
                var lower = 0
                var upper = 0
                var head = 0
                queue.removeAll(keepingCapacity: true)
                for (i, reference) in data.references.enumerated() {
                    let start = reference - data.range
                    while upper < points.count && points[upper].timestamp <= reference {
                        let v = points[upper].value
                        if !v.isNaN {
                            while queue.count > head, largest ? points[queue[queue.count - 1]].value < v : points[queue[queue.count - 1]].value > v {
                                queue.removeLast()
                            }
                            queue.append(upper)
                        }
                        upper += 1
                    }
                    while lower < upper && points[lower].timestamp < start { lower += 1 }
                    while head < queue.count && queue[head] < lower { head += 1 }
                    if head > 4_096 && head * 2 > queue.count {
                        queue.removeFirst(head)
                        head = 0
                    }
                    guard lower < upper else { continue }
                    series.set(i, head < queue.count ? points[queue[head]].value : .nan)
                    any = true
                }
            }
            if any { out.append(series) }
        }
        try checkDeadline()
        return out
    }
}

/// Prometheus's `extrapolatedRate`: the change over the window (counter
/// resets added back), extrapolated towards the window's edges when the
/// first and last samples are close to them, never below zero for counters.
@inline(__always)
func extrapolatedDelta(
    _ w: UnsafeBufferPointer<Point>, _ reference: Int64, _ range: Int64, rangeSeconds: Double, counter: Bool, perSecond: Bool,
    resets: CounterResets? = nil
) -> Double? {
    guard w.count >= 2, let first = w.first, let last = w.last else { return nil }
    let rangeStart = reference - range
    let rangeEnd = reference
    var result = last.value - first.value
    if counter {
        if let resets {
            // The same additions, in the same order, as the scan below.
            resets.forEach(in: w) { previous in result += previous }
        } else {
            var previous = first.value
            for p in w.dropFirst() {
                if p.value < previous { result += previous }
                previous = p.value
            }
        }
    }
    var durationToStart = Double(first.timestamp - rangeStart) / 1000
    let durationToEnd = Double(rangeEnd - last.timestamp) / 1000
    let sampled = Double(last.timestamp - first.timestamp) / 1000
    let averageInterval = sampled / Double(w.count - 1)
    if counter && result > 0 && first.value >= 0 {
        let durationToZero = sampled * (first.value / result)
        if durationToZero < durationToStart { durationToStart = durationToZero }
    }
    let threshold = averageInterval * 1.1
    var interval = sampled
    interval += durationToStart < threshold ? durationToStart : averageInterval / 2
    interval += durationToEnd < threshold ? durationToEnd : averageInterval / 2
    // The same operations in the same order as Prometheus, so results agree to the bit.
    var factor = interval / sampled
    if perSecond { factor /= rangeSeconds } // Double(range) / 1000, computed once per query
    return result * factor
}

/// Where a series' value drops (a counter reset), found once per series so
/// that each window visits only the resets inside it. Valid while the
/// series' point buffer is.
struct CounterResets {
    let base: UnsafePointer<Point>?
    /// Indices `i` with `points[i].value < points[i - 1].value`, ascending.
    let positions: [Int]

    init(_ points: UnsafeBufferPointer<Point>, mayDecrease: Bool) {
        base = points.baseAddress
        var positions: [Int] = []
        if mayDecrease, points.count > 1 {
            for i in 1..<points.count where points[i].value < points[i - 1].value { positions.append(i) }
        }
        self.positions = positions
    }

    /// Calls `add` with the value before each reset inside the window, in order.
    func forEach(in window: UnsafeBufferPointer<Point>, _ add: (Double) -> Void) {
        guard !positions.isEmpty, let base, let start = window.baseAddress else { return }
        let lower = base.distance(to: start)
        let upper = lower + window.count
        // First reset after the window's first point.
        var low = 0
        var high = positions.count
        while low < high {
            let mid = (low + high) / 2
            if positions[mid] <= lower { low = mid + 1 } else { high = mid }
        }
        var k = low
        while k < positions.count && positions[k] < upper {
            add(base[positions[k] - 1].value)
            k += 1
        }
    }
}

/// `irate` and `idelta`: from the last two samples.
func instantDelta(_ w: UnsafeBufferPointer<Point>, rate: Bool) -> Double? {
    guard w.count >= 2 else { return nil }
    let last = w[w.endIndex - 1]
    let previous = w[w.endIndex - 2]
    var result: Double
    if rate && last.value < previous.value {
        result = last.value
    } else {
        result = last.value - previous.value
    }
    let interval = last.timestamp - previous.timestamp
    if interval == 0 { return nil }
    if rate { result /= Double(interval) / 1000 }
    return result
}

/// Kahan–Babuška compensated addition: returns the new sum and compensation.
@inline(__always)
func kahanAdd(_ value: Double, _ sum: Double, _ c: Double) -> (Double, Double) {
    let t = sum + value
    var c = c
    if sum.magnitude >= value.magnitude {
        c += (sum - t) + value
    } else {
        c += (value - t) + sum
    }
    return (t, c)
}

/// Least-squares slope and intercept of the points, x in seconds from `interceptTime`.
func linearRegression(_ w: UnsafeBufferPointer<Point>, interceptTime: Int64) -> (slope: Double, intercept: Double) {
    var n = 0.0
    var sumX = 0.0, cX = 0.0, sumY = 0.0, cY = 0.0, sumXY = 0.0, cXY = 0.0, sumX2 = 0.0, cX2 = 0.0
    let initY = w.first!.value
    var constY = true
    for p in w {
        if constY && p.value != initY { constY = false }
        n += 1
        let x = Double(p.timestamp - interceptTime) / 1000
        (sumX, cX) = kahanAdd(x, sumX, cX)
        (sumY, cY) = kahanAdd(p.value, sumY, cY)
        (sumXY, cXY) = kahanAdd(x * p.value, sumXY, cXY)
        (sumX2, cX2) = kahanAdd(x * x, sumX2, cX2)
    }
    if constY {
        if initY.isInfinite { return (.nan, .nan) }
        return (0, initY)
    }
    sumX += cX
    sumY += cY
    sumXY += cXY
    sumX2 += cX2
    let covXY = sumXY - sumX * sumY / n
    let varX = sumX2 - sumX * sumX / n
    let slope = covXY / varX
    return (slope, sumY / n - slope * sumX / n)
}

/// Population variance, by Welford's method with compensated sums.
func variance(_ w: UnsafeBufferPointer<Point>) -> Double {
    var count = 0.0, mean = 0.0, cMean = 0.0, aux = 0.0, cAux = 0.0
    for p in w {
        count += 1
        let delta = p.value - (mean + cMean)
        (mean, cMean) = kahanAdd(delta / count, mean, cMean)
        (aux, cAux) = kahanAdd(delta * (p.value - (mean + cMean)), aux, cAux)
    }
    return (aux + cAux) / count
}

/// The φ-quantile of the values, interpolating between neighbours; NaNs sort first.
/// Sorts `values` in place (callers hand over a scratch array).
func quantile(_ q: Double, _ values: inout [Double]) -> Double {
    if values.isEmpty || q.isNaN { return .nan }
    if q < 0 { return -.infinity }
    if q > 1 { return .infinity }
    values.sort { a, b in
        if a.isNaN { return !b.isNaN }
        return !b.isNaN && a < b
    }
    let sorted = values
    let n = Double(sorted.count)
    let rank = q * (n - 1)
    let lower = max(0, rank.rounded(.down))
    let upper = min(n - 1, lower + 1)
    let weight = rank - rank.rounded(.down)
    return sorted[Int(lower)] * (1 - weight) + sorted[Int(upper)] * weight
}

/// Double exponential smoothing.
func holtWinters(_ w: UnsafeBufferPointer<Point>, smoothing sf: Double, trend tf: Double) -> Double? {
    guard sf > 0, sf < 1, tf > 0, tf < 1, w.count >= 2 else { return nil }
    var s0 = 0.0
    var s1 = w[0].value
    var b = w[1].value - w[0].value
    for i in 1..<w.count {
        // Scale the raw value against the smoothing factor.
        let x = sf * w[i].value
        // Scale the last smoothed value with the trend at this point.
        if i > 1 { b = tf * (s1 - s0) + (1 - tf) * b }
        let y = (1 - sf) * (s1 + b)
        s0 = s1
        s1 = x + y
    }
    return s1
}
