#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import DurableFiles
import IngestServer
import Logging
import TallyApp
import TelemetryModel

/// `tally serve`: runs the collector until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the collector.",
        discussion: """
        Settings come from the built-in defaults, then from --config FILE (see Config/tally.yaml, \
        which lists every key), then from these flags. Defaults: StatsD on UDP and TCP 0.0.0.0:8125, \
        logs (JSON lines, logfmt) on UDP and TCP 0.0.0.0:5170, syslog on UDP and TCP 0.0.0.0:5514, HTTP on 0.0.0.0:9470, flush every 10s, data in ./data. On SIGINT or SIGTERM tally stops \
        reading, drains its queues, flushes the open interval and exits with status 0.
        """
    )

    @Option(name: .long, help: ArgumentHelp("A tally.yaml file whose settings override the defaults.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Where tally keeps its data (default ./data).", valueName: "dir"))
    var dataDir: String?

    @Option(name: .customLong("statsd-udp"), help: ArgumentHelp("StatsD UDP address, or 'off' (default 0.0.0.0:8125).", valueName: "host:port"))
    var statsdUDP: String?

    @Option(name: .customLong("statsd-tcp"), help: ArgumentHelp("StatsD TCP address, or 'off' (default 0.0.0.0:8125).", valueName: "host:port"))
    var statsdTCP: String?

    @Option(name: .customLong("statsd-unix"), help: ArgumentHelp("A Unix datagram socket path for DogStatsD (default: none).", valueName: "path"))
    var statsdUnix: String?

    @Option(name: .customLong("logs-tcp"), help: ArgumentHelp("JSON-lines and logfmt logs over TCP, or 'off' (default 0.0.0.0:5170).", valueName: "host:port"))
    var logsTCP: String?

    @Option(name: .customLong("logs-udp"), help: ArgumentHelp("JSON-lines and logfmt logs over UDP, or 'off' (default 0.0.0.0:5170).", valueName: "host:port"))
    var logsUDP: String?

    @Option(name: .customLong("syslog-tcp"), help: ArgumentHelp("Syslog (RFC 5424/3164) over TCP, or 'off' (default 0.0.0.0:5514).", valueName: "host:port"))
    var syslogTCP: String?

    @Option(name: .customLong("syslog-udp"), help: ArgumentHelp("Syslog (RFC 5424/3164) over UDP, or 'off' (default 0.0.0.0:5514).", valueName: "host:port"))
    var syslogUDP: String?

    @Option(name: .long, help: ArgumentHelp("HTTP API address (default 0.0.0.0:9470).", valueName: "host:port"))
    var http: String?

    @Option(name: .long, help: ArgumentHelp(
        "A web config file (Prometheus's format, plus bearer_tokens and scopes): credentials and TLS for the HTTP and OTLP listeners; reloaded on change and SIGHUP (docs/security.md).",
        valueName: "file"))
    var webConfig: String?

    @Option(name: .long, help: ArgumentHelp("OTLP/HTTP receiver address, or 'off' (default 0.0.0.0:4318).", valueName: "host:port"))
    var otlp: String?

    @Option(name: .long, help: ArgumentHelp("Aggregation interval, such as 10s or 500ms (default 10s).", valueName: "duration"))
    var flushInterval: String?

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default info).", valueName: "level"))
    var logLevel: String?

    @Option(name: .long, help: ArgumentHelp(
        "How often tally stores its own /metrics in its own store, such as 15s; 0 turns it off (default 15s).", valueName: "duration"))
    var selfMonitoringInterval: String?

    func run() async throws {
        AllocatorTuning.apply()
        do {
            let settings = try resolveConfig()
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = settings.logLevel
                return handler
            }
            var logger = Logger(label: "tally")
            logger.logLevel = settings.logLevel
            let tally = try await buildTally(config: settings, logger: logger)
            try await tally.group.run()
        } catch {
            fail("\(error)")
        }
    }

    /// Defaults, then the file, then the flags.
    private func resolveConfig() throws -> TallyConfig {
        var settings = TallyConfig()
        if let path = config {
            let text: String
            do {
                text = try readFile(path)
            } catch {
                throw StartupError(description: "cannot read config file \(path): \(error)")
            }
            settings = try ConfigLoader.load(yaml: text, file: path, base: settings)
            settings.source.file = path
            settings.source.text = text
        }
        let given: [(String, String?)] = [
            ("--config", config), ("--data-dir", dataDir), ("--statsd-udp", statsdUDP), ("--statsd-tcp", statsdTCP),
            ("--statsd-unix", statsdUnix), ("--logs-tcp", logsTCP), ("--logs-udp", logsUDP), ("--syslog-tcp", syslogTCP),
            ("--syslog-udp", syslogUDP), ("--web-config", webConfig), ("--otlp", otlp), ("--http", http),
            ("--flush-interval", flushInterval), ("--log-level", logLevel), ("--self-monitoring-interval", selfMonitoringInterval),
        ]
        for case (let name, let value?) in given { settings.source.flags[name] = value }
        if let dataDir { settings.dataDir = dataDir }
        if let statsdUDP { settings.statsd.udp = try address(statsdUDP, flag: "--statsd-udp") }
        if let statsdTCP { settings.statsd.tcp = try address(statsdTCP, flag: "--statsd-tcp") }
        if let statsdUnix { settings.statsd.unixPath = statsdUnix.isEmpty ? nil : statsdUnix }
        if let logsTCP { settings.logs.tcp = try address(logsTCP, flag: "--logs-tcp") }
        if let logsUDP { settings.logs.udp = try address(logsUDP, flag: "--logs-udp") }
        if let syslogTCP { settings.logs.syslogTCP = try address(syslogTCP, flag: "--syslog-tcp") }
        if let syslogUDP { settings.logs.syslogUDP = try address(syslogUDP, flag: "--syslog-udp") }
        if let webConfig { settings.webConfigFile = webConfig.isEmpty ? nil : webConfig }
        if let otlp { settings.otlpListen = try address(otlp, flag: "--otlp") }
        if let http {
            guard let parsed = HostPort(parsing: http) else {
                throw StartupError(description: "--http: expected HOST:PORT, got \"\(http)\"")
            }
            settings.http = parsed
        }
        if let flushInterval {
            do {
                settings.flushIntervalMillis = try parseDuration(flushInterval)
            } catch {
                throw StartupError(description: "--flush-interval: \(error)")
            }
            guard settings.flushIntervalMillis > 0 else {
                throw StartupError(description: "--flush-interval: must be longer than 0")
            }
        }
        if let selfMonitoringInterval {
            do {
                settings.selfMonitoring.intervalMillis = try parseDuration(selfMonitoringInterval)
            } catch {
                throw StartupError(description: "--self-monitoring-interval: \(error)")
            }
        }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw StartupError(description: "--log-level: expected trace, debug, info, notice, warning, error or critical")
            }
            settings.logLevel = level
        }
        return settings
    }

    private func address(_ text: String, flag: String) throws -> HostPort? {
        if text.isEmpty || text == "off" { return nil }
        guard let parsed = HostPort(parsing: text) else {
            throw StartupError(description: "\(flag): expected HOST:PORT or off, got \"\(text)\"")
        }
        return parsed
    }
}

/// One clear line on stderr, then a non-zero exit.
func fail(_ message: String) -> Never {
    let line = "tally: error: \(message)\n"
    _ = line.withCString { fputs($0, stderr) }
    exit(1)
}

struct FileError: Error, CustomStringConvertible {
    var description: String
}

/// Reads a whole text file.
func readFile(_ path: String) throws -> String {
    guard let handle = fopen(path, "rb") else {
        throw FileError(description: String(cString: strerror(errno)))
    }
    defer { fclose(handle) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&chunk, 1, chunk.count, handle)
        if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
        if count < chunk.count {
            if ferror(handle) != 0 { throw FileError(description: String(cString: strerror(errno))) }
            break
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
