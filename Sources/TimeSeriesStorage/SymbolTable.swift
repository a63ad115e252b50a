/// The head's label strings, each distinct one kept once as bytes under a
/// 32-bit id, with a count of the label sets that use it: label sets and
/// postings then hold ids, not strings (Prometheus's and VictoriaMetrics's
/// indexes do the same). Strings are compared by their bytes, as Prometheus
/// compares labels: two spellings Swift's `String` equates (composed and
/// decomposed accents) are two symbols.
///
/// A symbol no label set uses any more is forgotten and its id reused; the
/// bytes it leaves are reclaimed when they outweigh the live ones.
struct SymbolTable: Sendable {
    /// Where an id's bytes are in `arena`.
    private struct Span {
        var start: UInt32
        var length: UInt32
    }

    private var arena: [UInt8] = []
    private var spans: [Span] = []
    /// Per id: how many uses it has (0: free).
    private var uses: [UInt32] = []
    /// Per id: the hash of its bytes (to grow the table and shift entries without rehashing).
    private var hashes: [UInt32] = []
    private var freeIDs: [UInt32] = []
    /// Open addressing with linear probing: id + 1, or 0 for an empty bucket.
    private var buckets: [UInt32] = Array(repeating: 0, count: 16)
    /// Bytes in `arena` that no symbol owns any more.
    private var garbage = 0
    /// Symbols in use.
    private(set) var count = 0

    /// The id of a string, if a label set uses it.
    func find(_ string: String) -> UInt32? {
        var string = string
        return string.withUTF8 { find($0, hash: Self.hash($0)) }
    }

    /// Takes one more use of a string, adding it when new; returns its id.
    mutating func retain(_ string: String) -> UInt32 {
        var string = string
        return string.withUTF8 { bytes in
            let hash = Self.hash(bytes)
            if let id = find(bytes, hash: hash) {
                uses[Int(id)] += 1
                return id
            }
            return insert(bytes, hash: hash)
        }
    }

    /// Takes one more use of an id a label set already holds.
    mutating func retain(id: UInt32) {
        uses[Int(id)] += 1
    }

    /// Gives one use back; the symbol is forgotten with its last use.
    mutating func release(_ id: UInt32) {
        let i = Int(id)
        uses[i] -= 1
        guard uses[i] == 0 else { return }
        removeBucket(of: id)
        garbage += Int(spans[i].length)
        spans[i] = Span(start: 0, length: 0)
        freeIDs.append(id)
        count -= 1
    }

    /// The length in UTF-8 bytes of an id in use.
    func byteCount(_ id: UInt32) -> Int { Int(spans[Int(id)].length) }

    /// The string of an id in use.
    func string(_ id: UInt32) -> String {
        let span = spans[Int(id)]
        return arena.withUnsafeBufferPointer { all in
            String(decoding: UnsafeBufferPointer(rebasing: all[Int(span.start)..<Int(span.start + span.length)]), as: UTF8.self)
        }
    }

    /// Reclaims the bytes of forgotten symbols once they are more than half
    /// of the arena (and at least 64 KiB): the ids stay as they are.
    mutating func compactIfWasteful() {
        guard garbage >= 1 << 16, garbage * 2 > arena.count else { return }
        var compacted: [UInt8] = []
        compacted.reserveCapacity(arena.count - garbage)
        for id in spans.indices where uses[id] > 0 {
            let span = spans[id]
            spans[id].start = UInt32(compacted.count)
            compacted.append(contentsOf: arena[Int(span.start)..<Int(span.start + span.length)])
        }
        arena = compacted
        garbage = 0
    }

    /// Bytes held, for tests and figures: the arena (with its garbage) and the per-id columns.
    var footprint: Int {
        arena.capacity + spans.capacity * MemoryLayout<Span>.stride + (uses.capacity + hashes.capacity + freeIDs.capacity + buckets.capacity) * 4
    }

    // MARK: The table

    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return UInt32(truncatingIfNeeded: hasher.finalize())
    }

    private func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt32) -> UInt32? {
        let mask = buckets.count - 1
        var b = Int(hash) & mask
        while buckets[b] != 0 {
            let id = buckets[b] - 1
            if hashes[Int(id)] == hash && equals(id, bytes) { return id }
            b = (b + 1) & mask
        }
        return nil
    }

    private func equals(_ id: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = spans[Int(id)]
        guard Int(span.length) == bytes.count else { return false }
        return arena.withUnsafeBufferPointer { all in
            all[Int(span.start)..<Int(span.start + span.length)].elementsEqual(bytes)
        }
    }

    private mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt32) -> UInt32 {
        if (count + 1) * 4 > buckets.count * 3 { grow() }
        let span = Span(start: UInt32(arena.count), length: UInt32(bytes.count))
        arena.append(contentsOf: bytes)
        let id: UInt32
        if let reuse = freeIDs.popLast() {
            id = reuse
            spans[Int(id)] = span
            uses[Int(id)] = 1
            hashes[Int(id)] = hash
        } else {
            id = UInt32(spans.count)
            spans.append(span)
            uses.append(1)
            hashes.append(hash)
        }
        place(id)
        count += 1
        return id
    }

    private mutating func place(_ id: UInt32) {
        let mask = buckets.count - 1
        var b = Int(hashes[Int(id)]) & mask
        while buckets[b] != 0 { b = (b + 1) & mask }
        buckets[b] = id + 1
    }

    private mutating func grow() {
        buckets = Array(repeating: 0, count: buckets.count * 2)
        for id in uses.indices where uses[id] > 0 { place(UInt32(id)) }
    }

    /// Empties the bucket of `id` and shifts back the entries after it that
    /// would no longer be found (linear probing's deletion without tombstones).
    private mutating func removeBucket(of id: UInt32) {
        let mask = buckets.count - 1
        var hole = Int(hashes[Int(id)]) & mask
        while buckets[hole] != id + 1 { hole = (hole + 1) & mask }
        var next = hole
        while true {
            next = (next + 1) & mask
            guard buckets[next] != 0 else { break }
            let home = Int(hashes[Int(buckets[next] - 1)]) & mask
            if !staysInPlace(home: home, hole: hole, next: next) {
                buckets[hole] = buckets[next]
                hole = next
            }
        }
        buckets[hole] = 0
    }
}
