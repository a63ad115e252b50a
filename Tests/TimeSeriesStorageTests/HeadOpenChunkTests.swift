import BlockCodec
import Testing
@testable import TimeSeriesStorage

@Suite("Head open chunks in the slab")
struct HeadOpenChunkTests {
    /// What a stored series costs in the head's slot array, before labels and chunk bytes.
    @Test func aSeriesSlotIsFiftySixBytes() {
        #expect(MemoryLayout<HeadOpenChunk>.size <= 40)
        #expect(MemoryLayout<HeadSeries?>.stride == 56)
    }

    /// Interleaved series whose chunks grow to thousands of cells and are
    /// cleared and begun again, integer coded, XOR coded, and recoded from
    /// one to the other: each one's bytes are, bit for bit, what a
    /// `HeadChunk` fed the same samples holds, and decode to those samples.
    @Test func slabChunksMatchArrayChunksBitForBit() throws {
        let slab = ChunkSlab()
        var rng = SystemRandomNumberGenerator()
        let seriesCount = 40
        var open = [HeadOpenChunk](repeating: HeadOpenChunk(), count: seriesCount)
        var reference = [HeadChunk](repeating: HeadChunk(), count: seriesCount)
        var samples = [[(Int64, Double)]](repeating: [], count: seriesCount)
        var times = [Int64](repeating: 1_000_000, count: seriesCount)
        var wrong = 0
        var longest = 0
        var recoded = 0
        var stayedInteger = 0
        for round in 0..<300_000 {
            let s = round % seriesCount
            // Steps of 10 s, jittered by up to 3 ms or (every third series) 300 s: every delta-of-delta bucket.
            times[s] += 10_000 + Int64.random(in: 0...3, using: &rng) * (s % 3 == 0 ? 100_000 : 1)
            let t = times[s]
            // Some series repeat values, some count up, some are noise (the widest samples), some
            // are integers until a fraction comes (the chunk is recoded as XOR in the middle).
            let v: Double = switch s % 5 {
            case 0: 42
            case 1: Double(round)
            case 2: Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            case 3: Double.random(in: -1e9...1e9, using: &rng)
            default: Int.random(in: 0..<300, using: &rng) == 0 ? 0.25 : Double(Int.random(in: -1_000_000...1_000_000, using: &rng))
            }
            open[s].append(t, v, slab: slab)
            reference[s].append(t, v)
            samples[s].append((t, v))
            longest = max(longest, open[s].length)
            // Now and then a series' chunk is cut: its cells go back to the slab.
            if (s % 5 != 2 && Int.random(in: 0..<400, using: &rng) == 0) || open[s].length > 60_000 {
                if open[s].bytes(slab) != reference[s].bytes { wrong += 1 }
                if s % 5 == 4 {
                    if open[s].encoding == .xor { recoded += 1 } else { stayedInteger += 1 }
                }
                open[s].clear(slab)
                reference[s] = HeadChunk()
                samples[s] = []
            }
        }
        for s in 0..<seriesCount {
            let bytes = open[s].bytes(slab)
            if bytes != reference[s].bytes || open[s].count != samples[s].count { wrong += 1 }
            if open[s].count > 0 && (open[s].minTime != samples[s].first!.0 || open[s].maxTime != samples[s].last!.0) { wrong += 1 }
            var decoded: [(Int64, Double)] = []
            try bytes.withUnsafeBytes { raw in
                var decoder = try HeadChunkDecoder(raw, count: open[s].count)
                while let (t, v) = try decoder.next() { decoded.append((t, v)) }
            }
            if !decoded.elementsEqual(samples[s], by: { $0.0 == $1.0 && $0.1.bitPattern == $1.1.bitPattern }) { wrong += 1 }
        }
        #expect(wrong == 0)
        #expect(longest > 60_000, "the noise series filled a chunk of a thousand cells")
        #expect(recoded > 0 && stayedInteger > 0, "chunks recoded as XOR: \(recoded); integer coded to the end: \(stayedInteger)")
        // The cells in use are the open chunks' cells, no more.
        #expect(slab.cellCount == open.reduce(0) { $0 + $1.cellCount })
    }

    /// Series flushed together grow their chunks together: a freed cell
    /// serves whichever chunk grows next, so the pages hold what the chunks
    /// use and one page being carved, however the chunks' sizes spread.
    @Test func chunksGrowingAndCutTogetherLeaveNoEmptyPages() {
        let slab = ChunkSlab()
        var open = [HeadOpenChunk](repeating: HeadOpenChunk(), count: 5_000)
        for step in 0..<250 {
            for s in open.indices {
                // Cut at different lengths, as series with different values are.
                if open[s].count >= 60 + s % 90 { open[s].clear(slab) }
                // Fractions: XOR coded, chunks of a few cells each.
                open[s].append(Int64(step) * 10_000, Double(s &* 7_919 &+ step * step) + 0.5, slab: slab)
            }
        }
        let used = open.reduce(0) { $0 + $1.cellBytes }
        #expect(slab.cellCount * ChunkSlab.cellBytes == used)
        #expect(slab.pageBytes <= used + used / 8 + 65_536, "\(slab.pageBytes) in pages for \(used) in cells")
    }

    @Test func freedCellsAreReusedAndCellsNeverOverlap() {
        let slab = ChunkSlab()
        let cells = (0..<5_000).map { _ in slab.allocate() }
        for (k, cell) in cells.enumerated() {
            slab.data(cell).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: k), count: ChunkSlab.dataBytes)
            slab.setNext(cell, UInt32(k))
        }
        var wrong = 0
        for (k, cell) in cells.enumerated() {
            let bytes = UnsafeRawBufferPointer(start: slab.data(cell), count: ChunkSlab.dataBytes)
            if !bytes.allSatisfy({ $0 == UInt8(truncatingIfNeeded: k) }) || slab.next(cell) != UInt32(k) { wrong += 1 }
        }
        #expect(wrong == 0)
        let pages = slab.pageBytes
        // Every other cell back: no page empties, and the freed cells are the ones handed out next.
        let odd = stride(from: 1, to: cells.count, by: 2).map { cells[$0] }
        for cell in odd { slab.release(cell) }
        #expect(slab.pageBytes == pages)
        #expect(Set((0..<odd.count).map { _ in slab.allocate() }) == Set(odd))
        // All back: every page but the newest returns to the allocator; carving starts again.
        for cell in cells { slab.release(cell) }
        #expect(slab.pageBytes == 1_024 * ChunkSlab.cellBytes)
        #expect(slab.cellCount == 0)
        let again = (0..<5_000).map { _ in slab.allocate() }
        #expect(Set(again).count == 5_000 && slab.pageBytes == pages)
    }
}
