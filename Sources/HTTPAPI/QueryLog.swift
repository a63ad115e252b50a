import Synchronization

/// The last queries the API ran (PromQL and LogQL, instant and range), for
/// `/api/v1/status/top_queries` and the status page's slowest queries: a
/// ring of the most recent `capacity` queries (that took at least
/// `minimumDuration`: every one by default), as VictoriaMetrics keeps them
/// (`search.queryStats.lastQueriesCount`). A query's text is kept up to
/// `maxQueryBytes`, so the ring's memory is bounded by
/// `capacity × maxQueryBytes`.
public final class QueryLog: Sendable {
    /// One query as it ran.
    public struct Entry: Sendable, Equatable {
        /// `promql` or `logql`.
        public var language: String
        public var query: String
        /// The span it covered: `end − start` of a range query, 0 for an instant query.
        public var rangeSeconds: Int64
        public var durationSeconds: Double
        /// When it finished, milliseconds since the epoch.
        public var at: Int64
    }

    public let capacity: Int
    public let minimumDuration: Duration
    static let maxQueryBytes = 1024

    private struct Ring {
        var entries: [Entry] = []
        var next = 0
    }

    private let ring = Mutex(Ring())

    public init(capacity: Int = 2_000, minimumDuration: Duration = .zero) {
        self.capacity = max(0, capacity)
        self.minimumDuration = minimumDuration
    }

    /// Keeps a query that ran for at least the minimum duration.
    public func record(language: String, query: String, rangeSeconds: Int64, duration: Duration, at: Int64) {
        guard capacity > 0, duration >= minimumDuration else { return }
        var text = query
        if text.utf8.count > Self.maxQueryBytes {
            text = String(decoding: text.utf8.prefix(Self.maxQueryBytes), as: UTF8.self)
        }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let entry = Entry(language: language, query: text, rangeSeconds: rangeSeconds, durationSeconds: seconds, at: at)
        ring.withLock { ring in
            if ring.entries.count < capacity {
                ring.entries.append(entry)
            } else {
                ring.entries[ring.next] = entry
            }
            ring.next = (ring.next + 1) % capacity
        }
    }

    /// The queries that finished at `since` or later, oldest first.
    public func entries(since: Int64) -> [Entry] {
        let all = ring.withLock { ring in Array(ring.entries[ring.next...] + ring.entries[..<ring.next]) }
        return all.filter { $0.at >= since }
    }

    /// The same query over the same span, counted and timed together.
    public struct Group: Sendable, Equatable {
        public var language: String
        public var query: String
        public var rangeSeconds: Int64
        public var count: Int
        public var sumDurationSeconds: Double
        public var avgDurationSeconds: Double { count == 0 ? 0 : sumDurationSeconds / Double(count) }
    }

    /// The groups of the queries since `since`: the `top` most run, the
    /// `top` slowest on average and the `top` that took the most time in all
    /// (ties by query text).
    public func top(_ top: Int, since: Int64) -> (byCount: [Group], byAverage: [Group], bySum: [Group]) {
        var groups: [String: Group] = [:]
        for entry in entries(since: since) {
            let key = "\(entry.language)\u{0}\(entry.rangeSeconds)\u{0}\(entry.query)"
            groups[key, default: Group(language: entry.language, query: entry.query, rangeSeconds: entry.rangeSeconds, count: 0, sumDurationSeconds: 0)]
                .count += 1
            groups[key]?.sumDurationSeconds += entry.durationSeconds
        }
        let all = Array(groups.values)
        func ranked(_ value: (Group) -> Double) -> [Group] {
            Array(all.sorted { value($0) != value($1) ? value($0) > value($1) : ($0.query, $0.rangeSeconds) < ($1.query, $1.rangeSeconds) }.prefix(top))
        }
        return (ranked { Double($0.count) }, ranked(\.avgDurationSeconds), ranked(\.sumDurationSeconds))
    }
}
