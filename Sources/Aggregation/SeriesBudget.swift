import Synchronization

/// The cap on active series, shared by every shard: a new series beyond it
/// is refused (and counted), existing series keep aggregating.
public final class SeriesBudget: Sendable {
    public let limit: Int
    private let active = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Takes one place, or returns false when the cap is reached.
    public func acquire() -> Bool {
        var current = active.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, now) = active.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = now
        }
        return false
    }

    public func release(_ count: Int) {
        active.subtract(count, ordering: .relaxed)
    }

    /// Series active across all shards.
    public var activeCount: Int { active.load(ordering: .relaxed) }
}
