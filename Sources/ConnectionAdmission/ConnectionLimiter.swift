import NIOCore
import Synchronization

/// Counts one listener's open connections against its limit, shared by every
/// event loop, and chooses which connection gives way when the limit is
/// reached, so that connections which hold a slot without doing anything
/// (left open and silent, or trickling an HTTP request head) cannot keep
/// everyone else out.
///
/// A connection is *waiting* from the moment it last showed progress (a line
/// received, or the first byte of an HTTP request head) and is not waiting
/// while it does work (an HTTP request whose head has arrived). The one that
/// has been waiting longest, for at least `minimumWait`, is closed to make
/// room: at once for a new connection (`admit`), or while the listener stays
/// full (for connections counted with `track`: HTTP, whose server stops accepting at the limit).
public final class ConnectionLimiter: Sendable {
    public let limit: Int
    public let minimumWait: Duration
    private let observer: AdmissionObserver
    private let open = Atomic<Int>(0)
    /// The open connections, for choosing one to close at the limit.
    private let tickets = Mutex<[ObjectIdentifier: Ticket]>([:])
    /// Set while a sweep is scheduled (only one runs per listener).
    private let sweeping = Atomic<Bool>(false)
    /// Orders the reports of `open`: each change is followed by a report that reads the count
    /// under this lock, so the last report made holds the latest count (a refused connection
    /// counts for a moment, and a report from another event loop may have seen it).
    private let reporting = Mutex<Void>(())

    public init(limit: Int, minimumWait: Duration, observer: AdmissionObserver = AdmissionObserver()) {
        self.limit = limit
        self.minimumWait = minimumWait
        self.observer = observer
    }

    /// An admitted connection: its channel and since when it has been waiting.
    /// Shared between its event loop (which touches it) and any other closing
    /// a connection at the limit; only atomics and an immutable channel, so Sendable.
    public final class Ticket: Sendable {
        let channel: any Channel
        /// Uptime nanoseconds when the wait began; `UInt64.max` while the connection works.
        private let waitingSince = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)
        /// Set once, by whoever first stops counting the connection (its close, or its eviction).
        let released = Atomic<Bool>(false)

        init(channel: any Channel) {
            self.channel = channel
        }

        /// The connection showed progress; from now it waits for the next.
        public func progressed() { waitingSince.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed) }
        /// The connection is doing work and must not be closed to make room.
        public func working() { waitingSince.store(.max, ordering: .relaxed) }
        var since: UInt64 { waitingSince.load(ordering: .relaxed) }
    }

    /// Admits a connection, closing the one waiting longest when the listener
    /// is full; nil (the caller closes the new one) when none has waited `minimumWait`.
    public func admit(_ channel: any Channel) -> Ticket? {
        if open.add(1, ordering: .relaxed).newValue > limit, evictLongestWaiting(limit: 1) == 0 {
            open.subtract(1, ordering: .relaxed)
            observer.refused()
            reportOpen()
            return nil
        }
        return register(channel)
    }

    /// Counts a connection that the server has already accepted within its own limit
    /// (HTTP), and starts sweeping when the listener is now full.
    public func track(_ channel: any Channel) -> Ticket {
        open.add(1, ordering: .relaxed)
        let ticket = register(channel)
        if current >= limit { startSweep(on: channel.eventLoop) }
        return ticket
    }

    public func leave(_ ticket: Ticket) {
        tickets.withLock { $0[ObjectIdentifier(ticket)] = nil }
        if !ticket.released.exchange(true, ordering: .relaxed) { open.subtract(1, ordering: .relaxed) }
        reportOpen()
    }

    private func reportOpen() {
        reporting.withLock { _ in observer.openChanged(current) }
    }

    /// Open connections now.
    public var current: Int { open.load(ordering: .relaxed) }

    private func register(_ channel: any Channel) -> Ticket {
        let ticket = Ticket(channel: channel)
        tickets.withLock { $0[ObjectIdentifier(ticket)] = ticket }
        reportOpen()
        return ticket
    }

    /// Closes up to `limit` connections that have waited `minimumWait` or more, longest first;
    /// their slots are free at once. Returns how many.
    @discardableResult
    private func evictLongestWaiting(limit: Int) -> Int {
        let now = NIODeadline.now().uptimeNanoseconds
        let wait = UInt64(minimumWait.components.seconds) * 1_000_000_000 + UInt64(minimumWait.components.attoseconds / 1_000_000_000)
        let cutoff = now >= wait ? now - wait : 0
        let victims = tickets.withLock { tickets -> [Ticket] in
            let overdue = tickets.values.filter { $0.since <= cutoff }.sorted { $0.since < $1.since }.prefix(limit)
            for victim in overdue { tickets[ObjectIdentifier(victim)] = nil }
            return Array(overdue)
        }
        for victim in victims {
            if !victim.released.exchange(true, ordering: .relaxed) { open.subtract(1, ordering: .relaxed) }
            observer.evicted()
            victim.channel.close(promise: nil)
        }
        if !victims.isEmpty { reportOpen() }
        return victims.count
    }

    /// While the listener is full, closes every connection that has waited
    /// `minimumWait`, checking four times a second; stops once there is room.
    private func startSweep(on eventLoop: any EventLoop) {
        guard !sweeping.exchange(true, ordering: .acquiring) else { return }
        scheduleSweep(on: eventLoop)
    }

    private func scheduleSweep(on eventLoop: any EventLoop) {
        eventLoop.scheduleTask(in: .milliseconds(250)) { [self] in
            evictLongestWaiting(limit: .max)
            if current >= limit {
                scheduleSweep(on: eventLoop)
            } else {
                sweeping.store(false, ordering: .releasing)
                // A connection tracked between the check and the store would have found a sweep running.
                if current >= limit { startSweep(on: eventLoop) }
            }
        }
    }
}

/// What a listener reports about its connections (for its own `/metrics` names).
public struct AdmissionObserver: Sendable {
    /// The number of open connections changed.
    public var openChanged: @Sendable (Int) -> Void
    /// A new connection was closed at once: the listener was full and none had waited long enough.
    public var refused: @Sendable () -> Void
    /// A waiting connection was closed to make room.
    public var evicted: @Sendable () -> Void

    public init(
        openChanged: @escaping @Sendable (Int) -> Void = { _ in }, refused: @escaping @Sendable () -> Void = {},
        evicted: @escaping @Sendable () -> Void = {}
    ) {
        self.openChanged = openChanged
        self.refused = refused
        self.evicted = evicted
    }
}
