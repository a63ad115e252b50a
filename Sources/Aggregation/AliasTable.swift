import TelemetryModel

/// The shard's index of aliases (raw spellings of series): an open-addressing
/// hash table with linear probing and backward-shift deletion (no
/// tombstones). A slot carries everything a lookup needs (the hash, where the
/// key bytes are, the kind, the series) and the alias' touched bit, so
/// applying a line reads one slot, the key bytes and the series entry. The
/// storage is managed by hand; pointers to slots stay valid until the next
/// `insert` or `remove`.
struct AliasTable {
    struct Slot {
        var hash: UInt64
        var keyOffset: Int
        var keyLength: Int32
        var series: Int32
        /// The alias index, or -1 when the slot is empty.
        var alias: Int32
        var kind: MetricKind
        /// Set when a line used this spelling since the last flush.
        var touched: Bool
        /// Bytes of the key that are the name (the rest are tags): what an
        /// agent forwards the key as. Fits in the slot's padding.
        var nameLength: UInt16 = 0
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var size: Int
    private var mask: Int
    private(set) var count = 0

    private static let empty = Slot(hash: 0, keyOffset: 0, keyLength: 0, series: -1, alias: -1, kind: .counter, touched: false)

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        self.size = size
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Self.empty, count: size)
    }

    /// Frees the storage. The table must not be used after.
    func free() {
        slots.deallocate()
    }

    /// The slot whose hash is `hash` and for which `matches` holds, or nil.
    @inline(__always)
    func find(_ hash: UInt64, _ matches: (Slot) -> Bool) -> UnsafeMutablePointer<Slot>? {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots + i
            if slot.pointee.alias < 0 { return nil }
            if slot.pointee.hash == hash, matches(slot.pointee) { return slot }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ slot: Slot) {
        if (count + 1) * 4 > size * 3 { rebuild(size: size * 2) }
        var i = Int(truncatingIfNeeded: slot.hash) & mask
        while slots[i].alias >= 0 { i = (i + 1) & mask }
        slots[i] = slot
        count += 1
    }

    /// Removes the slot of `alias`, stored under `hash`.
    mutating func remove(_ hash: UInt64, alias: Int32) {
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i].alias >= 0, slots[i].alias != alias { i = (i + 1) & mask }
        guard slots[i].alias == alias else { return }
        // Backward shift: pull later entries of the probe run into the hole.
        var hole = i
        var j = (i + 1) & mask
        while slots[j].alias >= 0 {
            let home = Int(truncatingIfNeeded: slots[j].hash) & mask
            // Move j into the hole unless its home lies cyclically in (hole, j].
            if (j - home) & mask >= (j - hole) & mask {
                slots[hole] = slots[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        slots[hole] = Self.empty
        count -= 1
        if size > 1024, count * 8 < size { rebuild(size: size / 2) }
    }

    /// Calls `body` with every occupied slot (which it may modify in place,
    /// but not insert or remove).
    func forEachSlot(_ body: (UnsafeMutablePointer<Slot>) -> Void) {
        for i in 0..<size where slots[i].alias >= 0 { body(slots + i) }
    }

    private mutating func rebuild(size newSize: Int) {
        let old = slots
        let oldSize = size
        slots = .allocate(capacity: newSize)
        slots.initialize(repeating: Self.empty, count: newSize)
        size = newSize
        mask = newSize - 1
        count = 0
        for k in 0..<oldSize where old[k].alias >= 0 {
            var i = Int(truncatingIfNeeded: old[k].hash) & mask
            while slots[i].alias >= 0 { i = (i + 1) & mask }
            slots[i] = old[k]
            count += 1
        }
        old.deallocate()
    }
}
