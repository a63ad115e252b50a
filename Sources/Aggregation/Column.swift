/// Manually managed, growable storage for one of a shard's hot tables.
///
/// The shard reads and writes its per-series state once per line; keeping
/// that state in plain memory (rather than arrays of structs holding class
/// references) means no reference counting and no copy-on-write checks on
/// the hot path. Slots `0..<count` are always initialised. A `Column` is
/// owned by exactly one shard, which frees it in its `deinit`.
struct Column<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    /// Appends an element, growing the storage (and moving `base`) when full.
    mutating func append(_ element: Element) -> Int32 {
        if count == capacity {
            let newCapacity = capacity * 2
            let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
            newBase.moveInitialize(from: base, count: count)
            base.deallocate()
            base = newBase
            capacity = newCapacity
        }
        (base + count).initialize(to: element)
        count += 1
        return Int32(count - 1)
    }

    /// Stores an element in a slot from `free` if there is one (the slot
    /// must hold an initialised element), else appends it; returns the slot.
    mutating func place(_ element: Element, reusing free: inout [Int32]) -> Int32 {
        if let slot = free.popLast() {
            base[Int(slot)] = element
            return slot
        }
        return append(element)
    }

    @inline(__always)
    subscript(index: Int32) -> Element {
        get { base[Int(index)] }
        nonmutating _modify { yield &base[Int(index)] }
    }

    /// Deinitialises and frees the storage. The column must not be used after.
    func free() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

/// Key bytes of every alias, back to back, so a lookup compares against
/// plain memory. Freed keys leave garbage that `compact` reclaims.
struct KeyArena {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var used = 0
    private(set) var garbage = 0

    init(capacity: Int = 64 * 1024) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    /// Copies bytes in; returns their offset.
    mutating func store(_ bytes: UnsafeRawBufferPointer) -> Int {
        if used + bytes.count > capacity {
            var newCapacity = capacity * 2
            while newCapacity < used + bytes.count { newCapacity *= 2 }
            let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            newBase.copyMemory(from: base, byteCount: used)
            base.deallocate()
            base = newBase
            capacity = newCapacity
        }
        let offset = used
        if let source = bytes.baseAddress { (base + offset).copyMemory(from: source, byteCount: bytes.count) }
        used += bytes.count
        return offset
    }

    mutating func release(_ length: Int) {
        garbage += length
    }

    /// Whether enough is garbage to be worth compacting.
    var shouldCompact: Bool { garbage > 1 << 20 && garbage * 2 > used }

    /// Rewrites the arena with only the live keys; `live` yields each live
    /// key's (offset, length) and receives its new offset.
    mutating func compact(_ live: (_ relocate: (Int, Int) -> Int) -> Void) {
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        var newUsed = 0
        let oldBase = base
        live { offset, length in
            (newBase + newUsed).copyMemory(from: oldBase + offset, byteCount: length)
            defer { newUsed += length }
            return newUsed
        }
        oldBase.deallocate()
        base = newBase
        used = newUsed
        garbage = 0
    }

    func free() {
        base.deallocate()
    }
}
