import Logging
import Synchronization
import TelemetryModel

/// How a forwarder's request ended after its retries.
enum PushResult: Sendable {
    case accepted
    /// Refused for good (a 4xx other than a retried 429): its status and the start of its body.
    case refused(status: Int, body: String)
    /// Given up while waiting to retry: the WAL kept behind passed max_disk_usage.
    case overDiskCap
    case cancelled
}

extension PushClient {
    /// Sends `body` until the destination takes it or refuses it for good,
    /// waiting between tries with exponential backoff from `minBackoffMillis`
    /// to `maxBackoffMillis` (a Retry-After wins). `failed` hears of every
    /// failed try (numbered from 1) and whether it will be retried; `overDiskCap` is asked
    /// after each wait whether to give up.
    func sendWithRetries(
        _ body: [UInt8], minBackoffMillis: Int64, maxBackoffMillis: Int64, failed: (_ retried: Bool, _ reason: String, _ attempt: Int) -> Void,
        overDiskCap: () -> Bool
    ) async -> PushResult {
        let first = max(1, minBackoffMillis)
        var backoff = first
        var attempt = 0
        while true {
            if Task.isCancelled { return .cancelled }
            attempt += 1
            switch await send(body) {
            case .accepted:
                return .accepted
            case .refused(let status, let text):
                failed(false, "\(status) \(text)", attempt)
                return .refused(status: status, body: text)
            case .retry(let after, let reason):
                failed(true, reason, attempt)
                let wait = after ?? backoff
                backoff = min(max(backoff * 2, 1), max(1, maxBackoffMillis))
                do {
                    try await Task.sleep(for: .milliseconds(wait))
                } catch {
                    return .cancelled
                }
                if overDiskCap() { return .overDiskCap }
            }
        }
    }
}

/// Logs what a destination refused at most once every 10 seconds, so a
/// destination that refuses everything does not flood tally's own log.
final class RefusalLog: Sendable {
    private let last = Atomic<UInt64>(0)
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func log(_ message: Logger.Message, status: Int, answer: String, count: Int, unit: String) {
        let now = monotonicNanos()
        let previous = last.load(ordering: .relaxed)
        guard previous == 0 || now &- previous >= 10_000_000_000 else { return }
        last.store(now, ordering: .relaxed)
        logger.error(message, metadata: ["status": "\(status)", unit: "\(count)", "answer": "\(answer)"])
    }
}
