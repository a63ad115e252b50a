import Logging
import ServiceLifecycle

/// Runs a service that serves clients (an HTTP server) and cancels it when
/// it has not finished `grace` after a graceful shutdown began: the server
/// waits for its open connections to end. Connections with no request under
/// way are closed at once (`RequestHeadTimeoutHandler`: one caught between
/// accept and its first request had held `systemctl stop`); this bounds the
/// rest, such as a slow request. Cancelled, the server closes the connections
/// left. The ingest listeners bound their drain the same way (10 s).
struct BoundedGracefulShutdown<Base: Service>: Service {
    let base: Base
    let grace: Duration
    let name: String
    let logger: Logger

    func run() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await base.run()
                return true
            }
            group.addTask {
                try await gracefulShutdown()
                try await Task.sleep(for: grace)
                return false
            }
            // The first to end: the service (done), or the grace period (cut short).
            let finished = try await group.next()
            if finished == false {
                logger.warning("connections still open after the stop's grace period; closing them", metadata: [
                    "server": "\(name)", "grace": "\(grace)",
                ])
            }
            group.cancelAll()
            // The other one ends now: the timer or the cancelled service, with a cancellation error.
            while true {
                do {
                    guard try await group.next() != nil else { break }
                } catch is CancellationError {
                    continue
                }
            }
        }
    }
}
