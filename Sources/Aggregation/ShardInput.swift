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

    /// Empty batches a trimmed pool keeps: a shard that keeps up has a few
    /// in flight; a burst that filled the ring leaves up to its capacity.
    public static let keptAfterTrim = 64

    /// Frees the pooled batches beyond `keeping` and says how many went: a
    /// burst that filled the ring (`ring_capacity` × 64 KiB a shard) would
    /// otherwise hold that memory for good. A receive loop that finds the
    /// pool empty meanwhile makes a batch, as it does in any burst.
    public func trimPool(keeping: Int = ShardInput.keptAfterTrim) -> Int {
        var kept: [RecordBatch] = []
        kept.reserveCapacity(keeping)
        var freed = 0
        while let batch = pool.pop() {
            if kept.count < keeping { kept.append(batch) } else { freed += 1 }
        }
        for batch in kept { pool.push(batch) }
        return freed
    }
}
