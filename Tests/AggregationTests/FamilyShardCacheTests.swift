import Testing
@testable import Aggregation

/// The shard cache answers from its table only for the very name hash it
/// stored, and routing through it puts every family on one shard.
@Suite("Family shard cache")
struct FamilyShardCacheTests {
    @Test func aCachedNameSkipsTheComputationAndOthersDoNot() {
        var cache = FamilyShardCache(slotBits: 4)
        defer { cache.free() }
        var computed = 0
        func shard(_ hash: UInt64, _ answer: Int) -> Int {
            cache.shard(forName: hash) { computed += 1; return answer }
        }
        // Before the table exists every lookup computes.
        for _ in 0..<FamilyShardCache.warmUp { #expect(shard(0x5000_0000_0000_0042, 1) == 1) }
        #expect(computed == FamilyShardCache.warmUp)
        computed = 0
        #expect(shard(0x5000_0000_0000_0042, 1) == 1)
        #expect(computed == 1)
        #expect(shard(0x5000_0000_0000_0042, 9) == 1)
        #expect(computed == 1)
        // Same slot (top bits equal), another hash: computed, and it takes the slot over.
        #expect(shard(0x5000_0000_0000_0043, 3) == 3)
        #expect(computed == 2)
        #expect(shard(0x5000_0000_0000_0042, 1) == 1)
        #expect(computed == 3)
        // Hash 0 in an empty slot (slot 0; the entries above are in slot 5) is not mistaken
        // for a cached entry, although an empty slot's stored hash is 0.
        #expect(shard(0, 2) == 2)
        #expect(computed == 4)
    }

    @Test func routingThroughTheCacheKeepsEachFamilyOnOneShard() {
        let h = Harness(shards: 3)
        // Enough lines to warm the cache, names that sanitise alike (a.b, a_b, a-b) and many others.
        var lines: [String] = []
        for round in 0..<3 {
            for i in 0..<600 {
                lines.append("svc.m\(i % 300):1|c")
                lines.append("svc_m\(i % 300):1|c")
                lines.append("svc-m\(i % 300):\(round)|g")
            }
        }
        for chunk in stride(from: 0, to: lines.count, by: 50) {
            h.send(Array(lines[chunk..<min(chunk + 50, lines.count)]))
        }
        let out = h.flush(at: 10_000)
        for i in 0..<300 {
            // svc.m and svc_m are one family: one series, 12 increments, not two series of 6.
            #expect(out["svc_m\(i)_total"] == 12, "svc_m\(i)_total")
            #expect(out["svc_m\(i)"] == 2, "svc_m\(i)")
        }
    }
}
