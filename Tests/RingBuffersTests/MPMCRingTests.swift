import Synchronization
import Testing
import RingBuffers

@Suite("MPMC ring")
struct MPMCRingTests {
    @Test func capacityIsAPowerOfTwo() {
        #expect(MPMCRing<Int>(minimumCapacity: 5).capacity == 8)
        #expect(MPMCRing<Int>(minimumCapacity: 8).capacity == 8)
        #expect(MPMCRing<Int>(minimumCapacity: 1).capacity == 2)
    }

    /// Every fill level at every wrap-around position: FIFO order, full
    /// and empty detected exactly, nothing lost or duplicated.
    @Test func everyWrapAroundLayout() {
        let capacity = 8
        for start in [0, 1, 3, 7, Int.max - 20, -5] {
            for offset in 0..<capacity {
                for fill in 0...capacity {
                    let ring = MPMCRing<Int>(minimumCapacity: capacity, startingAt: start)
                    // Move the positions to the wrap-around point under test.
                    for k in 0..<offset {
                        #expect(ring.push(k))
                        #expect(ring.pop() == k)
                    }
                    for k in 0..<fill { #expect(ring.push(100 + k)) }
                    #expect(ring.approximateCount == fill)
                    if fill == capacity { #expect(!ring.push(-1), "full ring must refuse") }
                    for k in 0..<fill { #expect(ring.pop() == 100 + k) }
                    #expect(ring.pop() == nil)
                }
            }
        }
    }

    /// Elements still inside when the ring goes away are released, once each.
    @Test func releasesElementsLeftInside() {
        final class Deaths: Sendable {
            let count = Atomic<Int>(0)
        }
        final class Token: Sendable {
            let deaths: Deaths
            init(_ deaths: Deaths) { self.deaths = deaths }
            deinit { deaths.count.add(1, ordering: .relaxed) }
        }
        let deaths = Deaths()
        do {
            let ring = MPMCRing<Token>(minimumCapacity: 4)
            for _ in 0..<3 { #expect(ring.push(Token(deaths))) }
            _ = ring.pop()
            #expect(deaths.count.load(ordering: .relaxed) == 1)
        }
        #expect(deaths.count.load(ordering: .relaxed) == 3)
    }

    /// Four producers push disjoint ranges while one consumer pops: every item
    /// comes out exactly once, and each producer's items stay in order.
    @Test func multiProducerStress() async {
        let ring = MPMCRing<Int>(minimumCapacity: 1024)
        let producers = 4
        let perProducer = 200_000
        let consumed = await withTaskGroup(of: [Int].self) { group -> [Int] in
            for p in 0..<producers {
                group.addTask {
                    var next = 0
                    while next < perProducer {
                        if ring.push(p * perProducer + next) { next += 1 } else { await Task.yield() }
                    }
                    return []
                }
            }
            group.addTask {
                var out: [Int] = []
                out.reserveCapacity(producers * perProducer)
                while out.count < producers * perProducer {
                    if let item = ring.pop() { out.append(item) } else { await Task.yield() }
                }
                return out
            }
            var all: [Int] = []
            for await part in group { all.append(contentsOf: part) }
            return all
        }
        #expect(consumed.count == producers * perProducer)
        var seen = [Bool](repeating: false, count: producers * perProducer)
        var last = [Int](repeating: -1, count: producers)
        for item in consumed {
            #expect(!seen[item], "item \(item) popped twice")
            seen[item] = true
            let producer = item / perProducer
            #expect(item > last[producer], "producer order broken")
            last[producer] = item
        }
        #expect(seen.allSatisfy { $0 })
    }

    /// Many producers and many consumers at once.
    @Test func multiConsumerStress() async {
        let ring = MPMCRing<Int>(minimumCapacity: 64)
        let total = 100_000
        final class Totals: Sendable {
            let sum = Atomic<Int>(0)
            let count = Atomic<Int>(0)
        }
        let totals = Totals()
        await withTaskGroup(of: Void.self) { group in
            for p in 0..<2 {
                group.addTask {
                    var k = p
                    while k < total {
                        if ring.push(k) { k += 2 } else { await Task.yield() }
                    }
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    while totals.count.load(ordering: .relaxed) < total {
                        if let item = ring.pop() {
                            totals.sum.add(item, ordering: .relaxed)
                            totals.count.add(1, ordering: .relaxed)
                        } else {
                            await Task.yield()
                        }
                    }
                }
            }
        }
        #expect(totals.count.load(ordering: .relaxed) == total)
        #expect(totals.sum.load(ordering: .relaxed) == total * (total - 1) / 2)
    }
}
