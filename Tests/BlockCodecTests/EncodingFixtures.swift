import TallyTestKit

/// Series shapes that stress the encodings: the adversarial cases the
/// storage issue names, each as timestamps and values.
struct SeriesFixture: CustomStringConvertible, Sendable {
    var name: String
    var timestamps: [Int64]
    var values: [Double]
    var description: String { name }
}

func regularTimes(_ count: Int, start: Int64 = 1_704_067_200_000, step: Int64 = 10_000) -> [Int64] {
    (0..<count).map { start + Int64($0) * step }
}

let encodingFixtures: [SeriesFixture] = {
    var rng = SplitMix64(seed: 42)
    var fixtures: [SeriesFixture] = []
    fixtures.append(SeriesFixture(name: "one sample", timestamps: [1_704_067_200_123], values: [42.5]))
    fixtures.append(SeriesFixture(name: "two samples", timestamps: [5, 17], values: [1, -1]))
    fixtures.append(SeriesFixture(name: "constant", timestamps: regularTimes(120), values: Array(repeating: 1, count: 120)))
    var counter = 0.0
    fixtures.append(SeriesFixture(
        name: "monotonic counter", timestamps: regularTimes(240),
        values: (0..<240).map { _ in counter += Double(Int.random(in: 0...900, using: &rng)); return counter }))
    fixtures.append(SeriesFixture(
        name: "random floats", timestamps: regularTimes(120),
        values: (0..<120).map { _ in Double.random(in: -1e6...1e6, using: &rng) }))
    fixtures.append(SeriesFixture(
        name: "random bit patterns", timestamps: regularTimes(120),
        values: (0..<120).map { _ in Double(bitPattern: rng.next()) }))
    fixtures.append(SeriesFixture(
        name: "huge and negative deltas", timestamps: [Int64.min / 4, -5, 0, 1, Int64.max / 4, Int64.max / 4 + 1],
        values: [-Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, 9_007_199_254_740_991, -9_007_199_254_740_991, 1e308, -1e-308]))
    fixtures.append(SeriesFixture(
        name: "NaN, Inf and signed zero", timestamps: regularTimes(8),
        values: [.nan, .infinity, -.infinity, 0.0, -0.0, Double(bitPattern: 0x7FF8_0000_0000_0001), Double(bitPattern: 0x7FF0_0000_0000_0002), 1]))
    fixtures.append(SeriesFixture(
        name: "irregular intervals", timestamps: {
            var t: Int64 = 1_000
            return (0..<200).map { _ in t += Int64.random(in: 1...100_000, using: &rng); return t }
        }(), values: (0..<200).map { Double($0 % 7) }))
    fixtures.append(SeriesFixture(
        name: "repeated timestamps", timestamps: [10, 10, 10, 20, 20], values: [1, 2, 3, 4, 5]))
    var cpu = 1234.56
    fixtures.append(SeriesFixture(
        name: "two-decimal counter", timestamps: regularTimes(120),
        values: (0..<120).map { _ in cpu = ((cpu + Double(Int.random(in: 0...30, using: &rng)) / 100) * 100).rounded() / 100; return cpu }))
    fixtures.append(SeriesFixture(
        name: "decimals that do not round-trip", timestamps: regularTimes(3), values: [0.1 + 0.2, 0.3, 0.30000000000000004]))
    fixtures.append(SeriesFixture(
        name: "integers beyond 2^53", timestamps: regularTimes(3), values: [9_007_199_254_740_994, 1, 18_014_398_509_481_984]))
    fixtures.append(SeriesFixture(
        name: "counter with reset", timestamps: regularTimes(6), values: [100, 200, 300, 0, 50, 120]))
    var sum = 4_578_647.334142093
    fixtures.append(SeriesFixture(
        name: "cumulative float sum", timestamps: regularTimes(300),
        values: (0..<300).map { _ in sum += Double.random(in: 30...60, using: &rng); return sum }))
    fixtures.append(SeriesFixture(
        name: "float sum with a reset and specials", timestamps: regularTimes(12),
        values: [1.5, 2.75, 3.875, 0.125, 1.0625, .nan, 7.1, .infinity, -2.2, -0.0, 9.3, 9.30001]))
    fixtures.append(SeriesFixture(
        name: "steady counter", timestamps: regularTimes(120), values: (0..<120).map { Double(1_000 + 250 * $0) }))
    var walk = 0.0
    fixtures.append(SeriesFixture(
        name: "integer gauge walking both ways", timestamps: regularTimes(120),
        values: (0..<120).map { _ in walk += Double(Int.random(in: -50...50, using: &rng)); return walk }))
    var bytes = 1e12
    fixtures.append(SeriesFixture(
        name: "byte counter growing past 2^31 a step", timestamps: regularTimes(20),
        values: (0..<20).map { _ in bytes += Double(Int.random(in: 2_000_000_000...4_000_000_000, using: &rng)); return bytes }))
    fixtures.append(SeriesFixture(
        name: "integers, then a fraction late", timestamps: regularTimes(120),
        values: (0..<120).map { $0 == 100 ? 0.5 : Double($0 * $0) }))
    fixtures.append(SeriesFixture(
        name: "integer extremes and jumps", timestamps: regularTimes(9),
        values: [-9_223_372_036_854_775_808, -9_223_372_036_854_775_808, 0, 2_147_483_647, -1, 2_147_483_646, 4_611_686_018_427_387_904, 3, 3]))
    return fixtures
}()
