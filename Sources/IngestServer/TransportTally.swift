import Aggregation

/// What one receiver has read since it last published to `/metrics`:
/// counted locally (no atomics per datagram) and published once per burst.
struct TransportTally {
    private var reads = 0
    private var bytes = 0
    private var publishedLines = 0

    /// Counts one datagram (or one TCP read) of `count` bytes.
    mutating func record(bytes count: Int) {
        reads += 1
        bytes += count
    }

    /// Whether nothing was counted since the last publish.
    var isIdle: Bool { reads == 0 }

    /// Adds what was counted, and the router's new lines, to the counters.
    mutating func publish(to metrics: TransportMetrics, router: LineRouter) {
        if reads > 0 {
            metrics.datagrams.increment(by: Int64(reads))
            metrics.bytes.increment(by: Int64(bytes))
            reads = 0
            bytes = 0
        }
        let lines = router.linesSeen
        if lines != publishedLines {
            metrics.lines.increment(by: Int64(lines - publishedLines))
            publishedLines = lines
        }
    }
}
