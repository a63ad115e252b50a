#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The source of wall-clock time. Aggregation never reads a clock itself:
/// its callers pass time in, from this protocol, so tests use a manual clock.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func nowMillis() -> Int64
    /// Nanoseconds since the Unix epoch (log entries keep them).
    func nowNanos() -> Int64
}

extension WallClock {
    public func nowNanos() -> Int64 { nowMillis() * 1_000_000 }
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
    public init() {}

    public func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    public func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// A monotonic clock reading in nanoseconds, for measuring durations.
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
