import TallyTestKit
import Testing
@testable import Aggregation

@Suite("Alias table")
struct AliasTableTests {
    /// Random inserts and removals, with colliding hashes, against a dictionary.
    @Test func matchesADictionaryUnderChurn() {
        var table = AliasTable(capacity: 8)
        var model: [Int32: UInt64] = [:]
        var rng = SplitMix64(seed: 11)
        var next: Int32 = 0
        var removed: [Int32: UInt64] = [:]
        for step in 0..<20_000 {
            if model.isEmpty || rng.next() % 3 != 0 {
                // Few distinct hash values: long probe runs and wrap-around.
                let hash = rng.next() % 2048
                table.insert(AliasTable.Slot(hash: hash, keyOffset: 0, keyLength: 1, series: next,
                                             alias: next, kind: .counter, touched: false))
                model[next] = hash
                next += 1
            } else {
                let victim = model.keys.randomElement(using: &rng)!
                table.remove(model[victim]!, alias: victim)
                removed[victim] = model[victim]
                model[victim] = nil
            }
            if step % 997 == 0 {
                for (value, hash) in model {
                    #expect(table.find(hash) { $0.alias == value }?.pointee.series == value)
                }
                #expect(table.count == model.count)
            }
        }
        // Removed aliases are gone, even where their hash is still in use.
        #expect(!removed.isEmpty)
        for (alias, hash) in removed {
            #expect(table.find(hash) { $0.alias == alias } == nil)
        }
        table.free()
    }
}

