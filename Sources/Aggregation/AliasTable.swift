/// An open-addressing hash table from a key hash to an alias index, with
/// linear probing and backward-shift deletion (no tombstones). Each slot
/// holds the hash beside the index, so a probe reads one cache line. Equality
/// of the keys themselves is the caller's test, passed to `find`.
struct AliasTable {
    struct Slot {
        var hash: UInt64
        /// The alias index, or -1 when empty.
        var value: Int32
    }

    private var slots: [Slot]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(hash: 0, value: -1), count: size)
        mask = size - 1
    }

    @inline(__always)
    func find(_ hash: UInt64, _ matches: (Int32) -> Bool) -> Int32? {
        slots.withUnsafeBufferPointer { table in
            var i = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = table[i]
                if slot.value < 0 { return nil }
                if slot.hash == hash, matches(slot.value) { return slot.value }
                i = (i + 1) & mask
            }
        }
    }

    mutating func insert(_ hash: UInt64, _ value: Int32) {
        if (count + 1) * 4 > slots.count * 3 { rebuild(size: slots.count * 2) }
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i].value >= 0 { i = (i + 1) & mask }
        slots[i] = Slot(hash: hash, value: value)
        count += 1
    }

    /// Removes the entry for `value` stored under `hash`.
    mutating func remove(_ hash: UInt64, _ value: Int32) {
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i].value >= 0, slots[i].value != value { i = (i + 1) & mask }
        guard slots[i].value == value else { return }
        // Backward shift: pull later entries of the probe run into the hole.
        var hole = i
        var j = (i + 1) & mask
        while slots[j].value >= 0 {
            let home = Int(truncatingIfNeeded: slots[j].hash) & mask
            // Move j into the hole unless its home lies cyclically in (hole, j].
            if (j - home) & mask >= (j - hole) & mask {
                slots[hole] = slots[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        slots[hole].value = -1
        count -= 1
        if slots.count > 1024, count * 8 < slots.count { rebuild(size: slots.count / 2) }
    }

    private mutating func rebuild(size: Int) {
        let old = slots
        slots = Array(repeating: Slot(hash: 0, value: -1), count: size)
        mask = size - 1
        count = 0
        for slot in old where slot.value >= 0 {
            var i = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[i].value >= 0 { i = (i + 1) & mask }
            slots[i] = slot
            count += 1
        }
    }
}
