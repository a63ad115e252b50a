import Aggregation
import Forwarding
import HTTPAPI
import DurableFiles
import IngestServer
import Logging
import Retrospective
import LogQL
import LogStorage
import PromQL
import TelemetryModel
import TimeSeriesStorage

/// Every setting of tally, with its default. `Config/tally.yaml` documents
/// each one; `ConfigLoader` reads that file into this, and command-line flags
/// override what the file says.
public struct TallyConfig: Sendable {
    /// Where the settings came from, for `/api/v1/status/config` and `flags`.
    public struct Source: Sendable {
        /// The `--config` file and its text; nil: the embedded defaults alone.
        public var file: String?
        public var text: String?
        /// The command-line flags given, by name.
        public var flags: [String: String] = [:]

        public init() {}
    }

    public var source = Source()
    /// The last queries kept for `/api/v1/status/top_queries` (0: none).
    public var lastQueriesCount = 2_000
    /// Where tally keeps its data.
    public var dataDir = "./data"
    /// The aggregation interval (milliseconds).
    public var flushIntervalMillis: Int64 = 10_000
    public var logLevel: Logger.Level = .info
    /// The HTTP API, `/metrics` and the probes.
    public var http = HostPort(host: "0.0.0.0", port: 9470)
    /// The OTLP/HTTP receiver's address (`otlp.listen`); nil: off.
    public var otlpListen: HostPort? = HostPort(host: "0.0.0.0", port: 4318)
    /// The OTLP receiver's limits (`otlp.max_request_size` and the rest).
    public var otlp = OTLPSettings()
    /// The largest request body (forms, POST /api/v1/events); log pushes have their own limit.
    public var maxBodyBytes = 4 << 20
    /// HTTP connections open at once; past it the server stops accepting until
    /// one closes (Prometheus's `--web.max-connections`, 512 too).
    public var maxHTTPConnections = 512
    /// Bytes a second each client may push over HTTP (0: no limit), and the burst above it.
    public var pushRateBytesPerSecond = 64 << 20
    public var pushBurstBytes = 256 << 20
    /// How many series remote_write and OTLP may make the store hold, in all and per metric name.
    public var seriesLimits = SeriesLimits()
    /// A web config file (credentials, scopes, TLS) for the HTTP and OTLP listeners; nil serves them open.
    public var webConfigFile: String?
    /// TLS on the StatsD TCP listener, and on the logs and syslog TCP listeners, with the web config's certificate.
    public var statsdTCPTLS = false
    public var logsTCPTLS = false
    /// An HTTP connection with no request for this long is closed (milliseconds).
    public var httpIdleTimeoutMillis: Int64 = 300_000
    /// A request head must arrive whole within this long of its first byte (or of the connection's start).
    public var httpReadHeaderTimeoutMillis: Int64 = 30_000
    /// The largest remote_write body (POST /api/v1/write), after snappy.
    public var maxWriteBytes = 64 << 20
    /// remote_write requests stored at once; more are answered 429.
    public var maxConcurrentWrites = 16
    /// remote_write series recognised without decoding, per cache generation.
    public var writeSeriesCacheSize = 500_000
    public var statsd = StatsDListenerConfig()
    /// Names longer than this are rejected (`name_too_long`).
    public var maxNameBytes = 1024
    /// Aggregation shards, each on its own thread.
    public var shards = max(1, System.coreCount)
    /// Batches each shard's ring holds (a batch holds up to 64 KiB of records,
    /// so a full ring holds at most 64 MiB at the default).
    public var ringCapacity = 1024
    /// The cap on active series across all shards.
    public var maxSeries = 1_000_000
    public var aggregation = AggregationConfig()
    /// The storage engine: WAL, head, blocks, compaction, retention.
    public var storage = StorageOptions()
    /// The log listeners and their writers.
    public var logs = LogListenerConfig()
    /// The log store: chunks, segments, WAL, retention.
    public var logStore = TallyConfig.defaultLogStore
    /// LogQL limits: lines per query, series, timeout.
    public var logQuery = LogQLLimits()
    /// The largest Loki push or `/api/v1/logs` body, after decompression.
    public var maxPushBytes = 64 << 20
    /// Pushes stored at once; more are answered 429.
    public var maxConcurrentPushes = 16
    /// The daily retrospective: its time zone and failure window.
    public var report = ReportConfig()
    /// Events and service checks kept in memory.
    public var maxEvents = 10_000
    /// tally's own /metrics stored in its own store.
    public var selfMonitoring = SelfMonitoringConfig()
    /// PromQL limits: timeout, samples, lookback.
    public var query = QueryLimits()
    /// PromQL queries evaluated at once.
    public var maxConcurrentQueries = 20
    /// Where every stored sample is forwarded over Prometheus remote_write.
    public var remoteWrite: [RemoteWriteConfig] = []
    /// Where every stored log entry is forwarded over Loki's push API.
    public var lokiPush: [LokiPushConfig] = []
    /// The labels a series may carry, on every path that creates series.
    public var labelLimits = LabelLimits()
    /// Agent mode: where this tally forwards its StatsD state (nil: not an agent).
    public var agent: AgentConfig?
    /// Most points a range query returns per series.
    public var maxPointsPerSeries = 11_000

    public init() {}

    /// The log store's defaults, with delivery events kept 400 days and
    /// accepted at any age within them, so that a year of history can be
    /// imported and the report can compare against it.
    static var defaultLogStore: LogStoreOptions {
        var options = LogStoreOptions()
        if let events = try? LabelMatcher("event", .regexMatch, "deployment|incident") {
            let days400: Int64 = 400 * 86_400_000_000_000
            options.retentionStreams = [StreamRetention(matchers: [events], periodNanos: days400, outOfOrderWindowNanos: days400)]
        }
        return options
    }
}
