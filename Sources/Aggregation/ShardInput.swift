import RingBuffers

/// The way into one aggregation shard: its ring of filled batches and the
/// pool of empty ones. Shared by every receive loop and the shard itself.
public final class ShardInput: Sendable {
    public let index: Int
    /// Filled batches waiting for the shard.
    public let ring: MPMCRing<RecordBatch>
    /// Empty batches to reuse, so the steady state allocates nothing.
    let pool: MPMCRing<RecordBatch>

    public init(index: Int, ringCapacity: Int) {
        self.index = index
        ring = MPMCRing(minimumCapacity: ringCapacity)
        pool = MPMCRing(minimumCapacity: ringCapacity)
    }

    /// An empty batch from the pool, or a new one.
    func takeBatch() -> RecordBatch {
        pool.pop() ?? RecordBatch()
    }

    /// Hands an applied batch back for reuse (dropped when the pool is full).
    public func recycle(_ batch: RecordBatch) {
        batch.reset()
        pool.push(batch)
    }
}
