import DurableFiles

/// The storage engine's settings (`storage:` in Config/tally.yaml, which
/// documents each one and its default).
public struct StorageOptions: Sendable {
    /// Samples per head chunk before a new one is cut.
    public var chunkSamples = 120
    /// Longest span of a head chunk (milliseconds).
    public var chunkSpanMillis: Int64 = 2 * 3_600_000
    /// The time range of a block written from the head (milliseconds).
    public var blockDurationMillis: Int64 = 2 * 3_600_000
    /// Ranges that compaction merges adjacent blocks into, ascending; each a
    /// multiple of the previous and of `blockDurationMillis`.
    public var compactionRangesMillis: [Int64] = [12 * 3_600_000, 72 * 3_600_000]
    /// Blocks wholly older than this (behind the newest sample) are deleted.
    public var retentionMillis: Int64 = 15 * 86_400_000
    /// When above zero, the oldest blocks are deleted until the blocks take
    /// at most this many bytes.
    public var maxBytes: Int64 = 0
    /// WAL segment size before rotation.
    public var walSegmentBytes = 128 << 20
    public var fsync: FsyncPolicy = .interval(1_000)
    /// zlib level for block chunk groups (1 fastest … 9 smallest).
    public var compressionLevel: Int32 = 6
    /// Most samples in one block chunk (blocks re-encode the head's chunks).
    public var blockChunkSamples = 4_096
    /// Raw bytes of chunks deflated together as one group.
    public var chunkGroupBytes = 256 << 10
    /// Inflated chunk groups kept in memory for queries, in bytes.
    public var groupCacheBytes = 64 << 20
    public init() {}
}
