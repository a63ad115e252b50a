import Synchronization

/// Bytes per second each client may push (Loki push, events, OTLP,
/// remote_write, aggregates), as a token bucket per client: a client may
/// send `burst` bytes at once, then `bytesPerSecond` on average. A push
/// is let through while its client's bucket is not in debt and is then
/// charged its size, so one large push is never refused for being large
/// (the body limits do that); the next waits until the debt is paid, and
/// the refusal says how long in `Retry-After`. Loki's per-tenant
/// ingestion rate, counted per client.
final class PushRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let bytesPerSecond: Double
    let burst: Double
    /// Clients tracked at once; past it, clients whose buckets are full (idle) are forgotten.
    static let maxClients = 10_000
    private let buckets = Mutex<[String: Bucket]>([:])

    init(bytesPerSecond: Int, burst: Int) {
        self.bytesPerSecond = Double(bytesPerSecond)
        self.burst = Double(max(burst, bytesPerSecond))
    }

    /// Nil when the push may go (and `bytes` is charged), else the seconds to wait.
    func admit(client: String, bytes: Int, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * bytesPerSecond)
            bucket.updated = now
            guard bucket.tokens > 0 else {
                buckets[client] = bucket
                return max(1, Int((-bucket.tokens / bytesPerSecond).rounded(.up)))
            }
            bucket.tokens -= Double(bytes)
            if buckets[client] == nil, buckets.count >= Self.maxClients { Self.forgetIdle(&buckets, now: now, rate: bytesPerSecond, burst: burst) }
            buckets[client] = bucket
            return nil
        }
    }

    private static func forgetIdle(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant, rate: Double, burst: Double) {
        buckets = buckets.filter { _, bucket in
            let elapsed = now - bucket.updated
            return bucket.tokens + Double(elapsed.components.seconds) * rate < burst
        }
        // Every client busy at once: start afresh rather than grow without bound.
        if buckets.count >= maxClients { buckets.removeAll() }
    }
}
