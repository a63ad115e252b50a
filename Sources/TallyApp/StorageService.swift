import DurableFiles
import Logging
import NIOPosix
import ServiceLifecycle
import TelemetryModel
import TimeSeriesStorage

/// Runs the storage engine's background work: the WAL fsync of the
/// `interval` policy, and the regular maintenance round (blocks from the
/// head, compaction, retention) on a thread-pool thread, never on an event
/// loop. Listed first in the service group, it stops last: after the shards'
/// final flush, it fsyncs the WAL once more.
public final class StorageService: Service {
    let db: TSDB
    let clock: any WallClock
    let logger: Logger
    /// How often maintenance runs (milliseconds).
    let maintenanceIntervalMillis: Int64

    public init(db: TSDB, clock: any WallClock, logger: Logger, maintenanceIntervalMillis: Int64 = 15_000) {
        self.db = db
        self.clock = clock
        self.logger = logger
        self.maintenanceIntervalMillis = maintenanceIntervalMillis
    }

    public func run() async throws {
        let db = self.db
        let clock = self.clock
        let syncEvery: Int64? = if case .interval(let millis) = db.options.fsync { millis } else { nil }
        let tick = min(syncEvery ?? 1_000, 1_000, maintenanceIntervalMillis)
        let maintenanceEvery = maintenanceIntervalMillis
        await cancelWhenGracefulShutdown {
            var lastSync = clock.nowMillis()
            var lastMaintenance = clock.nowMillis()
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(tick))
                let now = clock.nowMillis()
                if let syncEvery, now - lastSync >= syncEvery {
                    lastSync = now
                    try? await NIOThreadPool.singleton.runIfActive { db.syncWAL() }
                }
                if now - lastMaintenance >= maintenanceEvery {
                    lastMaintenance = now
                    try? await NIOThreadPool.singleton.runIfActive { db.maintain(now: now) }
                }
            }
        }
        try? await NIOThreadPool.singleton.runIfActive { db.syncWAL() }
        logger.info("storage closed: the write-ahead log is synced")
    }
}
