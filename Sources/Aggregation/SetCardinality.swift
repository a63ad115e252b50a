/// The distinct members of a StatsD set in one interval: exact (a set of the
/// members' 64-bit hashes) up to `exactLimit` members, then a HyperLogLog.
/// Exact mode can only err by a 64-bit hash collision (odds about n²/2⁶⁵).
public struct SetCardinality: Sendable {
    private var exact = MemberHashSet()
    private var sketch: HyperLogLog?
    public let exactLimit: Int
    public let precision: Int

    public init(exactLimit: Int, precision: Int) {
        self.exactLimit = exactLimit
        self.precision = precision
    }

    /// Whether the set has switched to the HyperLogLog estimate.
    public var isEstimated: Bool { sketch != nil }

    @inline(__always)
    public mutating func add(hash: UInt64) {
        if sketch != nil {
            sketch!.add(hash: hash) // in place; checked just above
            return
        }
        exact.insert(hash)
        if exact.count > exactLimit {
            var hll = HyperLogLog(precision: precision)
            exact.forEach { hll.add(hash: $0) }
            sketch = hll
            exact = MemberHashSet()
        }
    }

    /// Starts bringing into the cache what `add(hash:)` will touch (exact sets only).
    @inline(__always)
    func prefetch(hash: UInt64) {
        if sketch == nil { exact.prefetch(hash) }
    }

    /// What an agent forwards: the members' hashes while exact, else the sketch.
    var forwarded: (members: MemberHashSet, sketch: HyperLogLog?) { (exact, sketch) }

    /// Takes in a forwarded sketch (same precision): the set becomes the union, estimated.
    mutating func merge(_ other: HyperLogLog) {
        if sketch == nil {
            var hll = HyperLogLog(precision: precision)
            exact.forEach { hll.add(hash: $0) }
            sketch = hll
            exact = MemberHashSet()
        }
        sketch!.merge(other) // set just above
    }

    /// Distinct members seen (exact, or estimated past the limit).
    public var count: Double {
        if let sketch { return sketch.estimate().rounded() }
        return Double(exact.count)
    }

    /// Empties the set for the next interval, releasing the sketch.
    public mutating func reset() {
        exact.removeAll(keepingUpTo: 2048)
        sketch = nil
    }
}
