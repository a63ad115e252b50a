import DequeModule
import TelemetryModel

/// The head's series count over the last day, one point per maintenance
/// round (every 15 s): what the cardinality page draws as the head's
/// growth, kept in memory (5,760 points, 92 KB) since tally does not store
/// its own metrics.
struct HeadGrowth: Sendable {
    static let capacity = 5_760
    private var points = Deque<HeadSeriesPoint>()

    mutating func record(_ time: Int64, series: Int) {
        if let last = points.last, time <= last.time { return }
        points.append(HeadSeriesPoint(time: time, series: series))
        if points.count > Self.capacity { points.removeFirst() }
    }

    var all: [HeadSeriesPoint] { Array(points) }
}
