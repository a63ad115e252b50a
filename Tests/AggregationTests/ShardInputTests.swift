import Testing
@testable import Aggregation

@Suite("Shard input")
struct ShardInputTests {
    /// A burst leaves hundreds of empty batches in the pool; a trim keeps
    /// the first `keeping` of them for reuse and frees the others.
    @Test func trimKeepsAFewPooledBatchesAndFreesTheRest() {
        let input = ShardInput(index: 0, ringCapacity: 1024)
        let burst = (0..<300).map { _ in input.takeBatch() }
        for batch in burst { input.recycle(batch) }
        #expect(input.trimPool(keeping: 64) == 236)
        let pooled = Set(burst.map(ObjectIdentifier.init))
        let reused = (0..<64).map { _ in input.takeBatch() }
        #expect(reused.allSatisfy { pooled.contains(ObjectIdentifier($0)) })
        #expect(Set(reused.map(ObjectIdentifier.init)).count == 64)
        // The pool is empty now: the next batch is a new one, and a second trim frees nothing.
        #expect(input.trimPool(keeping: 64) == 0)
        #expect(!pooled.contains(ObjectIdentifier(input.takeBatch())))
    }

    /// A kept batch comes back empty and usable.
    @Test func keptBatchesAreEmpty() {
        let input = ShardInput(index: 0, ringCapacity: 16)
        let batch = input.takeBatch()
        let line: [UInt8] = Array("a:1|c".utf8)
        line.withUnsafeBytes { raw in
            batch.append(hash: 1, value: 1, weight: 1, kind: .counter, delta: false, line: raw, name: 0..<1, tags: 1..<1)
        }
        #expect(batch.recordCount == 1)
        input.recycle(batch)
        #expect(input.trimPool(keeping: 1) == 0)
        #expect(input.takeBatch().recordCount == 0)
    }
}
