/// What the running server says about itself (`/api/v1/status/runtimeinfo`,
/// `config`, `flags`, `listeners`, `storage`, and the `/status` page): filled
/// in by the app once its listeners are bound.
public struct ServerStatus: Sendable {
    /// An address tally serves on.
    public struct Listener: Sendable, Equatable {
        /// What arrives there: `statsd`, `logs`, `syslog`, `http`, `otlp`.
        public var name: String
        /// `udp`, `tcp`, `unix` or `http`.
        public var transport: String
        public var address: String
        public var tls: Bool

        public init(name: String, transport: String, address: String, tls: Bool = false) {
            (self.name, self.transport, self.address, self.tls) = (name, transport, address, tls)
        }
    }

    public var startTimeMillis: Int64
    public var workingDirectory: String
    public var dataDirectory: String
    /// The config file given with `--config`; nil: the embedded defaults.
    public var configFile: String?
    /// That file as loaded, secrets replaced by `<secret>` (empty without a file).
    public var configYAML: String
    /// The command-line flags given, by name (`--http` …).
    public var flags: [String: String]
    public var listeners: [Listener]
    /// How long samples and log lines are kept, milliseconds.
    public var retentionMillis: Int64
    /// Blocks found damaged (and set aside) when the store opened.
    public var corruptionCount: Int
    /// The storage's files now; read on the thread pool (it lists directories).
    public var storage: @Sendable () -> StorageStatus

    public init(startTimeMillis: Int64, workingDirectory: String, dataDirectory: String, configFile: String?, configYAML: String,
                flags: [String: String], listeners: [Listener], retentionMillis: Int64, corruptionCount: Int,
                storage: @escaping @Sendable () -> StorageStatus) {
        self.startTimeMillis = startTimeMillis
        self.workingDirectory = workingDirectory
        self.dataDirectory = dataDirectory
        self.configFile = configFile
        self.configYAML = configYAML
        self.flags = flags
        self.listeners = listeners
        self.retentionMillis = retentionMillis
        self.corruptionCount = corruptionCount
        self.storage = storage
    }
}

/// The storage's files: the WAL's segments, the blocks and the log store's.
public struct StorageStatus: Sendable {
    public struct File: Sendable, Equatable {
        public var name: String
        public var bytes: Int

        public init(name: String, bytes: Int) {
            (self.name, self.bytes) = (name, bytes)
        }
    }

    public struct Block: Sendable, Equatable {
        public var ulid: String
        /// First and last sample, milliseconds.
        public var minTime: Int64
        public var maxTime: Int64
        public var series: Int
        public var samples: Int
        public var bytes: Int
        /// 1 for a block cut from the head, one more per compaction.
        public var level: Int

        public init(ulid: String, minTime: Int64, maxTime: Int64, series: Int, samples: Int, bytes: Int, level: Int) {
            (self.ulid, self.minTime, self.maxTime, self.series, self.samples, self.bytes, self.level) =
                (ulid, minTime, maxTime, series, samples, bytes, level)
        }
    }

    public var walSegments: [File]
    public var headSeries: Int
    public var headChunks: Int
    public var blocks: [Block]
    public var logWALSegments: [File]
    public var logSegments: [File]

    public init(walSegments: [File], headSeries: Int, headChunks: Int, blocks: [Block], logWALSegments: [File], logSegments: [File]) {
        self.walSegments = walSegments
        self.headSeries = headSeries
        self.headChunks = headChunks
        self.blocks = blocks
        self.logWALSegments = logWALSegments
        self.logSegments = logSegments
    }
}
