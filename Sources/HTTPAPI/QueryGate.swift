import NIOPosix
import Synchronization

/// Runs PromQL evaluations off the request tasks, on NIO's blocking thread
/// pool, at most `limit` at a time; the others wait their turn, up to their
/// own timeout (then the API answers Prometheus's 503 timeout error).
final class QueryGate: Sendable {
    private let running = Mutex(0)
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Waits for a slot until `timeout`, then runs `body` on the thread pool.
    func run<T: Sendable>(timeout: Duration, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while !running.withLock({ count in
            guard count < limit else { return false }
            count += 1
            return true
        }) {
            guard ContinuousClock.now < deadline else {
                throw APIError(type: .timeout, message: "query timed out in query queue")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        defer { running.withLock { $0 -= 1 } }
        return try await NIOThreadPool.singleton.runIfActive(body)
    }
}
