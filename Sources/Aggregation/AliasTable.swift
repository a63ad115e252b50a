/// An open-addressing hash table from a key hash to an alias index, with
/// linear probing and backward-shift deletion (no tombstones). Equality of
/// the keys themselves is the caller's test, passed to `find`.
struct AliasTable {
    private var hashes: [UInt64]
    private var slots: [Int32]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        hashes = Array(repeating: 0, count: size)
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    @inline(__always)
    func find(_ hash: UInt64, _ matches: (Int32) -> Bool) -> Int32? {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[i]
            if slot < 0 { return nil }
            if hashes[i] == hash, matches(slot) { return slot }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ hash: UInt64, _ value: Int32) {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        hashes[i] = hash
        slots[i] = value
        count += 1
    }

    /// Removes the entry for `value` stored under `hash`.
    mutating func remove(_ hash: UInt64, _ value: Int32) {
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] >= 0, slots[i] != value { i = (i + 1) & mask }
        guard slots[i] == value else { return }
        // Backward shift: pull later entries of the probe run into the hole.
        var hole = i
        var j = (i + 1) & mask
        while slots[j] >= 0 {
            let home = Int(truncatingIfNeeded: hashes[j]) & mask
            // Move j into the hole if its home is not in (hole, j] cyclically.
            let distanceToHome = (j - home) & mask
            let distanceToHole = (j - hole) & mask
            if distanceToHome >= distanceToHole {
                hashes[hole] = hashes[j]
                slots[hole] = slots[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        slots[hole] = -1
        count -= 1
        if slots.count > 1024, count * 8 < slots.count { shrink() }
    }

    private mutating func grow() { rebuild(size: slots.count * 2) }
    private mutating func shrink() { rebuild(size: slots.count / 2) }

    private mutating func rebuild(size: Int) {
        let oldHashes = hashes
        let oldSlots = slots
        hashes = Array(repeating: 0, count: size)
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        count = 0
        for k in oldSlots.indices where oldSlots[k] >= 0 {
            var i = Int(truncatingIfNeeded: oldHashes[k]) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            hashes[i] = oldHashes[k]
            slots[i] = oldSlots[k]
            count += 1
        }
    }
}
