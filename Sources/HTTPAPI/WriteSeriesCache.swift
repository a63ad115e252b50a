#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TelemetryModel

/// The series references of remote_write series recently seen, keyed by
/// the bytes of their label fields as the sender wrote them: a series sent
/// again (every scrape interval, from every sender) is recognised by one
/// hash and one comparison of its bytes, without decoding, validating or
/// looking up its labels again. VictoriaMetrics caches the same way.
///
/// Each cached reference is held (registered) until evicted, so the store
/// keeps those series. Two generations bound it: when the current one
/// fills, the previous one is dropped (its references released) and the
/// current one becomes the previous; a hit in the previous generation moves
/// the entry back to the current one. A series not sent for two
/// generations' worth of new series is forgotten and decoded again when it
/// comes back.
final class WriteSeriesCache: Sendable {
    /// One generation: an open-addressing table of byte keys, the keys
    /// side by side in one arena.
    struct Generation {
        var slots: [Int32]
        var arena: [UInt8] = []
        var starts: [Int] = []
        var hashes: [Int] = []
        var refs: [SeriesRef] = []
        /// Entries moved to the newer generation (not released with this one).
        var moved: [Bool] = []

        init(capacity: Int) {
            slots = [Int32](repeating: -1, count: max(16, (capacity * 2).nextPowerOfTwo))
        }

        var count: Int { refs.count }

        func find(_ key: UnsafeRawBufferPointer, hash: Int) -> Int? {
            slots.withUnsafeBufferPointer { slots in
                arena.withUnsafeBytes { arena in
                    let mask = slots.count - 1
                    var slot = hash & mask
                    while true {
                        let entry = slots[slot]
                        if entry < 0 { return nil }
                        let e = Int(entry)
                        let start = starts[e]
                        let end = e + 1 < starts.count ? starts[e + 1] : arena.count
                        if hashes[e] == hash, end - start == key.count, !moved[e],
                           key.count == 0 || memcmp(arena.baseAddress! + start, key.baseAddress!, key.count) == 0 {
                            return e
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }

        mutating func insert(_ key: UnsafeRawBufferPointer, hash: Int, ref: SeriesRef) {
            let mask = slots.count - 1
            var slot = hash & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(refs.count)
            starts.append(arena.count)
            arena.append(contentsOf: key)
            hashes.append(hash)
            refs.append(ref)
            moved.append(false)
        }
    }

    struct State {
        var current: Generation
        var previous: Generation
        /// Requests between `begin` and `end`: they may still append through
        /// references this cache evicted meanwhile.
        var inFlight = 0
        /// Evicted references, released once no request that might use them is in flight.
        var evicted: [SeriesRef] = []
    }

    let capacity: Int
    private let state: Mutex<State>

    /// `capacity`: series per generation (so up to twice as many are held).
    init(capacity: Int) {
        self.capacity = max(1, capacity)
        state = Mutex(State(current: Generation(capacity: self.capacity), previous: Generation(capacity: 0)))
    }

    static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: key)
        return hasher.finalize()
    }

    /// Starts a request: the cached references of `keys` (nil: not cached),
    /// in one lock. They stay valid until the matching `end`.
    func begin(_ keys: [UnsafeRawBufferPointer?]) -> [SeriesRef?] {
        let hashes = keys.map { $0.map(Self.hash) }
        return state.withLock { state in
            state.inFlight += 1
            var found: [SeriesRef?] = []
            found.reserveCapacity(keys.count)
            for (key, hash) in zip(keys, hashes) {
                guard let key, let hash else {
                    found.append(nil)
                    continue
                }
                if let e = state.current.find(key, hash: hash) {
                    found.append(state.current.refs[e])
                } else if let e = state.previous.find(key, hash: hash) {
                    let ref = state.previous.refs[e]
                    state.previous.moved[e] = true
                    found.append(ref)
                    // Ownership of the reference moves with the entry.
                    Self.add(key, hash: hash, ref: ref, to: &state, capacity: capacity)
                } else {
                    found.append(nil)
                }
            }
            return found
        }
    }

    /// Caches newly registered references; returns the caller's own
    /// references that it must release: duplicates of entries another
    /// request cached first.
    func insert(_ entries: [(key: UnsafeRawBufferPointer, ref: SeriesRef)]) -> [SeriesRef] {
        let hashes = entries.map { Self.hash($0.key) }
        return state.withLock { state in
            var release: [SeriesRef] = []
            for (entry, hash) in zip(entries, hashes) {
                if state.current.find(entry.key, hash: hash) != nil {
                    release.append(entry.ref)
                    continue
                }
                Self.add(entry.key, hash: hash, ref: entry.ref, to: &state, capacity: capacity)
            }
            return release
        }
    }

    /// Ends a request; returns the evicted references to release now that
    /// no request in flight can be using them.
    func end() -> [SeriesRef] {
        state.withLock { state in
            state.inFlight -= 1
            guard state.inFlight == 0, !state.evicted.isEmpty else { return [] }
            defer { state.evicted = [] }
            return state.evicted
        }
    }

    /// Adds to the current generation, rotating first when it is full (the
    /// previous generation's references wait in `evicted`).
    private static func add(_ key: UnsafeRawBufferPointer, hash: Int, ref: SeriesRef, to state: inout State, capacity: Int) {
        if state.current.count >= capacity {
            let old = state.previous
            state.evicted += zip(old.refs, old.moved).compactMap { $0.1 ? nil : $0.0 }
            state.previous = state.current
            state.current = Generation(capacity: capacity)
        }
        state.current.insert(key, hash: hash, ref: ref)
    }

    /// Forgets every entry and returns every held reference, to release (in tests).
    func drain() -> [SeriesRef] {
        state.withLock { state in
            let held = state.current.refs + zip(state.previous.refs, state.previous.moved).compactMap { $0.1 ? nil : $0.0 }
                + state.evicted
            state.current = Generation(capacity: capacity)
            state.previous = Generation(capacity: 0)
            state.evicted = []
            return held
        }
    }
}

extension Int {
    fileprivate var nextPowerOfTwo: Int {
        self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
    }
}
