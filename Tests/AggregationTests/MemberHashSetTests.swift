import Testing
@testable import Aggregation

/// The exact set's table holds each member once, whatever the member's
/// value, across growth and reuse.
@Suite("Member hash set")
struct MemberHashSetTests {
    @Test func holdsEachMemberOnceThroughGrowth() {
        var set = MemberHashSet()
        var reference = Set<UInt64>()
        var rng = SystemRandomNumberGenerator()
        // Random hashes, small integers (poorly mixed), 0 and UInt64.max, each sent twice.
        var members: [UInt64] = (0..<3_000).map { _ in rng.next() } + Array(0..<500) + [UInt64.max, 1 << 63]
        members += members
        members.shuffle()
        var countsAgreed = true
        for member in members {
            set.insert(member)
            reference.insert(member)
            countsAgreed = countsAgreed && set.count == reference.count
        }
        #expect(countsAgreed)
        var seen: [UInt64] = []
        set.forEach { seen.append($0) }
        #expect(seen.count == reference.count)
        #expect(Set(seen) == reference)
    }

    @Test func zeroIsAMemberLikeAnyOther() {
        var set = MemberHashSet()
        set.insert(0)
        set.insert(0)
        #expect(set.count == 1)
        var seen: [UInt64] = []
        set.forEach { seen.append($0) }
        #expect(seen == [0])
    }

    @Test func removeAllEmptiesAndTheSetIsUsableAgain() {
        var set = MemberHashSet()
        for member in UInt64(1)...100 { set.insert(member) }
        set.removeAll(keepingUpTo: 2048)
        #expect(set.isEmpty)
        var seen = 0
        set.forEach { _ in seen += 1 }
        #expect(seen == 0)
        for member in UInt64(50)...150 { set.insert(member) }
        #expect(set.count == 101)
        // A table larger than the limit is released, and the set still works.
        set.removeAll(keepingUpTo: 16)
        #expect(set.isEmpty)
        set.insert(7)
        set.insert(0)
        #expect(set.count == 2)
    }

    @Test func setCardinalityIsExactThroughItsTable() {
        var set = SetCardinality(exactLimit: 10_000, precision: 14)
        for round in 0..<3 {
            for member in 0..<5_000 { set.add(hash: UInt64(member) &* 0x9E37_79B9_7F4A_7C15) }
            #expect(set.count == 5_000, "round \(round)")
            #expect(!set.isEstimated)
            set.reset()
            #expect(set.count == 0)
        }
    }
}

extension MemberHashSetTests {
    @Test func prefetchingNeverChangesTheSet() {
        var set = MemberHashSet()
        set.prefetch(42)  // no table yet
        for member in UInt64(1)...50 {
            set.prefetch(member)
            set.insert(member)
        }
        set.prefetch(0)
        set.prefetch(.max)
        #expect(set.count == 50)
    }
}
