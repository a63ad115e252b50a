import DurableFiles

/// The log store's settings (`logs.storage:` in Config/tally.yaml, which
/// documents each one and its default).
public struct LogStoreOptions: Sendable {
    /// Raw bytes of a stream's entries before its chunk is cut and compressed.
    public var chunkTargetBytes = 1 << 20
    /// How often the cut chunks are written out as a segment file (nanoseconds).
    public var segmentDurationNanos: Int64 = 3_600_000_000_000
    /// A segment is written early once its chunks take this many compressed bytes.
    public var segmentMaxBytes = 64 << 20
    /// A segment is written early once the streams' uncut entries take this many bytes.
    public var headMaxBytes = 256 << 20
    /// How far behind its stream's newest entry an entry may be (nanoseconds).
    public var outOfOrderWindowNanos: Int64 = 3_600_000_000_000
    /// How far ahead of the clock an entry may be (nanoseconds).
    public var maxFutureNanos: Int64 = 600_000_000_000
    /// Segments wholly older than this (behind the clock) are deleted (nanoseconds).
    public var retentionNanos: Int64 = 15 * 86_400_000_000_000
    /// Streams with a retention and out-of-order window of their own; the first matching rule applies.
    public var retentionStreams: [StreamRetention] = []
    /// When above zero, the oldest segments are deleted until they take at most this many bytes
    /// (only segments under `retentionNanos`: those of `retentionStreams` keep their period).
    public var maxBytes: Int64 = 0
    /// Distinct streams the head holds at most; entries of a new stream beyond it are refused.
    public var maxStreams = 10_000
    /// Labels a stream may carry at most (Loki's default).
    public var maxLabelsPerStream = 15
    /// zlib level for chunks (1 fastest ... 9 smallest).
    public var compressionLevel: Int32 = 6
    public var walSegmentBytes = 128 << 20
    public var fsync: FsyncPolicy = .interval(1_000)
    /// Inflated chunks kept in memory for queries, in bytes.
    public var chunkCacheBytes = 64 << 20

    public init() {}
}
