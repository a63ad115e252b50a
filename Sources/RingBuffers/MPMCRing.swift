import Synchronization

/// A bounded, lock-free queue for many producers and many consumers (Dmitry
/// Vyukov's design): a power-of-two array of slots, each with a sequence
/// number that says whose turn it is. A push into a full ring fails at once;
/// it never blocks and never grows. Tally uses it as the input of each
/// aggregation shard (many receive loops, one shard) and as the pool of
/// reusable batches (one shard returns, many loops take).
///
/// Invariants that make the unchecked `Sendable` sound:
/// - slot `i` holds an initialised element exactly when its sequence equals
///   `position + 1` for the position `p` with `p & mask == i` that claimed it;
/// - a producer writes a slot only after winning the CAS on `enqueuePosition`
///   for it, and publishes it with a release store of the sequence; a consumer
///   reads it only after an acquire load sees that sequence, and winning the
///   CAS on `dequeuePosition`; so each element has one owner at a time.
public final class MPMCRing<Element: Sendable>: @unchecked Sendable {
    /// The number of slots, a power of two.
    public let capacity: Int
    private let mask: Int
    private let sequences: UnsafeMutablePointer<Atomic<Int>>
    private let slots: UnsafeMutablePointer<Element>
    /// Both positions, 128 bytes apart so producers and consumers do not
    /// share a cache line (index 0: enqueue, index 16: dequeue).
    private let positions: UnsafeMutablePointer<Atomic<Int>>
    private static var dequeueIndex: Int { 16 }

    /// Creates a ring of at least `minimumCapacity` slots (rounded up to a power of two, at least 2).
    public init(minimumCapacity: Int) {
        precondition(minimumCapacity > 0 && minimumCapacity <= 1 << 30, "ring capacity out of range")
        var size = 2
        while size < minimumCapacity { size <<= 1 }
        capacity = size
        mask = size - 1
        sequences = .allocate(capacity: size)
        for i in 0..<size { (sequences + i).initialize(to: Atomic(i)) }
        slots = .allocate(capacity: size)
        positions = .allocate(capacity: 17)
        for i in 0..<17 { (positions + i).initialize(to: Atomic(0)) }
    }

    /// Starts both positions at `start`, so tests can place the wrap-around
    /// point anywhere. Only valid on a new, empty ring.
    public convenience init(minimumCapacity: Int, startingAt start: Int) {
        self.init(minimumCapacity: minimumCapacity)
        for i in 0..<capacity {
            let position = start + ((i - start) & mask)
            sequences[i].store(position, ordering: .relaxed)
        }
        positions[0].store(start, ordering: .relaxed)
        positions[Self.dequeueIndex].store(start, ordering: .relaxed)
    }

    deinit {
        while pop() != nil {}
        for i in 0..<capacity { (sequences + i).deinitialize(count: 1) }
        sequences.deallocate()
        slots.deallocate()
        positions.deinitialize(count: 17)
        positions.deallocate()
    }

    /// Appends an element; returns false (and keeps nothing) when the ring is full.
    @discardableResult
    public func push(_ element: consuming Element) -> Bool {
        var position = positions[0].load(ordering: .relaxed)
        while true {
            let slot = position & mask
            let sequence = sequences[slot].load(ordering: .acquiring)
            let difference = sequence &- position
            if difference == 0 {
                let (exchanged, current) = positions[0].weakCompareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed)
                if exchanged { break }
                position = current
            } else if difference < 0 {
                return false
            } else {
                position = positions[0].load(ordering: .relaxed)
            }
        }
        let slot = position & mask
        (slots + slot).initialize(to: element)
        // Release: the element's bytes are visible before its turn is announced.
        sequences[slot].store(position &+ 1, ordering: .releasing)
        return true
    }

    /// Removes the oldest element, or returns nil when the ring is empty.
    public func pop() -> Element? {
        var position = positions[Self.dequeueIndex].load(ordering: .relaxed)
        while true {
            let slot = position & mask
            let sequence = sequences[slot].load(ordering: .acquiring)
            let difference = sequence &- (position &+ 1)
            if difference == 0 {
                let (exchanged, current) = positions[Self.dequeueIndex].weakCompareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed)
                if exchanged { break }
                position = current
            } else if difference < 0 {
                return nil
            } else {
                position = positions[Self.dequeueIndex].load(ordering: .relaxed)
            }
        }
        let slot = position & mask
        let element = (slots + slot).move()
        // Release: the slot is empty before producers may reuse it a lap later.
        sequences[slot].store(position &+ mask &+ 1, ordering: .releasing)
        return element
    }

    /// Pops up to `limit` elements, handing each to `body`; returns how many.
    @discardableResult
    public func drain(limit: Int = .max, _ body: (Element) -> Void) -> Int {
        var count = 0
        while count < limit, let element = pop() {
            body(element)
            count += 1
        }
        return count
    }

    /// An estimate of the number of elements (exact when no push or pop runs).
    public var approximateCount: Int {
        let tail = positions[0].load(ordering: .relaxed)
        let head = positions[Self.dequeueIndex].load(ordering: .relaxed)
        return max(0, min(capacity, tail &- head))
    }
}
