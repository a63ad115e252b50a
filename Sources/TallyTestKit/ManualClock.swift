import Synchronization
import TelemetryModel

/// A wall clock that moves only when a test says so.
public final class ManualClock: WallClock {
    private let now: Atomic<Int64>

    public init(_ start: Int64 = 1_700_000_000_000) {
        now = Atomic(start)
    }

    public func nowMillis() -> Int64 { now.load(ordering: .relaxed) }

    public func advance(by milliseconds: Int64) {
        now.add(milliseconds, ordering: .relaxed)
    }

    public func set(_ milliseconds: Int64) {
        now.store(milliseconds, ordering: .relaxed)
    }
}
