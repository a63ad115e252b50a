import BlockCodec
import Testing
@testable import TimeSeriesStorage

@Suite("Head open chunks in the slab")
struct HeadOpenChunkTests {
    /// Interleaved series whose chunks grow through every cell size and are
    /// cleared and begun again: each one's bytes are, bit for bit, what an
    /// `XORChunk` fed the same samples holds, and decode to those samples.
    @Test func slabChunksMatchArrayChunksBitForBit() throws {
        let slab = ChunkSlab()
        var rng = SystemRandomNumberGenerator()
        let seriesCount = 40
        var open = [HeadOpenChunk](repeating: HeadOpenChunk(), count: seriesCount)
        var reference = [XORChunk](repeating: XORChunk(), count: seriesCount)
        var samples = [[(Int64, Double)]](repeating: [], count: seriesCount)
        var wrong = 0
        var largest = 0
        for round in 0..<300_000 {
            let s = round % seriesCount
            let t = 1_000_000 + Int64(round / seriesCount) * 10_000 + Int64.random(in: 0...3, using: &rng) * (s % 3 == 0 ? 100_000 : 1)
            // Some series repeat values, some count up, some are noise (the widest samples).
            let v: Double = switch s % 4 {
            case 0: 42
            case 1: Double(round)
            case 2: Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            default: Double.random(in: -1e9...1e9, using: &rng)
            }
            open[s].append(t, v, slab: slab)
            largest = max(largest, ChunkSlab.sizeClass(holding: open[s].cellBytes))
            reference[s].append(t, v)
            samples[s].append((t, v))
            // Now and then a series' chunk is cut: its cell goes back to the slab.
            if (s % 4 != 2 && Int.random(in: 0..<400, using: &rng) == 0) || open[s].byteCount > 60_000 {
                if open[s].bytes(slab) != reference[s].bytes { wrong += 1 }
                open[s].clear(slab)
                reference[s] = XORChunk()
                samples[s] = []
            }
        }
        for s in 0..<seriesCount {
            let bytes = open[s].bytes(slab)
            if bytes != reference[s].bytes || open[s].count != samples[s].count { wrong += 1 }
            if open[s].count > 0 && (open[s].minTime != samples[s].first!.0 || open[s].maxTime != samples[s].last!.0) { wrong += 1 }
            var decoded: [(Int64, Double)] = []
            try bytes.withUnsafeBytes { raw in
                var decoder = XORDecoder(raw, count: open[s].count)
                while let (t, v) = try decoder.next() { decoded.append((t, v)) }
            }
            if !decoded.elementsEqual(samples[s], by: { $0.0 == $1.0 && $0.1.bitPattern == $1.1.bitPattern }) { wrong += 1 }
        }
        #expect(wrong == 0)
        #expect(largest >= ChunkSlab.sizes.count - 2, "the noise series reached the largest cells")
        // The cells in use are the open chunks' cells, no more.
        #expect(slab.cellBytes == open.reduce(0) { $0 + $1.cellBytes })
    }

    /// Series flushed together grow their chunks together, through every
    /// smaller cell size: the pages those sizes leave empty go back, so the
    /// slab holds about what the chunks use, not the sum of all sizes.
    @Test func chunksGrowingInLockstepLeaveNoEmptyPages() {
        let slab = ChunkSlab()
        var open = [HeadOpenChunk](repeating: HeadOpenChunk(), count: 10_000)
        for step in 0..<100 {
            for s in open.indices { open[s].append(Int64(step) * 10_000, Double(s &* 7_919 &+ step * step), slab: slab) }
        }
        let used = open.reduce(0) { $0 + $1.cellBytes }
        #expect(slab.cellBytes == used)
        // One partly carved page per size at most, beyond the cells in use.
        #expect(slab.pageBytes <= used + ChunkSlab.sizes.count * (1 << 16), "\(slab.pageBytes) pages for \(used) in cells")
    }

    @Test func freedCellsAreReusedAndCellsNeverOverlap() {
        let slab = ChunkSlab()
        let small = ChunkSlab.sizeClass(holding: 40)
        let cells = (0..<5_000).map { _ in slab.allocate(small) }
        for (k, cell) in cells.enumerated() {
            slab.address(cell, small).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: k), count: ChunkSlab.size(of: small))
        }
        var wrong = 0
        for (k, cell) in cells.enumerated() {
            let bytes = UnsafeRawBufferPointer(start: slab.address(cell, small), count: ChunkSlab.size(of: small))
            if !bytes.allSatisfy({ $0 == UInt8(truncatingIfNeeded: k) }) { wrong += 1 }
        }
        #expect(wrong == 0)
        let pages = slab.pageBytes
        // Every other cell back: no page empties, and the freed cells are the ones handed out next.
        let odd = stride(from: 1, to: cells.count, by: 2).map { cells[$0] }
        for cell in odd { slab.release(cell, small) }
        #expect(slab.pageBytes == pages)
        #expect(Set((0..<odd.count).map { _ in slab.allocate(small) }) == Set(odd))
        // All back: every page but the newest returns to the allocator; carving starts again.
        for cell in cells { slab.release(cell, small) }
        #expect(slab.pageBytes == 1 << 16)
        #expect(slab.cellBytes == 0)
        let again = (0..<5_000).map { _ in slab.allocate(small) }
        #expect(Set(again).count == 5_000 && slab.pageBytes == pages)
    }
}
