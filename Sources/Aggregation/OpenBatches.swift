/// Per shard, the batch a router is filling. The references are held as
/// `Unmanaged` (retained once when a batch comes in, released when it goes
/// out), so appending a record, once per line, costs no reference counting:
/// a strong reference read from an array is retained and released around
/// every use. Owned by one router; `free` releases what is still held.
struct OpenBatches {
    private let refs: UnsafeMutablePointer<Unmanaged<RecordBatch>>
    let count: Int

    init(_ batches: [RecordBatch]) {
        count = batches.count
        refs = .allocate(capacity: batches.count)
        for (i, batch) in batches.enumerated() { (refs + i).initialize(to: .passRetained(batch)) }
    }

    /// The open batch of a shard; valid until `replace` on that shard.
    @inline(__always)
    subscript(shard: Int) -> Unmanaged<RecordBatch> { refs[shard] }

    /// Puts `fresh` in place of the shard's open batch and returns that batch.
    func replace(_ shard: Int, with fresh: RecordBatch) -> RecordBatch {
        let old = refs[shard].takeRetainedValue()
        refs[shard] = .passRetained(fresh)
        return old
    }

    /// Records held in all open batches.
    var recordCount: Int {
        (0..<count).reduce(0) { total, shard in total + refs[shard]._withUnsafeGuaranteedRef { $0.recordCount } }
    }

    /// Releases the batches; the value must not be used after.
    func free() {
        for shard in 0..<count { refs[shard].release() }
        refs.deallocate()
    }
}
