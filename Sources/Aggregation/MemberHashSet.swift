import CPrefetch

/// The distinct 64-bit member hashes of one StatsD set in one interval: an
/// open-addressing table (linear probing, at most three quarters full) in
/// one flat array.
///
/// Members are already hashes, so the table needs no hashing of its own,
/// and a slot is 8 bytes where `Set<UInt64>` seeds and rehashes every
/// insert; a set line is one probe in the common case. Slot value 0 means
/// empty; the member hash 0 is kept as a flag beside the table.
struct MemberHashSet: Sendable {
    private var slots: ContiguousArray<UInt64> = []
    private var hasZero = false
    /// Distinct members held.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Adds a member; a member already present changes nothing.
    @inline(__always)
    mutating func insert(_ member: UInt64) {
        if member == 0 {
            if !hasZero { hasZero = true; count += 1 }
            return
        }
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let added = slots.withUnsafeMutableBufferPointer { table in
            Self.place(member, in: table)
        }
        if added { count += 1 }
    }

    /// Starts bringing the slot where `member`'s probe begins into the cache,
    /// so that an `insert` soon after does not wait for memory.
    @inline(__always)
    func prefetch(_ member: UInt64) {
        slots.withUnsafeBufferPointer { table in
            guard let base = table.baseAddress else { return }
            tally_prefetch_for_write(base + Self.home(member, mask: table.count - 1))
        }
    }

    /// The slot where the probe for `member` begins.
    @inline(__always)
    private static func home(_ member: UInt64, mask: Int) -> Int {
        // Fibonacci hashing: the product's high bits, so even a poorly mixed member spreads.
        Int(truncatingIfNeeded: (member &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Stores `member` (not 0) in a table with a free slot; false when it was there.
    @inline(__always)
    private static func place(_ member: UInt64, in table: UnsafeMutableBufferPointer<UInt64>) -> Bool {
        let mask = table.count - 1
        var i = home(member, mask: mask)
        while true {
            let held = table[i]
            if held == member { return false }
            if held == 0 {
                table[i] = member
                return true
            }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        slots = ContiguousArray(repeating: 0, count: max(4, old.count * 2))
        slots.withUnsafeMutableBufferPointer { table in
            for member in old where member != 0 { _ = Self.place(member, in: table) }
        }
    }

    /// Calls `body` with every member, in no particular order.
    func forEach(_ body: (UInt64) -> Void) {
        if hasZero { body(0) }
        for member in slots where member != 0 { body(member) }
    }

    /// Empties the set; keeps the table when it has at most `keepingUpTo` slots
    /// (a set that stays small does not reallocate every interval, a burst's
    /// large table is released).
    mutating func removeAll(keepingUpTo slotLimit: Int) {
        if slots.count > slotLimit {
            slots = []
        } else if count > 0 {
            slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        hasZero = false
        count = 0
    }
}
