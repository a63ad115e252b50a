#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Aggregation
import ConnectionAdmission
import DurableFiles
import Forwarding
import HTTPAPI
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import IngestServer
import Logging
import LogStorage
import NIOCore
import NIOPosix
import Prometheus
import Retrospective
import SelfMetrics
import ServiceLifecycle
import SketchStorage
import StatsDWire
import TelemetryModel
import TimeSeriesStorage
import WebSecurity

/// A composed tally, ready to run: its services in dependency order and the
/// addresses its listeners bound.
public struct Tally: Sendable {
    public let group: ServiceGroup
    public let statsd: StatsDIngestService.BoundAddresses
    public let logs: LogIngestService.BoundAddresses
    public let http: HostPort
}

/// The composition root: builds every part from the configuration, binds the
/// listeners (so a port in use fails here, before anything runs), and puts
/// the long-lived parts in one `ServiceGroup` in dependency order, so that
/// shutdown stops the HTTP API, then the listeners, then drains and flushes
/// the shards, then syncs the storage's WAL.
public func buildTally(config: TallyConfig, logger: Logger, clock: any WallClock = SystemClock()) async throws -> Tally {
    // A web config that does not load stops tally before anything else: serving open by mistake is worse.
    let access: WebAccess
    if let file = config.webConfigFile {
        do {
            access = try WebAccess(config: try WebConfigLoader.load(file: file))
        } catch {
            throw StartupError(description: "web config: \(error)")
        }
    } else {
        access = WebAccess.open()
        // SIGHUP reloads the web config when there is one; without, it must not stop tally
        // (its default action), as operators send it to servers expecting a reload.
        signal(SIGHUP, SIG_IGN)
    }
    // TLS on the stream listeners takes the web config's certificate (and client CA), reloaded with it.
    var statsdListeners = config.statsd
    var logListeners = config.logs
    for (wanted, key) in [(config.statsdTCPTLS, "statsd.tcp_tls"), (config.logsTCPTLS, "logs.tcp_tls")] where wanted {
        guard access.tlsContext != nil else {
            throw StartupError(description: "\(key): TLS takes its certificate from the web config's tls_server_config, and none is given")
        }
    }
    if config.statsdTCPTLS { statsdListeners.tcpTLS = StreamTLS { access.tlsContext } }
    if config.logsTCPTLS { logListeners.tcpTLS = StreamTLS { access.tlsContext } }
    // Before any store is opened: the data directory's lock, then every listener's address, so a second
    // tally started by mistake stops here with one line and the first keeps everything.
    try makeDataDirectory(config.dataDir)
    let dataLock: DirectoryLock
    do {
        dataLock = try DirectoryLock(directory: config.dataDir)
    } catch {
        throw StartupError(description: "\(error)")
    }
    try preflightListeners(config)

    let registry = PrometheusCollectorRegistry()
    let webAccess = (access: access, watcher: config.webConfigFile.map {
        WebConfigWatcher(file: $0, access: access, registry: registry, logger: logger)
    })
    let store: TSDB
    do {
        store = try TSDB(directory: config.dataDir, options: config.storage, registry: registry, logger: logger, lock: dataLock)
    } catch {
        throw StartupError(description: "cannot open the store: \(error)")
    }
    let report = store.openReport
    logger.info("opened the store", metadata: [
        "dir": "\(config.dataDir)", "blocks": "\(report.blocks)", "wal_records": "\(report.walRecords)",
        "head_series": "\(report.headSeries)",
    ])
    // After each round of the metrics store (the larger heap user), the allocator's excess free
    // memory goes back to the system and its figures to /metrics.
    let heapMetrics = HeapMetrics(registry: registry)
    let filesystemMetrics = FilesystemMetrics(directory: config.dataDir, registry: registry)
    _ = LimitMetrics(registry: registry, aggregationMaxSeries: config.maxSeries, storeMaxSeries: config.seriesLimits.maxSeries)
    let storage = StorageService(
        name: "the metrics store", fsync: store.options.fsync, sync: { store.syncWAL() },
        maintain: { now in
            store.maintain(now: now)
            heapMetrics.maintain()
            filesystemMetrics.update()
        },
        clock: clock, logger: logger)
    var forwarders: [RemoteWriteQueue] = []
    for destination in config.remoteWrite {
        do {
            forwarders.append(try RemoteWriteQueue(
                config: destination, store: store, dataDirectory: config.dataDir, registry: registry,
                version: TallyVersion.current, logger: logger))
        } catch {
            throw StartupError(description: "remote_write \(destination.endpoint.effectiveName): \(error)")
        }
    }
    let logStore: LogStore
    do {
        logStore = try LogStore(
            directory: config.dataDir + "/logs", options: config.logStore, now: clock.nowNanos(), registry: registry,
            logger: logger)
    } catch {
        throw StartupError(description: "cannot open the log store: \(error)")
    }
    var logForwarders: [LokiPushQueue] = []
    for destination in config.lokiPush {
        do {
            logForwarders.append(try LokiPushQueue(
                config: destination, store: logStore, dataDirectory: config.dataDir, registry: registry,
                version: TallyVersion.current, logger: logger))
        } catch {
            throw StartupError(description: "loki_push \(destination.endpoint.effectiveName): \(error)")
        }
    }
    logger.info("opened the log store", metadata: [
        "segments": "\(logStore.openReport.segments)", "wal_records": "\(logStore.openReport.walRecords)",
        "streams": "\(logStore.openReport.streams)",
    ])
    let logStorage = StorageService(
        name: "the log store", fsync: config.logStore.fsync, sync: { logStore.syncWAL() },
        maintain: { logStore.maintain(now: $0 * 1_000_000) }, clock: clock, logger: logger,
        maintenanceIntervalMillis: max(100, min(5_000, config.logStore.segmentDurationNanos / 1_000_000)))
    let logMetrics = LogIngestMetrics(registry: registry)
    let logWriters = LogWriters(
        store: logStore, lanes: config.logs.writers, ringCapacity: config.logs.ringCapacity, clock: clock, metrics: logMetrics,
        logger: logger)
    let logIngest = LogIngestService(config: logListeners, writers: logWriters, metrics: logMetrics, clock: clock, logger: logger)
    let events = LogEventStore(writers: logWriters, store: logStore, labels: config.logs.labels, metrics: logMetrics)
    let aggregationMetrics = AggregationMetrics(registry: registry, shards: config.shards)
    let catalog = MetricCatalog()
    var agent: AggregateForwardQueue?
    if let central = config.agent {
        do {
            agent = try AggregateForwardQueue(
                config: central, dataDirectory: config.dataDir, registry: registry, version: TallyVersion.current, logger: logger)
        } catch {
            throw StartupError(description: "agent: \(error)")
        }
    }
    // The hourly latency sketches behind the report's p99 (not on an agent: its central tally keeps them).
    var sketches: SketchArchive?
    if config.agent == nil {
        do {
            sketches = try SketchArchive(
                directory: config.dataDir + "/sketches", relativeAccuracy: config.aggregation.sketchRelativeAccuracy,
                retentionMillis: config.storage.retentionMillis,
                families: SketchFamilySelection(patterns: config.report.sketchFamilies), registry: registry, logger: logger)
        } catch {
            throw StartupError(description: "cannot open the sketch archive: \(error)")
        }
    }
    let sketchStorage = sketches.map { archive in
        StorageService(
            name: "the sketch archive", fsync: .never, sync: { archive.persist(now: clock.nowMillis()) },
            maintain: { archive.persist(now: $0) }, clock: clock, logger: logger, maintenanceIntervalMillis: 300_000)
    }
    var aggregationConfig = config.aggregation
    aggregationConfig.labelLimits = config.labelLimits
    aggregationConfig.storeLimits = config.seriesLimits
    let aggregation = AggregationService(
        shardCount: config.shards, ringCapacity: config.ringCapacity, config: aggregationConfig,
        maxSeries: config.maxSeries, flushIntervalMillis: config.flushIntervalMillis, sink: store,
        clock: clock, metrics: aggregationMetrics, registry: registry, logger: logger, catalog: catalog, exporter: agent,
        rollupSink: sketches)
    var badLineLogger = logger
    badLineLogger[metadataKey: "component"] = "statsd"
    let badLineLog = BadLineLog(clock: clock) { [badLineLogger] message in badLineLogger.warning("\(message)") }
    let factory = RouterFactory(
        inputs: aggregation.inputs, parser: StatsDParser(maxNameLength: config.maxNameBytes),
        metrics: aggregationMetrics, events: events, badLineLog: badLineLog, maxLineBytes: config.statsd.maxLineBytes)
    let ingest = StatsDIngestService(
        config: statsdListeners, factory: factory, metrics: IngestMetrics(registry: registry), clock: clock, logger: logger)
    let bound = try await ingest.bind()
    let logsBound = try await logIngest.bind()

    var dependencies = APIDependencies(
        querier: store, events: events, registry: registry, isReady: { ingest.isReady && logIngest.isReady }, clock: clock)
    dependencies.maxEventsPerAnswer = config.maxEvents
    dependencies.cardinality = store
    dependencies.catalog = catalog
    dependencies.version = TallyVersion.current
    dependencies.queryLimits = config.query
    dependencies.maxConcurrentQueries = config.maxConcurrentQueries
    dependencies.maxPointsPerSeries = config.maxPointsPerSeries
    dependencies.maxBodyBytes = config.maxBodyBytes
    dependencies.logStore = logStore
    dependencies.sketches = sketches
    dependencies.report = config.report
    dependencies.logLimits = config.logQuery
    dependencies.logLabels = config.logs.labels
    dependencies.maxLogLineBytes = config.logs.maxLineBytes
    dependencies.maxPushBytes = config.maxPushBytes
    dependencies.maxConcurrentPushes = config.maxConcurrentPushes
    dependencies.sampleSink = store
    dependencies.aggregateIntake = AggregateImporter(factory: factory, config: aggregationConfig, registry: registry)
    dependencies.labelLimits = config.labelLimits
    dependencies.seriesLimits = config.seriesLimits
    dependencies.maxWriteBytes = config.maxWriteBytes
    dependencies.maxConcurrentWrites = config.maxConcurrentWrites
    dependencies.writeSeriesCacheSize = config.writeSeriesCacheSize
    let reports = ReportScheduleService(
        maker: DailyReportMaker(store: logStore, querier: store, sketches: sketches, config: config.report), config: config.report,
        dataDirectory: config.dataDir, clock: clock, registry: registry, logger: logger)
    dependencies.access = access
    dependencies.queryLog = QueryLog(capacity: config.lastQueriesCount)
    dependencies.serverStatus = serverStatus(config: config, statsd: bound, logs: logsBound, store: store, logStore: logStore, clock: clock)
    if config.pushRateBytesPerSecond > 0 {
        dependencies.pushRate = (config.pushRateBytesPerSecond, config.pushBurstBytes)
    }
    if let watcher = webAccess.watcher {
        dependencies.reloadWebConfig = { watcher.reload(reason: "POST /-/reload") }
    }
    let tail = LokiTail(dependencies: dependencies)
    let http1 = HTTP1Channel.Configuration(idleTimeout: .milliseconds(config.httpIdleTimeoutMillis))
    let apiConnections = HTTPConnectionMetrics(registry: registry, listener: "http")
    let apiLimiter = ConnectionLimiter(limit: config.maxHTTPConnections, minimumWait: .seconds(1), observer: apiConnections.admission)
    let app = Application(
        router: buildAPIRouter(dependencies),
        server: HTTPServerBuilder { responder in
            let channel = RequestHeadTimeoutChannel(
                HTTP1WebSocketUpgradeChannel(responder: responder, configuration: .init(http1: http1)) { head, channel, logger in
                    await tail?.shouldUpgrade(head, channel, logger) ?? .dontUpgrade
                }, timeout: .milliseconds(config.httpReadHeaderTimeoutMillis), limiter: apiLimiter, timedOut: apiConnections.headTimedOut)
            return access.tlsContext == nil ? channel : ReloadableTLSChannel(channel, access: access)
        },
        configuration: .init(
            address: .hostname(config.http.host, port: config.http.port), serverName: "tally",
            availableConnectionsDelegate: MaximumAvailableConnections(config.maxHTTPConnections, logger: logger)),
        onServerRunning: { channel in
            logger.info("serving the HTTP API", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
        },
        logger: logger
    )
    // OTLP/HTTP on its own listener (4318, as every OpenTelemetry exporter expects), with only its routes.
    let otlpApp = config.otlpListen.map { address in
        let connections = HTTPConnectionMetrics(registry: registry, listener: "otlp")
        let limiter = ConnectionLimiter(limit: config.maxHTTPConnections, minimumWait: .seconds(1), observer: connections.admission)
        return Application(
            router: buildOTLPRouter(dependencies, settings: config.otlp),
            server: HTTPServerBuilder { responder in
                let channel = RequestHeadTimeoutChannel(
                    HTTP1Channel(responder: responder, configuration: http1), timeout: .milliseconds(config.httpReadHeaderTimeoutMillis),
                    limiter: limiter, timedOut: connections.headTimedOut)
                return access.tlsContext == nil ? channel : ReloadableTLSChannel(channel, access: access)
            },
            configuration: .init(
                address: .hostname(address.host, port: address.port), serverName: "tally",
                availableConnectionsDelegate: MaximumAvailableConnections(config.maxHTTPConnections, logger: logger)),
            onServerRunning: { channel in
                logger.info("serving OTLP/HTTP", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
            },
            logger: logger
        )
    }
    // Shut down in reverse order: the servers first, the stores and the queues that read them last
    // (the aggregation's final flush still reaches the agent's queue).
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: storage)]
    services += forwarders.map { .init(service: $0) }
    services += logForwarders.map { .init(service: $0) }
    if let agent { services.append(.init(service: agent)) }
    if let watcher = webAccess.watcher { services.append(.init(service: watcher)) }
    if let sketchStorage { services.append(.init(service: sketchStorage)) }
    if config.selfMonitoring.intervalMillis > 0 {
        let scrape = SelfScrape(registry: registry, sink: store, targetLabels: config.selfMonitoring.targetLabels(http: config.http))
        services.append(.init(service: SelfScrapeService(
            scrape: scrape, intervalMillis: config.selfMonitoring.intervalMillis, clock: clock, logger: logger)))
    }
    services += [
        .init(service: logStorage),
        .init(service: aggregation),
        .init(service: ingest),
        .init(service: logIngest),
        .init(service: reports),
        .init(service: BoundedGracefulShutdown(base: app, grace: .seconds(10), name: "http", logger: logger)),
    ]
    if let otlpApp {
        services.append(.init(service: BoundedGracefulShutdown(base: otlpApp, grace: .seconds(10), name: "otlp", logger: logger)))
    }
    let group = ServiceGroup(
        configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
    )
    return Tally(group: group, statsd: bound, logs: logsBound, http: config.http)
}

/// A startup problem that needs no stack trace: one line for the operator.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

private func makeDataDirectory(_ path: String) throws {
    var isDirectory = stat()
    if stat(path, &isDirectory) == 0 {
        guard (isDirectory.st_mode & S_IFMT) == S_IFDIR else {
            throw StartupError(description: "data directory \(path) exists and is not a directory")
        }
        guard access(path, W_OK) == 0 else {
            throw StartupError(description: "data directory \(path) is not writable")
        }
        return
    }
    // mkdir -p
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
        prefix += component
        if mkdir(prefix, 0o755) != 0, errno != EEXIST {
            throw StartupError(description: "cannot create data directory \(path): \(String(cString: strerror(errno)))")
        }
        prefix += "/"
    }
}
