/// The shard of each recently routed metric name, so that a name is
/// sanitised and hashed as its output family once rather than on every line.
///
/// Direct-mapped on the name's 64-bit hash (seeded by the metric kind),
/// which the router computes anyway for the series key; an entry holds that
/// hash whole, so a wrong shard needs two names that collide in 64 bits.
/// The table is allocated only once its router has routed `warmUp` lines,
/// so idle connections cost nothing; the owner calls `free` when done.
struct FamilyShardCache {
    private struct Entry {
        var nameHash: UInt64
        /// The shard, or -1 for an empty slot.
        var shard: Int32
    }

    /// Lines a router routes before the table is allocated.
    static let warmUp = 1024
    private let slotBits: Int
    private var entries: UnsafeMutablePointer<Entry>?
    private var routed = 0

    /// A cache of `1 << slotBits` entries (16 bytes each).
    init(slotBits: Int) {
        precondition((1...20).contains(slotBits), "slotBits in 1...20")
        self.slotBits = slotBits
    }

    /// The shard of the name hashed to `nameHash`: cached, or from `compute`.
    @inline(__always)
    mutating func shard(forName nameHash: UInt64, compute: () -> Int) -> Int {
        guard let entries else {
            routed += 1
            if routed >= Self.warmUp { allocate() }
            return compute()
        }
        let slot = entries + Int(truncatingIfNeeded: nameHash >> UInt64(64 - slotBits))
        if slot.pointee.nameHash == nameHash, slot.pointee.shard >= 0 { return Int(slot.pointee.shard) }
        let shard = compute()
        slot.pointee = Entry(nameHash: nameHash, shard: Int32(truncatingIfNeeded: shard))
        return shard
    }

    private mutating func allocate() {
        let count = 1 << slotBits
        let table = UnsafeMutablePointer<Entry>.allocate(capacity: count)
        table.initialize(repeating: Entry(nameHash: 0, shard: -1), count: count)
        entries = table
    }

    /// Releases the table; the cache must not be used after.
    func free() {
        entries?.deallocate()
    }
}
