import Synchronization

/// Closed connections whose last lines still wait for room in a ring. A
/// listener's shutdown waits for them, so that nothing read is lost.
final class ClosingBacklog: Sendable {
    private let count = Atomic<Int>(0)

    func started() { count.add(1, ordering: .relaxed) }
    func cleared() { count.subtract(1, ordering: .relaxed) }

    /// True when no closed connection still holds lines.
    var isEmpty: Bool { count.load(ordering: .relaxed) == 0 }

    /// Waits until no closed connection holds lines, or `timeout` passes;
    /// true when the backlog emptied.
    func wait(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return isEmpty
    }
}
