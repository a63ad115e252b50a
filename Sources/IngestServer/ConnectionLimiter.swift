import NIOCore
import Synchronization

/// Counts open connections against a limit shared by every event loop.
/// At the limit, a new connection takes the place of the one idle longest
/// (at least `minimumIdle`), so connections left open and silent, however
/// many, cannot keep new senders out; it is refused only when every
/// connection has sent something recently.
public final class ConnectionLimiter: Sendable {
    public let limit: Int
    private let open = Atomic<Int>(0)
    /// The open connections, for choosing one to close at the limit.
    private let tickets = Mutex<[ObjectIdentifier: Ticket]>([:])
    let minimumIdle: Duration
    /// Connections closed to make room.
    private let evictions = Atomic<Int>(0)

    public init(limit: Int, minimumIdle: Duration = .seconds(10)) {
        self.limit = limit
        self.minimumIdle = minimumIdle
    }

    /// An admitted connection: its channel and when it last sent something.
    /// Shared between its event loop (which touches it) and any other admitting
    /// a connection at the limit; only atomics and an immutable channel, so Sendable.
    final class Ticket: Sendable {
        let channel: any Channel
        private let lastActive = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)
        /// Set once, by whoever first stops counting the connection (its close, or its eviction).
        let released = Atomic<Bool>(false)

        init(channel: any Channel) {
            self.channel = channel
        }

        /// The connection sent something.
        func touch() { lastActive.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed) }
        var idleSince: UInt64 { lastActive.load(ordering: .relaxed) }
    }

    /// Admits a connection (closing the longest-idle one at the limit), or returns nil when every one is busy.
    func admit(_ channel: any Channel) -> Ticket? {
        if open.add(1, ordering: .relaxed).newValue > limit, !evictIdlest() {
            open.subtract(1, ordering: .relaxed)
            return nil
        }
        let ticket = Ticket(channel: channel)
        tickets.withLock { $0[ObjectIdentifier(ticket)] = ticket }
        return ticket
    }

    func leave(_ ticket: Ticket) {
        tickets.withLock { $0[ObjectIdentifier(ticket)] = nil }
        if !ticket.released.exchange(true, ordering: .relaxed) { open.subtract(1, ordering: .relaxed) }
    }

    /// Closes the connection idle longest, if one has been idle `minimumIdle`; its slot is free at once.
    private func evictIdlest() -> Bool {
        let cutoff = NIODeadline.now().uptimeNanoseconds &- UInt64(minimumIdle.components.seconds) * 1_000_000_000
        let victim = tickets.withLock { tickets -> Ticket? in
            guard let oldest = tickets.values.min(by: { $0.idleSince < $1.idleSince }), oldest.idleSince <= cutoff else { return nil }
            tickets[ObjectIdentifier(oldest)] = nil
            return oldest
        }
        guard let victim else { return false }
        if !victim.released.exchange(true, ordering: .relaxed) { open.subtract(1, ordering: .relaxed) }
        evictions.add(1, ordering: .relaxed)
        victim.channel.close(promise: nil)
        return true
    }

    /// Idle connections closed so far to admit new ones.
    public var evicted: Int { evictions.load(ordering: .relaxed) }

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
