#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The logarithmic bucket mapping of a DDSketch (Masson, Rim and Lee, VLDB
/// 2019): a positive value `v` falls in bucket `ceil(log_gamma(v))` with
/// `gamma = (1 + α) / (1 − α)`, and every value of a bucket is within relative
/// error α of the bucket's representative value. Shared by all sketches of a shard.
public struct SketchMapping: Sendable {
    /// The relative accuracy α: every quantile estimate `e` of a value `x`
    /// (in the indexable range) satisfies `|e − x| ≤ α·|x|`.
    public let relativeAccuracy: Double
    @usableFromInline let gamma: Double
    @usableFromInline let inverseLogGamma: Double
    /// Magnitudes below this go to the zero bucket.
    @usableFromInline let minIndexable: Double

    public init(relativeAccuracy: Double) {
        precondition(relativeAccuracy > 0 && relativeAccuracy < 1, "relative accuracy must be in (0, 1)")
        self.relativeAccuracy = relativeAccuracy
        gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
        inverseLogGamma = 1 / log(gamma)
        minIndexable = 1e-9
    }

    func index(_ magnitude: Double) -> Int32 {
        let x = log(magnitude) * inverseLogGamma
        guard x > -2e9, x < 2e9 else { return x > 0 ? .max : .min }
        // The ceiling by hand: `rounded(.up)` is a call to libm's ceil on baseline x86-64.
        let truncated = Int32(x)
        return Double(truncated) < x ? truncated + 1 : truncated
    }

    /// The representative value of a bucket: its error is at most α either way.
    func value(_ index: Int32) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }
}

/// Weighted bucket counts, sparse while small (most series see few distinct
/// buckets per interval) and dense with an offset past 32 buckets. A sparse
/// bucket is one word (index in the high half, the count's `Float` bits in
/// the low half), so a lookup touches one array; counts are `Float`s, which
/// keeps a dense store at four bytes a bucket (the sketch's total count and
/// sum are kept exactly, in `Double`, beside it).
@usableFromInline
struct SketchStore: Sendable {
    @usableFromInline static let sparseLimit = 32
    /// The most buckets a dense store keeps: past it the lowest buckets are
    /// merged (as the DDSketch paper does), so only quantiles of values more
    /// than γ^2048 (about 10^17 at α = 1%) below the maximum lose accuracy.
    @usableFromInline static let maxBuckets = 2048
    @usableFromInline var sparse: [UInt64] = []
    @usableFromInline var dense: [Float] = []
    @usableFromInline var offset: Int32 = 0
    @usableFromInline var isDense = false

    @usableFromInline init() {}

    @inline(__always)
    static func pack(_ index: Int32, _ count: Float) -> UInt64 {
        UInt64(UInt32(bitPattern: index)) << 32 | UInt64(count.bitPattern)
    }

    @inline(__always)
    static func unpack(_ word: UInt64) -> (Int32, Float) {
        (Int32(bitPattern: UInt32(truncatingIfNeeded: word >> 32)), Float(bitPattern: UInt32(truncatingIfNeeded: word)))
    }

    mutating func add(_ index: Int32, _ weight: Double) {
        if isDense {
            addDense(index, Float(weight))
            return
        }
        let key = UInt64(UInt32(bitPattern: index))
        for k in 0..<sparse.count where sparse[k] >> 32 == key {
            let (_, count) = Self.unpack(sparse[k])
            sparse[k] = Self.pack(index, count + Float(weight))
            return
        }
        if sparse.count < Self.sparseLimit {
            sparse.append(Self.pack(index, Float(weight)))
            return
        }
        // Switch to dense: span the buckets seen so far.
        let buckets = sparse.map(Self.unpack)
        let lowest = min(buckets.map(\.0).min() ?? index, index)
        let highest = max(buckets.map(\.0).max() ?? index, index)
        offset = lowest
        dense = [Float](repeating: 0, count: min(Int(highest - lowest) + 1, Self.maxBuckets))
        isDense = true
        sparse = []
        for (i, c) in buckets { addDense(i, c) }
        addDense(index, Float(weight))
    }

    mutating func addDense(_ index: Int32, _ weight: Float) {
        var index = index
        let highest = offset + Int32(dense.count) - 1
        if index > highest, Int(index - offset) >= Self.maxBuckets {
            // Collapse the lowest buckets so the new highest fits.
            let newOffset = index - Int32(Self.maxBuckets) + 1
            let merged = Int(newOffset - offset)
            let carried = dense.prefix(min(merged + 1, dense.count)).reduce(0, +)
            dense.removeFirst(min(merged, dense.count))
            offset = newOffset
            if dense.isEmpty { dense = [0] }
            dense[0] = carried
        } else if index < offset, Int(highest - index) >= Self.maxBuckets {
            index = highest - Int32(Self.maxBuckets) + 1
        }
        if index < offset {
            let extra = Int(offset - index)
            dense.insert(contentsOf: repeatElement(0, count: extra), at: 0)
            offset = index
        } else if Int(index - offset) >= dense.count {
            dense.append(contentsOf: repeatElement(0, count: Int(index - offset) - dense.count + 1))
        }
        dense[Int(index - offset)] += weight
    }

    /// Visits the non-empty buckets by increasing index (or decreasing, when
    /// `descending`) until `body` returns false. Sorts a sparse store in
    /// place; allocates nothing.
    mutating func visit(descending: Bool, _ body: (Int32, Double) -> Bool) {
        if isDense {
            if descending {
                for k in dense.indices.reversed() where dense[k] > 0 {
                    if !body(offset + Int32(k), Double(dense[k])) { return }
                }
            } else {
                for k in dense.indices where dense[k] > 0 {
                    if !body(offset + Int32(k), Double(dense[k])) { return }
                }
            }
            return
        }
        sparse.sort { Self.unpack($0).0 < Self.unpack($1).0 }
        if descending {
            for word in sparse.reversed() {
                let (index, count) = Self.unpack(word)
                if !body(index, Double(count)) { return }
            }
        } else {
            for word in sparse {
                let (index, count) = Self.unpack(word)
                if !body(index, Double(count)) { return }
            }
        }
    }

    /// Visits the non-empty buckets in no particular order (what a merge
    /// needs); allocates nothing and leaves the store as it is.
    func forEachBucket(_ body: (Int32, Double) -> Void) {
        if isDense {
            for k in dense.indices where dense[k] > 0 { body(offset + Int32(k), Double(dense[k])) }
        } else {
            for word in sparse {
                let (index, count) = Self.unpack(word)
                body(index, Double(count))
            }
        }
    }

    /// The buckets with their counts, by increasing index.
    func buckets() -> [(index: Int32, count: Double)] {
        if isDense {
            return dense.enumerated().compactMap { $0.element > 0 ? (offset + Int32($0.offset), Double($0.element)) : nil }
        }
        return sparse.map(Self.unpack).sorted { $0.0 < $1.0 }.map { ($0.0, Double($0.1)) }
    }

    /// Empties the store; a dense store keeps its memory only if `keepMemory`.
    mutating func reset(keepMemory: Bool) {
        if isDense, keepMemory {
            for i in dense.indices { dense[i] = 0 }
        } else {
            dense = []
            isDense = false
            offset = 0
        }
        sparse.removeAll(keepingCapacity: true)
    }
}

/// A mergeable quantile sketch with relative-error guarantees (DDSketch).
/// Weights carry StatsD sample rates: a value sent at `@0.1` counts ten times.
/// Count, sum, minimum and maximum are kept exactly beside the buckets.
public struct DDSketch: Sendable {
    @usableFromInline var positive = SketchStore()
    @usableFromInline var negative = SketchStore()
    @usableFromInline var zeroCount = 0.0
    /// The total weight added.
    public private(set) var count = 0.0
    /// The weighted sum of the values.
    public private(set) var sum = 0.0
    public private(set) var min = Double.infinity
    public private(set) var max = -Double.infinity

    public init() {}

    /// A sketch rebuilt from its parts (an agent's forwarded sketch):
    /// buckets by index with their counts, and the exact count, sum, min and max.
    init(
        positive: [(index: Int32, count: Double)], negative: [(index: Int32, count: Double)], zeroCount: Double, count: Double,
        sum: Double, min: Double, max: Double
    ) {
        for (index, c) in positive { self.positive.add(index, c) }
        for (index, c) in negative { self.negative.add(index, c) }
        self.zeroCount = zeroCount
        self.count = count
        self.sum = sum
        self.min = min
        self.max = max
    }

    /// The buckets by increasing index, positive then negative values', and the zero bucket's count.
    func parts() -> (positive: [(index: Int32, count: Double)], negative: [(index: Int32, count: Double)], zeroCount: Double) {
        (positive.buckets(), negative.buckets(), zeroCount)
    }

    public var isEmpty: Bool { count == 0 }

    /// Adds a finite value with a positive weight.
    public mutating func add(_ value: Double, weight: Double = 1, mapping: SketchMapping) {
        if value > mapping.minIndexable {
            positive.add(mapping.index(value), weight)
        } else if value < -mapping.minIndexable {
            negative.add(mapping.index(-value), weight)
        } else {
            zeroCount += weight
        }
        count += weight
        sum += value * weight
        if value < min { min = value }
        if value > max { max = value }
    }

    /// Adds every value of another sketch built with the same mapping.
    /// The estimates of several quantiles (each in [0, 1], in increasing
    /// order) in one walk over the buckets, with the same definition as
    /// `quantile(_:mapping:)`; `body` gets each quantile's position and value.
    /// Nothing when the sketch is empty.
    public mutating func quantiles(_ qs: [Double], mapping: SketchMapping, _ body: (Int, Double) -> Void) {
        guard count > 0 else { return }
        var next = 0
        // Quantiles at the ends are the exact minimum and maximum.
        while next < qs.count, qs[next] <= 0 {
            body(next, min)
            next += 1
        }
        var cumulative = 0.0
        let total = count
        let low = min
        let high = max
        func emit(_ value: Double) -> Bool {
            while next < qs.count, qs[next] < 1, cumulative > qs[next] * (total - 1) {
                body(next, Swift.min(Swift.max(value, low), high))
                next += 1
            }
            return next < qs.count && qs[next] < 1
        }
        var going = next < qs.count && qs[next] < 1
        if going {
            negative.visit(descending: true) { index, c in
                cumulative += c
                going = emit(-mapping.value(index))
                return going
            }
        }
        if going, zeroCount > 0 {
            cumulative += zeroCount
            going = emit(0)
        }
        if going {
            positive.visit(descending: false) { index, c in
                cumulative += c
                going = emit(mapping.value(index))
                return going
            }
        }
        // Rounding can leave the last ranks unreached; those, and q = 1, are the maximum.
        while next < qs.count {
            body(next, high)
            next += 1
        }
    }

    public mutating func merge(_ other: DDSketch) {
        other.positive.forEachBucket { positive.add($0, $1) }
        other.negative.forEachBucket { negative.add($0, $1) }
        zeroCount += other.zeroCount
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    /// The estimate of the q-quantile (0 ≤ q ≤ 1), the value of rank
    /// `q·(count − 1)` within relative error α, clamped to the exact minimum
    /// and maximum; nil when the sketch is empty.
    public func quantile(_ q: Double, mapping: SketchMapping) -> Double? {
        guard count > 0, q >= 0, q <= 1 else { return nil }
        if q == 0 { return min }
        if q == 1 { return max }
        let rank = q * (count - 1)
        var cumulative = 0.0
        var estimate: Double?
        for (index, c) in negative.buckets().reversed() {
            cumulative += c
            if cumulative > rank { estimate = -mapping.value(index); break }
        }
        if estimate == nil {
            cumulative += zeroCount
            if cumulative > rank { estimate = 0 }
        }
        if estimate == nil {
            for (index, c) in positive.buckets() {
                cumulative += c
                if cumulative > rank { estimate = mapping.value(index); break }
            }
        }
        return Swift.min(Swift.max(estimate ?? max, min), max)
    }

    /// Empties the sketch for the next interval. Memory of a store that went
    /// dense is kept when `keepMemory` (a busy series stays busy).
    public mutating func reset(keepMemory: Bool) {
        positive.reset(keepMemory: keepMemory)
        negative.reset(keepMemory: keepMemory)
        zeroCount = 0
        count = 0
        sum = 0
        min = .infinity
        max = -.infinity
    }
}
