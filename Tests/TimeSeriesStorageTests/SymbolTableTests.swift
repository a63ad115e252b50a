import Testing
@testable import TimeSeriesStorage

@Suite("Head symbol table")
struct SymbolTableTests {
    @Test func stringsRoundTripAndLeaveWithTheirLastUse() {
        var table = SymbolTable()
        let strings = (0..<50_000).map { "value-\($0)-" + String(repeating: "x", count: $0 % 40) }
        let ids = strings.map { table.retain($0) }
        #expect(table.count == strings.count)
        #expect(ids.map { table.string($0) } == strings)
        // A second use of every even string: releasing once keeps those.
        for i in stride(from: 0, to: strings.count, by: 2) { #expect(table.retain(strings[i]) == ids[i]) }
        for id in ids { table.release(id) }
        #expect(table.count == strings.count / 2)
        var wrong = 0
        for (i, s) in strings.enumerated() {
            let found = table.find(s)
            if i % 2 == 0 ? (found != ids[i] || table.string(ids[i]) != s) : found != nil { wrong += 1 }
        }
        #expect(wrong == 0)
        // Forgotten ids are reused, and the strings of the kept ones survive the arena's compaction.
        let again = (0..<1_000).map { table.retain("new-\($0)") }
        #expect(Set(again).isSubset(of: Set(ids)))
        table.compactIfWasteful()
        wrong = 0
        for i in stride(from: 0, to: strings.count, by: 2) where table.find(strings[i]) != ids[i] || table.string(ids[i]) != strings[i] { wrong += 1 }
        for (k, id) in again.enumerated() where table.string(id) != "new-\(k)" { wrong += 1 }
        #expect(wrong == 0)
    }

    @Test func compactionReclaimsTheBytesOfForgottenSymbols() {
        var table = SymbolTable()
        let long = (0..<20_000).map { "a-long-label-value-that-is-never-small-\($0)" }
        let ids = long.map { table.retain($0) }
        let full = table.footprint
        for id in ids.dropFirst(100) { table.release(id) }
        table.compactIfWasteful()
        #expect(table.footprint < full)
        #expect(ids.prefix(100).map { table.string($0) } == Array(long.prefix(100)))
    }

    @Test func spellingsAreComparedByTheirBytes() {
        var table = SymbolTable()
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(composed == decomposed)  // Swift's String equates them ...
        let a = table.retain(composed)
        let b = table.retain(decomposed)
        #expect(a != b)  // ... the table, like Prometheus, does not.
        #expect(table.string(a).utf8.count == 5 && table.string(b).utf8.count == 6)
        #expect(table.retain("") == table.find("")!)
    }
}

@Suite("Head series index")
struct SeriesIndexTests {
    @Test func insertsAndRemovalsAgreeWithADictionary() {
        // Few distinct hashes: long probe runs that wrap around the table, removals in their middle.
        var index = SeriesIndex()
        var model: [Int: UInt32] = [:]
        var rng = SystemRandomNumberGenerator()
        var wrong = 0
        for step in 0..<40_000 {
            let slot = Int.random(in: 0..<3_000, using: &rng)
            let hash = UInt32(slot % 37) &* 0x9E37_79B9
            if let known = model[slot] {
                index.remove(hash: known, slot: slot)
                model[slot] = nil
            } else {
                index.insert(hash: hash, slot: slot)
                model[slot] = hash
            }
            if step % 97 == 0 {
                for (s, h) in model where index.find(hash: h, { $0 == s }) != s { wrong += 1 }
                if index.count != model.count { wrong += 1 }
            }
        }
        for s in 0..<3_000 where model[s] == nil && index.find(hash: UInt32(s % 37) &* 0x9E37_79B9, { $0 == s }) != nil { wrong += 1 }
        #expect(wrong == 0)
    }
}
