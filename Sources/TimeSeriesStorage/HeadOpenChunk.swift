import BlockCodec

/// A series' open chunk: the encoder's state, and the bytes it wrote in a
/// ring of cells of the head's `ChunkSlab` (none before the first sample).
/// Each sample is encoded into scratch memory, then its bytes go to the
/// chain, so a sample may span two cells.
struct HeadOpenChunk: Sendable {
    private(set) var minTime: Int64 = 0
    private var encoder = XORSampleEncoder()
    /// The chunk's last cell, whose `next` is its first: both ends are one step away.
    private var last: UInt32 = 0
    private(set) var byteCount: UInt16 = 0
    /// Bits used in the last byte (0: all of it).
    private var tailBits: UInt8 = 0

    var count: Int { encoder.count }
    var maxTime: Int64 { encoder.maxTime }
    var lastValue: Double { encoder.lastValue }

    /// Cells held.
    var cellCount: Int { (Int(byteCount) + ChunkSlab.dataBytes - 1) / ChunkSlab.dataBytes }

    mutating func append(_ timestamp: Int64, _ value: Double, slab: ChunkSlab) {
        if encoder.count == 0 { minTime = timestamp }
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { scratch in
            let base = scratch.baseAddress! // a 32-byte allocation
            // A partly used last byte is rewritten with the sample's first bits in it.
            let carried = tailBits != 0
            if carried { base.storeBytes(of: lastByte(slab), as: UInt8.self) }
            var writer = RawBitWriter(base: base, byteCount: carried ? 1 : 0, tailBits: tailBits)
            encoder.append(timestamp, value, into: &writer)
            var from = 0
            if carried {
                let at = (Int(byteCount) - 1) % ChunkSlab.dataBytes
                slab.data(last).storeBytes(of: base.load(as: UInt8.self), toByteOffset: at, as: UInt8.self)
                from = 1
            }
            while from < writer.byteCount {
                var offset = Int(byteCount) % ChunkSlab.dataBytes
                if byteCount == 0 {
                    last = slab.allocate()
                    slab.setNext(last, last)
                } else if offset == 0 {
                    let cell = slab.allocate()
                    slab.setNext(cell, slab.next(last))
                    slab.setNext(last, cell)
                    last = cell
                }
                offset = Int(byteCount) % ChunkSlab.dataBytes
                let n = min(ChunkSlab.dataBytes - offset, writer.byteCount - from)
                (slab.data(last) + offset).copyMemory(from: base + from, byteCount: n)
                from += n
                byteCount += UInt16(n)
            }
            tailBits = writer.tailBits
        }
    }

    private func lastByte(_ slab: ChunkSlab) -> UInt8 {
        slab.data(last).load(fromByteOffset: (Int(byteCount) - 1) % ChunkSlab.dataBytes, as: UInt8.self)
    }

    /// A copy of the bytes written.
    func bytes(_ slab: ChunkSlab) -> [UInt8] {
        guard byteCount > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: Int(byteCount)) { out, initialized in
            var cell = slab.next(last)
            var done = 0
            while done < Int(byteCount) {
                let n = min(ChunkSlab.dataBytes, Int(byteCount) - done)
                UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(out)[done..<done + n])
                    .copyMemory(from: UnsafeRawBufferPointer(start: slab.data(cell), count: n))
                done += n
                cell = slab.next(cell)
            }
            initialized = done
        }
    }

    /// Gives the cells back and starts over empty.
    mutating func clear(_ slab: ChunkSlab) {
        if byteCount > 0 {
            var cell = slab.next(last)
            for _ in 0..<cellCount {
                let following = slab.next(cell)
                slab.release(cell)
                cell = following
            }
        }
        self = HeadOpenChunk()
    }

    /// Bytes of the cells held.
    var cellBytes: Int { cellCount * ChunkSlab.cellBytes }
}
