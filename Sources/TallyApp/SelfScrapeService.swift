import Logging
import NIOPosix
import SelfMetrics
import ServiceLifecycle
import TelemetryModel

/// Runs the self-scrape (`self_monitoring.interval`): tally's own `/metrics`
/// stored in its own store at each interval, off the event loops.
final class SelfScrapeService: Service {
    let scrape: SelfScrape
    let intervalMillis: Int64
    let clock: any WallClock
    let logger: Logger

    init(scrape: SelfScrape, intervalMillis: Int64, clock: any WallClock, logger: Logger) {
        self.scrape = scrape
        self.intervalMillis = intervalMillis
        self.clock = clock
        self.logger = logger
    }

    func run() async throws {
        let scrape = self.scrape
        let clock = self.clock
        let logger = self.logger
        let interval = Duration.milliseconds(intervalMillis)
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                let failure: String?? = try? await NIOThreadPool.singleton.runIfActive { () -> String? in
                    do {
                        try scrape.scrape(nowMillis: clock.nowMillis())
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
                // One warning when the scrape starts failing, one line when it works again.
                switch failure {
                case .some(.some(let message)) where !failing:
                    failing = true
                    logger.warning("self-monitoring: cannot read tally's own metrics", metadata: ["error": "\(message)"])
                case .some(.none) where failing:
                    failing = false
                    logger.info("self-monitoring: tally's own metrics are stored again")
                default:
                    break
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
