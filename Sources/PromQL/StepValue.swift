import TelemetryModel

/// The times an expression is evaluated at: `start`, `start + step`, … up to
/// `end` (milliseconds). An instant query is a grid of one step.
struct Grid: Sendable {
    let start: Int64
    let end: Int64
    let step: Int64

    var count: Int { step > 0 ? Int((end - start) / step) + 1 : 1 }

    func time(_ i: Int) -> Int64 { start + Int64(i) * step }
}

/// One series over the steps of a grid: its value at each step where it has one.
struct StepSeries {
    var labels: Labels
    var values: [Double]
    var present: [Bool]

    init(labels: Labels, steps: Int) {
        self.labels = labels
        values = [Double](repeating: 0, count: steps)
        present = [Bool](repeating: false, count: steps)
    }

    init(labels: Labels, values: [Double], present: [Bool]) {
        self.labels = labels
        self.values = values
        self.present = present
    }

    var isEmpty: Bool { !present.contains(true) }

    mutating func set(_ i: Int, _ value: Double) {
        values[i] = value
        present[i] = true
    }
}

/// Series with their raw points, and the window each step reads: the points
/// with timestamps in `[reference(i) - range, reference(i)]` (inclusive,
/// as Prometheus 2 selects them).
struct RangeData {
    var series: [SeriesPoints]
    let range: Int64
    /// Per step, the window's end (the step's time, or its `@` time, minus the offset).
    let references: [Int64]
    /// Per series, whether any value is lower than the one before it (a
    /// counter reset somewhere); `rate` skips the reset scan where not.
    var decreases: [Bool] = []

    /// Whether series `i` may hold a counter reset.
    func mayDecrease(_ i: Int) -> Bool { i < decreases.count ? decreases[i] : true }
}

/// What evaluating a node over a grid yields.
enum StepValue {
    case scalar([Double])
    case vector([StepSeries])
    case string(String)
    case range(RangeData)
}

extension Labels {
    /// The labels without the metric name.
    var droppingName: Labels { setting(Labels.metricName, to: "") }

    /// Only the named labels.
    func keeping(_ names: [String]) -> Labels {
        Labels(pairs.filter { names.contains($0.name) })
    }

    /// Every label but the named ones.
    func removing(_ names: [String]) -> Labels {
        Labels(pairs.filter { !names.contains($0.name) })
    }
}
