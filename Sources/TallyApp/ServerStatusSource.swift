import DurableFiles
import Foundation
import HTTPAPI
import IngestServer
import LogStorage
import TelemetryModel
import TimeSeriesStorage

/// What the status endpoints report of this tally: its start, directories,
/// config (secrets hidden) and flags, the addresses it listens on, and a
/// reader of its storage's files.
func serverStatus(config: TallyConfig, statsd: StatsDIngestService.BoundAddresses, logs: LogIngestService.BoundAddresses,
                  store: TSDB, logStore: LogStore, clock: any WallClock) -> ServerStatus {
    var listeners: [ServerStatus.Listener] = []
    func add(_ name: String, _ transport: String, _ address: HostPort?, tls: Bool = false) {
        if let address { listeners.append(.init(name: name, transport: transport, address: "\(address.host):\(address.port)", tls: tls)) }
    }
    add("statsd", "udp", statsd.udp)
    add("statsd", "tcp", statsd.tcp, tls: config.statsdTCPTLS)
    if let path = statsd.unixPath { listeners.append(.init(name: "statsd", transport: "unix", address: path)) }
    add("logs", "udp", logs.udp)
    add("logs", "tcp", logs.tcp, tls: config.logsTCPTLS)
    add("syslog", "udp", logs.syslogUDP)
    add("syslog", "tcp", logs.syslogTCP)
    let tls = config.webConfigFile != nil
    add("http", "http", config.http, tls: tls)
    add("otlp", "http", config.otlpListen, tls: tls)
    let walDirectory = config.dataDir + "/wal"
    return ServerStatus(
        startTimeMillis: clock.nowMillis(), workingDirectory: FileManager.default.currentDirectoryPath, dataDirectory: config.dataDir,
        configFile: config.source.file, configYAML: config.source.text.map(ConfigRedaction.redact(yaml:)) ?? "",
        flags: config.source.flags, listeners: listeners, retentionMillis: config.storage.retentionMillis,
        corruptionCount: store.openReport.damagedBlocks.count
    ) {
        let head = store.headStats
        let blocks = store.currentBlocks.map { block in
            StorageStatus.Block(
                ulid: block.meta.ulid, minTime: block.meta.minTime, maxTime: block.meta.maxTime, series: block.meta.stats.series,
                samples: block.meta.stats.samples, bytes: FileSystem.treeSize(block.path), level: block.meta.compaction.level)
        }
        return StorageStatus(
            walSegments: files(in: walDirectory), headSeries: head.series, headChunks: head.chunks, blocks: blocks,
            logWALSegments: files(in: logStore.walDirectory), logSegments: files(in: logStore.directory + "/segments"))
    }
}

/// The files of a directory with their sizes, by name; none when it cannot be read.
private func files(in directory: String) -> [StorageStatus.File] {
    ((try? FileSystem.list(directory)) ?? []).map { name in
        StorageStatus.File(name: name, bytes: FileSystem.treeSize(directory + "/" + name))
    }
}
