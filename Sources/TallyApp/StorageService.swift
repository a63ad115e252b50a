import DurableFiles
import Logging
import NIOPosix
import ServiceLifecycle
import TelemetryModel

/// Runs a store's background work: the WAL fsync of the `interval` policy,
/// and its regular maintenance round (blocks or segments from the head,
/// compaction, retention) on a thread-pool thread, never on an event loop.
/// Listed before the parts that write to the store, it stops after them and
/// fsyncs the WAL once more. Serves the metrics store and the log store.
public final class StorageService: Service {
    let name: String
    let fsync: FsyncPolicy
    let sync: @Sendable () -> Void
    let maintain: @Sendable (Int64) -> Void
    let clock: any WallClock
    let logger: Logger
    /// How often maintenance runs (milliseconds).
    let maintenanceIntervalMillis: Int64

    /// `maintain` gets the wall-clock time in milliseconds.
    public init(
        name: String, fsync: FsyncPolicy, sync: @escaping @Sendable () -> Void, maintain: @escaping @Sendable (Int64) -> Void,
        clock: any WallClock, logger: Logger, maintenanceIntervalMillis: Int64 = 15_000
    ) {
        self.name = name
        self.fsync = fsync
        self.sync = sync
        self.maintain = maintain
        self.clock = clock
        self.logger = logger
        self.maintenanceIntervalMillis = maintenanceIntervalMillis
    }

    public func run() async throws {
        let sync = self.sync
        let maintain = self.maintain
        let clock = self.clock
        let syncEvery: Int64? = if case .interval(let millis) = fsync { millis } else { nil }
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
                    try? await NIOThreadPool.singleton.runIfActive { sync() }
                }
                if now - lastMaintenance >= maintenanceEvery {
                    lastMaintenance = now
                    try? await NIOThreadPool.singleton.runIfActive { maintain(now) }
                }
            }
        }
        try? await NIOThreadPool.singleton.runIfActive { sync() }
        logger.info("\(name) closed: what it held is on disk")
    }
}
