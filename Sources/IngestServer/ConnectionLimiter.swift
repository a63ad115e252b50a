import Synchronization

/// Counts open connections against a limit shared by every event loop.
public final class ConnectionLimiter: Sendable {
    public let limit: Int
    private let open = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Admits a connection, or returns false when the limit is reached.
    func admit() -> Bool {
        if open.add(1, ordering: .relaxed).newValue > limit {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() {
        open.subtract(1, ordering: .relaxed)
    }

    public var current: Int { open.load(ordering: .relaxed) }

    /// Closed connections whose last lines still wait for room in a ring.
    private let closingWithBacklog = Atomic<Int>(0)

    func backlogStarted() { closingWithBacklog.add(1, ordering: .relaxed) }
    func backlogCleared() { closingWithBacklog.subtract(1, ordering: .relaxed) }

    /// True when no closed connection still holds lines.
    var backlogIsEmpty: Bool { closingWithBacklog.load(ordering: .relaxed) == 0 }

    /// Waits until no closed connection holds lines, or `timeout` passes;
    /// true when the backlog emptied.
    func waitForBacklog(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !backlogIsEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return backlogIsEmpty
    }
}
