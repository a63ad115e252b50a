import BlockCodec

/// A series' open chunk: the encoder's state, and the bytes it wrote in a
/// cell of the head's `ChunkSlab` (none before the first sample).
struct HeadOpenChunk: Sendable {
    private static let noCell: UInt8 = 0xFF

    private(set) var minTime: Int64 = 0
    private var encoder = XORSampleEncoder()
    private var cell: UInt32 = 0
    private(set) var byteCount: UInt16 = 0
    private var tailBits: UInt8 = 0
    private var sizeClass = HeadOpenChunk.noCell

    var count: Int { encoder.count }
    var maxTime: Int64 { encoder.maxTime }
    var lastValue: Double { encoder.lastValue }

    /// Appends a sample, moving the bytes to a larger cell first when the
    /// worst case of one sample would not fit.
    mutating func append(_ timestamp: Int64, _ value: Double, slab: ChunkSlab) {
        let needed = Int(byteCount) + XORSampleEncoder.maxSampleBytes
        if sizeClass == Self.noCell {
            sizeClass = UInt8(ChunkSlab.sizeClass(holding: needed))
            cell = slab.allocate(Int(sizeClass))
        } else if needed > ChunkSlab.size(of: Int(sizeClass)) {
            let larger = ChunkSlab.sizeClass(holding: needed)
            let moved = slab.allocate(larger)
            slab.address(moved, larger).copyMemory(from: slab.address(cell, Int(sizeClass)), byteCount: Int(byteCount))
            slab.release(cell, Int(sizeClass))
            (cell, sizeClass) = (moved, UInt8(larger))
        }
        if encoder.count == 0 { minTime = timestamp }
        var writer = RawBitWriter(base: slab.address(cell, Int(sizeClass)), byteCount: Int(byteCount), tailBits: tailBits)
        encoder.append(timestamp, value, into: &writer)
        byteCount = UInt16(writer.byteCount)
        tailBits = writer.tailBits
    }

    /// A copy of the bytes written.
    func bytes(_ slab: ChunkSlab) -> [UInt8] {
        guard sizeClass != Self.noCell else { return [] }
        return Array(UnsafeRawBufferPointer(start: slab.address(cell, Int(sizeClass)), count: Int(byteCount)))
    }

    /// Gives the cell back and starts over empty.
    mutating func clear(_ slab: ChunkSlab) {
        if sizeClass != Self.noCell { slab.release(cell, Int(sizeClass)) }
        self = HeadOpenChunk()
    }

    /// Bytes of the cell held.
    var cellBytes: Int { sizeClass == Self.noCell ? 0 : ChunkSlab.size(of: Int(sizeClass)) }
}
