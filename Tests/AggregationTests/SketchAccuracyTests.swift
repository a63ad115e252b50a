#if canImport(Glibc)
import Glibc
#endif
import TallyTestKit
import Testing
@testable import Aggregation

@Suite("Sketches against exact answers")
struct SketchAccuracyTests {
    @Test func bucketIndexIsTheCeilingOfTheScaledLog() {
        // The hand-written ceiling against the library's, on exact bucket bounds and between them.
        var rng = SplitMix64(seed: 11)
        for alpha in [0.01, 0.005, 0.05] {
            let mapping = SketchMapping(relativeAccuracy: alpha)
            var magnitudes: [Double] = [1e-9, 1, 1.5, 1e300, .greatestFiniteMagnitude]
            for i in -400...400 { magnitudes.append(pow(mapping.gamma, Double(i))) }
            for _ in 0..<20_000 { magnitudes.append(exp(Double(rng.next() % 100_000) / 1_000 - 20)) }
            let wrong = magnitudes.filter { m in
                mapping.index(m) != Int32(clamping: Int((log(m) * mapping.inverseLogGamma).rounded(.up)))
            }
            #expect(wrong.isEmpty, "alpha \(alpha), magnitudes \(wrong.prefix(5))")
        }
    }

    /// Log-normal and Pareto data (heavy tails, like latencies): every
    /// quantile within the stated relative accuracy of the exact one.
    @Test(arguments: [0.01, 0.005])
    func ddsketchMeetsItsRelativeErrorOnSkewedData(alpha: Double) throws {
        let mapping = SketchMapping(relativeAccuracy: alpha)
        var rng = SplitMix64(seed: 7)
        for distribution in ["lognormal", "pareto", "uniform-with-negatives"] {
            var sketch = DDSketch()
            var values: [Double] = []
            for _ in 0..<50_000 {
                let u = max(rng.unit(), 1e-12)
                let v: Double
                switch distribution {
                case "lognormal":
                    let z = sqrt(-2 * log(u)) * cos(2 * .pi * rng.unit())
                    v = exp(3 + 1.5 * z)
                case "pareto":
                    v = 1 / pow(u, 1 / 1.2)
                default:
                    v = (u - 0.3) * 1000
                }
                values.append(v)
                sketch.add(v, mapping: mapping)
            }
            values.sort()
            for q in [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999] {
                let exact = values[Int((q * Double(values.count - 1)).rounded(.down))]
                let estimate = try #require(sketch.quantile(q, mapping: mapping))
                #expect(abs(estimate - exact) <= alpha * abs(exact) + 1e-9,
                        "\(distribution) q=\(q): exact \(exact), estimate \(estimate)")
            }
            #expect(sketch.quantile(0, mapping: mapping) == values.first)
            #expect(sketch.quantile(1, mapping: mapping) == values.last)
            #expect(sketch.count == 50_000)
        }
    }

    @Test func denseStoresAreBoundedAndKeepHighQuantiles() throws {
        let mapping = SketchMapping(relativeAccuracy: 0.01)
        var sketch = DDSketch()
        var v = 1e-9
        while v < 1e300 {
            sketch.add(v, mapping: mapping)
            v *= 1.01
        }
        #expect(sketch.positive.dense.count <= SketchStore.maxBuckets)
        let max = sketch.max
        let p999 = try #require(sketch.quantile(0.9999, mapping: mapping))
        #expect(p999 <= max && p999 > max / 1e3)
    }

    /// The one-pass `quantiles` gives what `quantile` gives one at a time,
    /// for sparse and dense stores, negative values and zeros included.
    @Test(arguments: [5, 30, 2_000])
    func oneWalkForAllQuantilesMatchesOneAtATime(values: Int) {
        let mapping = SketchMapping(relativeAccuracy: 0.01)
        var rng = SplitMix64(seed: UInt64(values))
        var sketch = DDSketch()
        for k in 0..<values {
            let v = k % 7 == 0 ? 0 : (rng.unit() - 0.2) * 1e4
            sketch.add(v, weight: k % 3 == 0 ? 2.5 : 1, mapping: mapping)
        }
        let qs = [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0]
        var walked = [Double](repeating: .nan, count: qs.count)
        let single = qs.map { sketch.quantile($0, mapping: mapping) }
        sketch.quantiles(qs, mapping: mapping) { walked[$0] = $1 }
        for (k, q) in qs.enumerated() {
            #expect(walked[k] == single[k], "q=\(q) with \(values) values")
        }
    }

    @Test func weightsActLikeRepeatedValues() throws {
        let mapping = SketchMapping(relativeAccuracy: 0.01)
        var weighted = DDSketch()
        var repeated = DDSketch()
        for v in [1.0, 5, 10] {
            weighted.add(v, weight: 10, mapping: mapping)
            for _ in 0..<10 { repeated.add(v, mapping: mapping) }
        }
        for q in [0.1, 0.5, 0.9] {
            #expect(weighted.quantile(q, mapping: mapping) == repeated.quantile(q, mapping: mapping))
        }
    }

    @Test func mergingEqualsAddingEverything() {
        let mapping = SketchMapping(relativeAccuracy: 0.01)
        var a = DDSketch(), b = DDSketch(), all = DDSketch()
        for i in 1...500 {
            let v = Double(i * i)
            if i % 2 == 0 { a.add(v, mapping: mapping) } else { b.add(v, mapping: mapping) }
            all.add(v, mapping: mapping)
        }
        a.merge(b)
        for q in [0.1, 0.5, 0.99] { #expect(a.quantile(q, mapping: mapping) == all.quantile(q, mapping: mapping)) }
        #expect(a.count == all.count)
    }

    @Test func setsAreExactUpToTheLimitThenWithinHLLError() {
        var set = SetCardinality(exactLimit: 1000, precision: 14)
        var rng = SplitMix64(seed: 3)
        var hashes: [UInt64] = []
        for _ in 0..<1000 { hashes.append(rng.next()) }
        for h in hashes + hashes { set.add(hash: h) }
        #expect(set.count == 1000)
        #expect(!set.isEstimated)
        for n in [5_000, 100_000, 1_000_000] {
            set.reset()
            for _ in 0..<n { set.add(hash: rng.next()) }
            #expect(set.isEstimated)
            let error = abs(set.count - Double(n)) / Double(n)
            // Three standard errors of HyperLogLog at precision 14 (0.81%).
            #expect(error < 3 * 0.0081, "n=\(n): estimate \(set.count)")
        }
    }

    @Test func setMembersAreHashedFromTheirBytes() {
        let h = Harness(shards: 1, config: {
            var c = AggregationConfig()
            c.setExactLimit = 100
            return c
        }())
        h.send((0..<20_000).map { "big:member-\($0)|s" })
        let estimate = h.flush(at: 10_000)["big"] ?? 0
        #expect(abs(estimate - 20_000) / 20_000 < 0.025)
    }
}
