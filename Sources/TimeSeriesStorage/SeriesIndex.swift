/// The head's series by label set: an open-addressing table of slots keyed
/// by the hash of each series' symbol ids, 8 bytes a series (a `[Labels: Int]`
/// took about 35). The caller says whether a slot holds the label set sought.
struct SeriesIndex: Sendable {
    /// `hash << 32 | (slot + 1)`, or 0 for an empty bucket; linear probing.
    private var buckets: [UInt64] = Array(repeating: 0, count: 16)
    private(set) var count = 0

    /// The slot whose series has this hash and passes `isMatch`.
    func find(hash: UInt32, _ isMatch: (Int) -> Bool) -> Int? {
        let mask = buckets.count - 1
        var b = Int(hash) & mask
        while buckets[b] != 0 {
            let entry = buckets[b]
            if UInt32(truncatingIfNeeded: entry >> 32) == hash {
                let slot = Int(UInt32(truncatingIfNeeded: entry)) - 1
                if isMatch(slot) { return slot }
            }
            b = (b + 1) & mask
        }
        return nil
    }

    mutating func insert(hash: UInt32, slot: Int) {
        if (count + 1) * 4 > buckets.count * 3 {
            let old = buckets
            buckets = Array(repeating: 0, count: old.count * 2)
            for entry in old where entry != 0 { place(entry) }
        }
        place(UInt64(hash) << 32 | UInt64(slot + 1))
        count += 1
    }

    /// Removes a slot filed under `hash` (nothing when it is not there).
    mutating func remove(hash: UInt32, slot: Int) {
        let mask = buckets.count - 1
        let entry = UInt64(hash) << 32 | UInt64(slot + 1)
        var hole = Int(hash) & mask
        while buckets[hole] != entry {
            if buckets[hole] == 0 { return }
            hole = (hole + 1) & mask
        }
        var next = hole
        while true {
            next = (next + 1) & mask
            guard buckets[next] != 0 else { break }
            let home = Int(UInt32(truncatingIfNeeded: buckets[next] >> 32)) & mask
            if !staysInPlace(home: home, hole: hole, next: next) {
                buckets[hole] = buckets[next]
                hole = next
            }
        }
        buckets[hole] = 0
        count -= 1
    }

    /// Bytes held.
    var footprint: Int { buckets.capacity * 8 }

    private mutating func place(_ entry: UInt64) {
        let mask = buckets.count - 1
        var b = Int(UInt32(truncatingIfNeeded: entry >> 32)) & mask
        while buckets[b] != 0 { b = (b + 1) & mask }
        buckets[b] = entry
    }
}

/// Backward-shift deletion in a linear-probing table: whether the entry at
/// `next`, whose home bucket is `home`, stays where it is when `hole` is
/// emptied (its home lies cyclically in `(hole, next]`), or moves into the hole.
func staysInPlace(home: Int, hole: Int, next: Int) -> Bool {
    hole <= next ? (home > hole && home <= next) : (home > hole || home <= next)
}
