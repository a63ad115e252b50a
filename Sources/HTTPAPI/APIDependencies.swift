import LogQL
import LogStorage
import LogWire
import Prometheus
import PromQL
import Retrospective
import SelfMetrics
import TelemetryModel
import WebSecurity

/// What the HTTP API reads from: the seams it needs, nothing it owns.
public struct APIDependencies: Sendable {
    public var querier: any SeriesQuerier
    public var events: any EventQuerier
    /// Tally's own figures, rendered at `/metrics`.
    public var registry: PrometheusCollectorRegistry
    /// True once every listener is bound (`/readyz`).
    public var isReady: @Sendable () -> Bool
    public var clock: any WallClock
    /// Timeout, sample limit and lookback of PromQL queries.
    public var queryLimits = QueryLimits()
    /// The type of each metric family (`/api/v1/metadata`).
    public var catalog = MetricCatalog()
    /// What `/api/v1/status/buildinfo` reports.
    public var version = "unknown"
    /// PromQL queries evaluated at once; more wait for a slot (up to their timeout).
    public var maxConcurrentQueries = 20
    /// The most points a range query may return per series (Prometheus: 11,000).
    public var maxPointsPerSeries: Int = 11_000
    /// The largest POST body accepted, in bytes.
    public var maxBodyBytes: Int = 1 << 20
    /// The last queries run, for `/api/v1/status/top_queries` (`query.last_queries_count`).
    public var queryLog = QueryLog()
    /// What `/status` and the `/api/v1/status/…` endpoints of the running server report (nil: not served).
    public var serverStatus: ServerStatus?
    /// The most events one `/api/v1/events` answer holds.
    public var maxEventsPerAnswer: Int = 10_000

    /// The head's counts by metric, label and pair (`/api/v1/status/tsdb`; nil: empty figures).
    public var cardinality: (any CardinalitySource)?
    /// The hourly sketches that give the report's p99 latencies (nil: only a PromQL `p99_latency` does).
    public var sketches: (any SketchQuerier)?
    /// The log store, for the Loki API (nil: no log endpoints).
    public var logStore: LogStore?
    /// Limits of LogQL queries.
    public var logLimits = LogQLLimits()
    /// How pushed and posted log records become streams.
    public var logLabels = LogLabelConfig()
    /// Longest log line kept whole from a push.
    public var maxLogLineBytes = 256 << 10
    /// The largest log push body accepted (after decompression), in bytes.
    public var maxPushBytes = 64 << 20
    /// The retrospective's time zone and failure window.
    public var report = ReportConfig()
    /// Log pushes stored at once; more are answered 429.
    public var maxConcurrentPushes = 16
    /// Where remote_write samples go (`POST /api/v1/write`; nil: no receiver).
    public var sampleSink: (any SampleSink)?
    /// The labels a series created through the API may carry (remote_write, OTLP).
    public var labelLimits = LabelLimits()
    /// How many series pushes may make the store hold, in all and per metric name.
    public var seriesLimits = SeriesLimits()
    /// Samples of remote_write and OTLP pushes refused by `limits.max_series_per_metric`, by
    /// metric name, so that the on-call sees which name ran away.
    let seriesPerMetricRefusals: CountersByName
    /// Where agents' StatsD state goes (`POST /api/v1/aggregates`; nil: not taken).
    public var aggregateIntake: (any AggregateIntake)?
    /// The largest remote_write or aggregates body, after snappy, in bytes.
    public var maxWriteBytes = 64 << 20
    /// remote_write requests stored at once; more are answered 429.
    public var maxConcurrentWrites = 16
    /// remote_write series recognised by their bytes without decoding
    /// their labels, per cache generation (two generations are kept).
    public var writeSeriesCacheSize = 500_000
    /// Bytes a second (and the burst) each client may push; nil: no per-client limit.
    public var pushRate: (bytesPerSecond: Int, burst: Int)? {
        didSet { pushRateLimiter = pushRate.map { PushRateLimiter(bytesPerSecond: $0.bytesPerSecond, burst: $0.burst) } }
    }
    /// One limiter shared by the HTTP and OTLP listeners, so a client's pushes count once.
    var pushRateLimiter: PushRateLimiter?
    /// Who may call the API and how (the web config in force; open by default).
    public var access = WebAccess.open()
    /// Re-reads the web config and its certificates (`POST /-/reload`); returns the
    /// problem when the new files were refused. Nil: the endpoint answers 404.
    public var reloadWebConfig: (@Sendable () async -> String?)?

    public init(querier: any SeriesQuerier, events: any EventQuerier, registry: PrometheusCollectorRegistry,
                isReady: @escaping @Sendable () -> Bool, clock: any WallClock) {
        self.querier = querier
        self.events = events
        self.registry = registry
        seriesPerMetricRefusals = CountersByName(
            registry: registry, metricName: "tally_push_series_limit_per_metric_refused_samples",
            help: "Samples of remote_write and OTLP pushes refused because their series would pass limits.max_series_per_metric, by metric name.")
        self.isReady = isReady
        self.clock = clock
    }
}
