import DurableFiles
import Foundation
import IngestServer
import Logging
import LogQL
import LogStorage
import PromQL
import Retrospective
import TelemetryModel
import TimeSeriesStorage
import Yams

/// A configuration problem: which file, which key, which line, and why;
/// with the file's other problems, when it has more than one (`all`), so
/// that one run of `tally check-config` lists every one.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var key: String
    public var message: String
    /// The problems found after this one, in file order.
    public var others: [ConfigError] = []

    public init(file: String, line: Int?, key: String, message: String) {
        (self.file, self.line, self.key, self.message) = (file, line, key, message)
    }

    /// This problem and the others.
    public var all: [ConfigError] {
        var first = self
        first.others = []
        return [first] + others
    }

    /// One line per problem.
    public var description: String {
        all.map { problem in
            let location = problem.line.map { "\(problem.file):\($0)" } ?? problem.file
            return problem.key.isEmpty ? "\(location): \(problem.message)" : "\(location): \(problem.key): \(problem.message)"
        }.joined(separator: "\n")
    }
}

/// Reads tally.yaml. Unknown keys are errors (a typo must not silently fall
/// back to a default), and every value is checked for type and range.
public enum ConfigLoader {
    /// Applies the file's settings on top of `base`.
    public static func load(yaml: String, file: String, base: TallyConfig = TallyConfig()) throws(ConfigError) -> TallyConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(file: file, line: nil, key: "", message: "not valid YAML: \(error)")
        }
        var config = base
        guard let root else { return config } // an empty file: all defaults
        let reader = Reader(file: file)
        var fsyncInterval: Int64?
        var logFsyncInterval: Int64?
        try reader.section(root, path: "") { key, value, path throws(ConfigError) in
            switch key {
            case "data_dir": config.dataDir = try reader.string(value, path)
            case "flush_interval": config.flushIntervalMillis = try reader.duration(value, path, minimum: 1)
            case "log_level": config.logLevel = try reader.logLevel(value, path)
            case "http":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "listen":
                        guard let address = try reader.address(value, path) else {
                            throw reader.error(value, path, "the HTTP API cannot be disabled")
                        }
                        config.http = address
                    case "max_body_size": config.maxBodyBytes = try reader.bytes(value, path, range: (4 << 10)...(1 << 30))
                    case "max_connections": config.maxHTTPConnections = try reader.int(value, path, range: 1...1_000_000)
                    case "idle_timeout": config.httpIdleTimeoutMillis = try reader.duration(value, path, minimum: 1_000)
                    case "read_header_timeout": config.httpReadHeaderTimeoutMillis = try reader.duration(value, path, minimum: 100)
                    case "web_config":
                        let file = try reader.string(value, path)
                        config.webConfigFile = file.isEmpty ? nil : file
                    case "max_write_size": config.maxWriteBytes = try reader.bytes(value, path, range: (64 << 10)...(1 << 30))
                    case "max_concurrent_writes": config.maxConcurrentWrites = try reader.int(value, path, range: 1...10_000)
                    case "write_series_cache": config.writeSeriesCacheSize = try reader.int(value, path, range: 1...100_000_000)
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "otlp":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "listen": config.otlpListen = try reader.address(value, path)
                    case "max_request_size": config.otlp.maxRequestBytes = try reader.bytes(value, path, range: (64 << 10)...(1 << 30))
                    case "max_concurrent_requests": config.otlp.maxConcurrentRequests = try reader.int(value, path, range: 1...10_000)
                    case "max_delta_series": config.otlp.maxDeltaSeries = try reader.int(value, path, range: 1...100_000_000)
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "statsd":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "udp": config.statsd.udp = try reader.address(value, path)
                    case "tcp": config.statsd.tcp = try reader.address(value, path)
                    case "unix":
                        let text = try reader.string(value, path)
                        config.statsd.unixPath = text.isEmpty ? nil : text
                    case "udp_sockets":
                        let count = try reader.int(value, path, range: 0...256)
                        config.statsd.udpSockets = count == 0 ? max(1, System.coreCount) : count
                    case "receive_buffer": config.statsd.receiveBufferBytes = try reader.bytes(value, path, range: 4096...(1 << 30))
                    case "max_datagram_size": config.statsd.maxDatagramBytes = try reader.bytes(value, path, range: 512...65_536)
                    case "datagrams_per_read": config.statsd.datagramsPerRead = try reader.int(value, path, range: 1...1024)
                    case "max_line_length": config.statsd.maxLineBytes = try reader.bytes(value, path, range: 64...(16 << 20))
                    case "max_name_length": config.maxNameBytes = try reader.int(value, path, range: 1...65_535)
                    case "max_tcp_connections": config.statsd.maxTCPConnections = try reader.int(value, path, range: 1...1_000_000)
                    case "tcp_tls": config.statsdTCPTLS = try reader.bool(value, path)
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "aggregation":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "shards":
                        let count = try reader.int(value, path, range: 0...256)
                        config.shards = count == 0 ? max(1, System.coreCount) : count
                    case "ring_capacity": config.ringCapacity = try reader.int(value, path, range: 2...(1 << 20))
                    case "max_series": config.maxSeries = try reader.int(value, path, range: 1...1_000_000_000)
                    case "series_expiry": config.aggregation.seriesExpiryMillis = try reader.duration(value, path, minimum: 1)
                    case "max_series_per_metric": config.aggregation.maxSeriesPerMetric = try reader.int(value, path, range: 0...1_000_000_000)
                    case "quantiles": config.aggregation.quantiles = try reader.quantiles(value, path)
                    case "sketch_relative_accuracy":
                        let alpha = try reader.double(value, path)
                        guard alpha >= 0.0001, alpha <= 0.05 else {
                            throw reader.error(value, path, "must be between 0.0001 and 0.05")
                        }
                        config.aggregation.sketchRelativeAccuracy = alpha
                    case "set_exact_limit": config.aggregation.setExactLimit = try reader.int(value, path, range: 0...10_000_000)
                    case "hll_precision": config.aggregation.hllPrecision = try reader.int(value, path, range: 4...18)
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "storage":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "retention": config.storage.retentionMillis = try reader.duration(value, path, minimum: 60_000)
                    case "max_bytes":
                        let text = try reader.string(value, path)
                        config.storage.maxBytes = text == "0" ? 0 : Int64(try reader.bytes(value, path, range: (1 << 20)...Int.max))
                    case "block_duration":
                        config.storage.blockDurationMillis = try reader.duration(value, path, minimum: 60_000)
                    case "compaction_ranges": config.storage.compactionRangesMillis = try reader.durations(value, path)
                    case "wal_fsync": config.storage.fsync = try reader.fsyncPolicy(value, path)
                    case "wal_fsync_interval": fsyncInterval = try reader.duration(value, path, minimum: 1)
                    case "wal_segment_size":
                        config.storage.walSegmentBytes = try reader.bytes(value, path, range: (64 << 10)...(1 << 30))
                    case "chunk_samples": config.storage.chunkSamples = try reader.int(value, path, range: 2...65_535)
                    case "block_chunk_samples": config.storage.blockChunkSamples = try reader.int(value, path, range: 16...65_535)
                    case "compression_level": config.storage.compressionLevel = Int32(try reader.int(value, path, range: 1...9))
                    case "chunk_group_size":
                        config.storage.chunkGroupBytes = try reader.bytes(value, path, range: (4 << 10)...(16 << 20))
                    case "query_cache_size":
                        config.storage.groupCacheBytes = try reader.bytes(value, path, range: 0...(1 << 40))
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "query":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "timeout": config.query.timeout = .milliseconds(try reader.duration(value, path, minimum: 1))
                    case "max_samples": config.query.maxSamples = try reader.int(value, path, range: 1...Int(Int32.max))
                    case "max_points_per_series": config.maxPointsPerSeries = try reader.int(value, path, range: 1...10_000_000)
                    case "max_concurrency": config.maxConcurrentQueries = try reader.int(value, path, range: 1...10_000)
                    case "last_queries_count": config.lastQueriesCount = try reader.int(value, path, range: 0...1_000_000)
                    case "lookback_delta": config.query.lookbackMillis = try reader.duration(value, path, minimum: 1)
                    case "default_subquery_step":
                        config.query.defaultSubqueryStepMillis = try reader.duration(value, path, minimum: 1)
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "logs":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "tcp": config.logs.tcp = try reader.address(value, path)
                    case "udp": config.logs.udp = try reader.address(value, path)
                    case "syslog_tcp": config.logs.syslogTCP = try reader.address(value, path)
                    case "syslog_udp": config.logs.syslogUDP = try reader.address(value, path)
                    case "max_line_length": config.logs.maxLineBytes = try reader.bytes(value, path, range: 256...(64 << 20))
                    case "max_tcp_connections": config.logs.maxTCPConnections = try reader.int(value, path, range: 1...1_000_000)
                    case "tcp_tls": config.logsTCPTLS = try reader.bool(value, path)
                    case "receive_buffer": config.logs.receiveBufferBytes = try reader.bytes(value, path, range: 4096...(1 << 30))
                    case "writers": config.logs.writers = try reader.int(value, path, range: 1...256)
                    case "ring_capacity": config.logs.ringCapacity = try reader.int(value, path, range: 2...(1 << 20))
                    case "label_fields":
                        config.logs.labels.labelFields = try reader.strings(value, path)
                        if let problem = config.logs.labels.problem { throw reader.error(value, path, problem) }
                    case "max_entries_limit_per_query": config.logQuery.maxEntries = try reader.int(value, path, range: 1...10_000_000)
                    case "max_query_series": config.logQuery.maxSeries = try reader.int(value, path, range: 1...10_000_000)
                    case "query_timeout": config.logQuery.timeout = .milliseconds(try reader.duration(value, path, minimum: 1))
                    case "max_push_size": config.maxPushBytes = try reader.bytes(value, path, range: (64 << 10)...(1 << 30))
                    case "max_concurrent_pushes": config.maxConcurrentPushes = try reader.int(value, path, range: 1...10_000)
                    case "max_label_value_length":
                        config.logs.labels.maxLabelValueBytes = try reader.int(value, path, range: 1...65_535)
                    case "storage":
                        try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                            try readLogStore(key, value, path, reader: reader, into: &config.logStore, fsyncInterval: &logFsyncInterval)
                        }
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "report":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "timezone":
                        let name = try reader.string(value, path)
                        guard let zone = TimeZone(identifier: name) else {
                            throw reader.error(value, path, "unknown time zone \"\(name)\" (an IANA name such as Europe/Berlin, or UTC)")
                        }
                        config.report.timeZone = zone
                    case "failure_window": config.report.failureWindowMillis = try reader.duration(value, path, minimum: 0)
                    case "max_services": config.report.maxServices = try reader.int(value, path, range: 1...1_000_000)
                    case "health":
                        try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                            try readHealthQuery(key, value, path, reader: reader, into: &config.report.health)
                        }
                    case "daily":
                        try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                            switch key {
                            case "at":
                                let text = try reader.string(value, path)
                                let parts = text.split(separator: ":")
                                guard !text.isEmpty else {
                                    config.report.dailyAtMinutes = nil
                                    return
                                }
                                guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else {
                                    throw reader.error(value, path, "expected HH:MM, such as \"07:00\", or \"\" for never")
                                }
                                config.report.dailyAtMinutes = h * 60 + m
                            case "webhook":
                                let url = try reader.string(value, path)
                                guard url.isEmpty || url.hasPrefix("http://") || url.hasPrefix("https://") else {
                                    throw reader.error(value, path, "expected an http:// or https:// URL")
                                }
                                config.report.webhookURL = url.isEmpty ? nil : url
                            case "webhook_format":
                                let format = try reader.string(value, path)
                                guard ["json", "text"].contains(format) else { throw reader.error(value, path, "json or text") }
                                config.report.webhookFormat = format
                            case "webhook_attempts": config.report.webhookAttempts = try reader.int(value, path, range: 1...100)
                            default: throw reader.unknown(key, value, path)
                            }
                        }
                    case "services":
                        try reader.section(value, path: path) { service, value, path throws(ConfigError) in
                            var queries = config.report.serviceHealth[service] ?? config.report.health
                            try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                                if key == "slo_objective" {
                                    let objective = try reader.double(value, path)
                                    guard objective > 0, objective < 1 else { throw reader.error(value, path, "an objective is between 0 and 1, such as 0.999") }
                                    config.report.sloObjectives[service] = objective
                                } else {
                                    try readHealthQuery(key, value, path, reader: reader, into: &queries)
                                    config.report.serviceHealth[service] = queries
                                }
                            }
                        }
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "remote_write":
                config.remoteWrite = try readRemoteWrite(value, path, reader: reader)
            case "loki_push":
                config.lokiPush = try readLokiPush(value, path, reader: reader)
            case "agent":
                config.agent = try readAgent(value, path, reader: reader)
            case "limits":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "max_labels_per_series": config.labelLimits.maxLabels = try reader.int(value, path, range: 1...10_000)
                    case "max_label_name_length": config.labelLimits.maxNameBytes = try reader.bytes(value, path, range: 1...(1 << 20))
                    case "max_label_value_length": config.labelLimits.maxValueBytes = try reader.bytes(value, path, range: 1...(1 << 24))
                    case "max_series": config.seriesLimits.maxSeries = try reader.int(value, path, range: 1...1_000_000_000)
                    case "max_series_per_metric": config.seriesLimits.maxSeriesPerMetric = try reader.int(value, path, range: 1...1_000_000_000)
                    case "push_rate_per_client": config.pushRateBytesPerSecond = try reader.bytes(value, path, range: 0...(1 << 40))
                    case "push_burst_per_client": config.pushBurstBytes = try reader.bytes(value, path, range: 0...(1 << 40))
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "events":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "max_events": config.maxEvents = try reader.int(value, path, range: 1...10_000_000)
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "self_monitoring":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "interval": config.selfMonitoring.intervalMillis = try reader.duration(value, path, minimum: 0)
                    case "labels":
                        try reader.section(value, path: path) { name, label, path throws(ConfigError) in
                            guard Labels.isValidName(name), name != Labels.metricName else {
                                throw reader.error(label, path, "\(name) is not a valid label name")
                            }
                            config.selfMonitoring.labels[name] = try reader.string(label, path)
                        }
                    default: throw reader.unknown(key, value, path)
                    }
                }
            default:
                throw reader.unknown(key, value, path)
            }
        }
        try reader.throwProblems()
        if let fsyncInterval, case .interval = config.storage.fsync { config.storage.fsync = .interval(fsyncInterval) }
        if let logFsyncInterval, case .interval = config.logStore.fsync { config.logStore.fsync = .interval(logFsyncInterval) }
        return config
    }
}

/// Typed reads of YAML nodes, with errors that point at the line. A key
/// whose value is wrong does not stop the reading: `section` notes its
/// problem and goes on with the next key, and the loader ends with
/// `throwProblems()`, so a file's every problem is reported at once.
struct Reader {
    let file: String
    private let problems = Problems()

    /// The problems noted so far (a box: the reader is passed by value into nested sections).
    private final class Problems {
        var list: [ConfigError] = []
    }

    init(file: String) {
        self.file = file
    }

    /// Throws the problems noted, if any: the first, carrying the others.
    func throwProblems() throws(ConfigError) {
        guard var first = problems.list.first else { return }
        first.others = Array(problems.list.dropFirst())
        problems.list.removeAll()
        throw first
    }

    func error(_ node: Node, _ path: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark.map { $0.line }, key: path, message: message)
    }

    func unknown(_ key: String, _ node: Node, _ path: String) -> ConfigError {
        error(node, path, "unknown key")
    }

    func section(_ node: Node, path: String, _ body: (String, Node, String) throws(ConfigError) -> Void) throws(ConfigError) {
        guard let mapping = node.mapping else { throw error(node, path, "expected a mapping of keys to values") }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                problems.list.append(error(keyNode, path, "keys must be strings"))
                continue
            }
            do {
                try body(key, value, path.isEmpty ? key : "\(path).\(key)")
            } catch {
                problems.list.append(contentsOf: error.all)
            }
        }
    }

    func bool(_ node: Node, _ path: String) throws(ConfigError) -> Bool {
        switch try string(node, path).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(node, path, "expected true or false")
        }
    }

    func string(_ node: Node, _ path: String) throws(ConfigError) -> String {
        guard let scalar = node.scalar else { throw error(node, path, "expected a string") }
        return scalar.string
    }

    func int(_ node: Node, _ path: String, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let value = Int(try string(node, path)) else { throw error(node, path, "expected a whole number") }
        guard range.contains(value) else { throw error(node, path, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    func double(_ node: Node, _ path: String) throws(ConfigError) -> Double {
        guard let value = Double(try string(node, path)), value.isFinite else { throw error(node, path, "expected a number") }
        return value
    }

    func duration(_ node: Node, _ path: String, minimum: Int64) throws(ConfigError) -> Int64 {
        let text = try string(node, path)
        let value: Int64
        do {
            value = try parseDuration(text)
        } catch {
            throw self.error(node, path, "expected a duration such as 10s, 5m or 1h30m: \(error.reason)")
        }
        guard value >= minimum else { throw error(node, path, "must be at least \(formatDuration(minimum))") }
        return value
    }

    /// A duration for a setting kept in nanoseconds: at most 292 years, what they can hold.
    func durationNanos(_ node: Node, _ path: String, minimum: Int64) throws(ConfigError) -> Int64 {
        let (nanos, overflow) = try duration(node, path, minimum: minimum).multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { throw error(node, path, "must be at most 292y") }
        return nanos
    }

    func bytes(_ node: Node, _ path: String, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string(node, path)
        guard let value = parseByteSize(text) else {
            throw error(node, path, "expected a size such as 65536, 64KiB or 8MiB")
        }
        guard range.contains(value) else { throw error(node, path, "must be between \(range.lowerBound) and \(range.upperBound) bytes") }
        return value
    }

    /// `host:port`, or an empty string / `off` to disable the listener.
    func address(_ node: Node, _ path: String) throws(ConfigError) -> HostPort? {
        let text = try string(node, path)
        if text.isEmpty || text == "off" { return nil }
        guard let address = HostPort(parsing: text) else { throw error(node, path, "expected HOST:PORT, or off") }
        return address
    }

    func fsyncPolicy(_ node: Node, _ path: String) throws(ConfigError) -> FsyncPolicy {
        switch try string(node, path) {
        case "always": return .always
        case "interval": return .interval(1_000)
        case "never": return .never
        default: throw error(node, path, "expected always, interval or never")
        }
    }

    /// A list of strings.
    func strings(_ node: Node, _ path: String) throws(ConfigError) -> [String] {
        guard let sequence = node.sequence else { throw error(node, path, "expected a list such as [service, level]") }
        var values: [String] = []
        for item in sequence { values.append(try string(item, path)) }
        return values
    }

    /// A list of durations, ascending, each a multiple of the one before.
    func durations(_ node: Node, _ path: String) throws(ConfigError) -> [Int64] {
        guard let sequence = node.sequence else { throw error(node, path, "expected a list such as [12h, 3d]") }
        var values: [Int64] = []
        for item in sequence {
            let value = try duration(item, path, minimum: 60_000)
            if let last = values.last, value <= last || value % last != 0 {
                throw error(item, path, "each range must be a multiple of the one before it")
            }
            values.append(value)
        }
        return values
    }

    func logLevel(_ node: Node, _ path: String) throws(ConfigError) -> Logger.Level {
        let text = try string(node, path)
        guard let level = Logger.Level(rawValue: text) else {
            throw error(node, path, "expected one of trace, debug, info, notice, warning, error, critical")
        }
        return level
    }

    func quantiles(_ node: Node, _ path: String) throws(ConfigError) -> [Double] {
        guard let sequence = node.sequence else { throw error(node, path, "expected a list such as [0.5, 0.99]") }
        var values: [Double] = []
        for item in sequence {
            let q = try double(item, path)
            guard q > 0, q < 1 else { throw error(item, path, "quantiles must be between 0 and 1 (exclusive)") }
            values.append(q)
        }
        guard !values.isEmpty else { throw error(node, path, "at least one quantile is needed") }
        return Array(Set(values)).sorted()
    }
}

/// Parses `65536`, `64KiB`, `8MiB`, `1GiB`, `10KB`, `5MB`.
public func parseByteSize(_ text: String) -> Int? {
    let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
                                  ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)]
    for (suffix, factor) in units where text.hasSuffix(suffix) {
        guard let number = Int(text.dropLast(suffix.count).trimmingSpaces()), number >= 0 else { return nil }
        let (value, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : value
    }
    return Int(text)
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}

/// One key of `logs.storage`.
private func readLogStore(
    _ key: String, _ value: Node, _ path: String, reader: Reader, into options: inout LogStoreOptions, fsyncInterval: inout Int64?
) throws(ConfigError) {
    switch key {
    case "retention": options.retentionNanos = try reader.durationNanos(value, path, minimum: 60_000)
    case "max_bytes":
        let text = try reader.string(value, path)
        options.maxBytes = text == "0" ? 0 : Int64(try reader.bytes(value, path, range: (1 << 20)...Int.max))
    case "max_streams": options.maxStreams = try reader.int(value, path, range: 1...10_000_000)
    case "max_labels_per_stream": options.maxLabelsPerStream = try reader.int(value, path, range: 1...64)
    case "out_of_order_window": options.outOfOrderWindowNanos = try reader.durationNanos(value, path, minimum: 0)
    case "retention_stream": options.retentionStreams = try readRetentionStreams(value, path, reader: reader)
    case "max_future": options.maxFutureNanos = try reader.durationNanos(value, path, minimum: 0)
    case "chunk_size": options.chunkTargetBytes = try reader.bytes(value, path, range: (4 << 10)...(64 << 20))
    case "segment_duration": options.segmentDurationNanos = try reader.durationNanos(value, path, minimum: 1_000)
    case "segment_max_size": options.segmentMaxBytes = try reader.bytes(value, path, range: (1 << 20)...(16 << 30))
    case "head_max_size": options.headMaxBytes = try reader.bytes(value, path, range: (1 << 20)...(64 << 30))
    case "compression_level": options.compressionLevel = Int32(try reader.int(value, path, range: 1...9))
    case "wal_fsync": options.fsync = try reader.fsyncPolicy(value, path)
    case "wal_fsync_interval": fsyncInterval = try reader.duration(value, path, minimum: 1)
    case "wal_segment_size": options.walSegmentBytes = try reader.bytes(value, path, range: (64 << 10)...(1 << 30))
    default: throw reader.unknown(key, value, path)
    }
}

/// `logs.storage.retention_stream`, shaped like Loki's: a list of
/// `{selector, period, out_of_order_window}`, the selector a LogQL stream selector.
private func readRetentionStreams(_ node: Node, _ path: String, reader: Reader) throws(ConfigError) -> [StreamRetention] {
    guard let sequence = node.sequence else {
        throw reader.error(node, path, #"expected a list such as [{selector: '{event=~"deployment|incident"}', period: 400d}]"#)
    }
    var rules: [StreamRetention] = []
    for (index, item) in sequence.enumerated() {
        let itemPath = "\(path)[\(index)]"
        var matchers: [LabelMatcher]?
        var period: Int64?
        var window: Int64?
        try reader.section(item, path: itemPath) { key, value, path throws(ConfigError) in
            switch key {
            case "selector":
                let text = try reader.string(value, path)
                let parsed: LogQLExpr
                do {
                    parsed = try LogQLParser.parse(text)
                } catch {
                    throw reader.error(value, path, "not a LogQL stream selector: \(error)")
                }
                guard case .logs(let selector) = parsed, selector.stages.isEmpty else {
                    throw reader.error(value, path, #"expected a stream selector alone, such as {event=~"deployment|incident"}"#)
                }
                matchers = selector.matchers
            case "period": period = try reader.durationNanos(value, path, minimum: 60_000)
            case "out_of_order_window": window = try reader.durationNanos(value, path, minimum: 0)
            default: throw reader.unknown(key, value, path)
            }
        }
        guard let matchers else { throw reader.error(item, itemPath, "missing `selector`") }
        guard let period else { throw reader.error(item, itemPath, "missing `period`") }
        rules.append(StreamRetention(matchers: matchers, periodNanos: period, outOfOrderWindowNanos: window))
    }
    return rules
}

/// One key of `report.health` or `report.services.NAME`: a PromQL query, checked by
/// parsing it, or `latency_metric`, a metric name.
private func readHealthQuery(
    _ key: String, _ value: Node, _ path: String, reader: Reader, into queries: inout HealthQueries
) throws(ConfigError) {
    let text = try reader.string(value, path)
    if key == "latency_metric" {
        let name = text.replacingOccurrences(of: "$service", with: "service")
        // A valid name is one the naming rule leaves as it is.
        guard !name.isEmpty, MetricNaming.metricName(Array(name.utf8)) == name else { throw reader.error(value, path, "expected a metric name such as $service_latency_seconds (a timer's output name)") }
        queries.latencyMetric = text
        return
    }
    do {
        _ = try Parser.parse(text.replacingOccurrences(of: "$service", with: "service"))
    } catch {
        throw reader.error(value, path, "not PromQL: \(error)")
    }
    switch key {
    case "request_rate": queries.requestRate = text
    case "error_ratio": queries.errorRatio = text
    case "p99_latency": queries.p99Latency = text
    default: throw reader.unknown(key, value, path)
    }
}
