import BlockCodec

/// A series' open chunk: the encoder's state, and the bytes it wrote in a
/// ring of cells of the head's `ChunkSlab` (none before the first sample).
/// Each sample is encoded into scratch memory, then its bytes go to the
/// chain, so a sample may span two cells. A chunk's first nine bytes are
/// its encoding, which the encoder knows, and its first timestamp, which
/// `minTime` already holds: they are not stored, and `bytes` puts them back.
struct HeadOpenChunk: Sendable {
    private var encoder = HeadSampleEncoder()
    /// `maxTime - minTime`: the head cuts a chunk before its span reaches
    /// `HeadChunkRef.maxSpan`, so 32 bits hold it.
    private var span: UInt32 = 0
    /// The chunk's last cell, whose `next` is its first: both ends are one step away.
    private var last: UInt32 = 0
    /// Bytes in the cells: the chunk's bytes after the first timestamp.
    private(set) var byteCount: UInt16 = 0
    /// Bytes of the encoding and the first timestamp, which the cells leave out.
    static let headerBytes = 9
    /// The first timestamp's bytes: the stream's first, which the cells leave out.
    private static let timestampBytes = 8
    /// Bits used in the last byte (0: all of it).
    private var tailBits: UInt8 = 0

    var count: Int { encoder.count }
    var maxTime: Int64 { encoder.maxTime }
    var minTime: Int64 { encoder.maxTime - Int64(span) }
    var lastValue: Double { encoder.lastValue }
    /// The chunk's length in bytes, the first timestamp included.
    var length: Int { count > 0 ? Self.headerBytes + Int(byteCount) : 0 }
    var encoding: HeadChunkEncoding { encoder.encoding }

    /// Whether appending `value` would recode the chunk as XOR.
    func recodes(_ value: Double) -> Bool { !encoder.accepts(value) }

    /// Cells held.
    var cellCount: Int { (Int(byteCount) + ChunkSlab.dataBytes - 1) / ChunkSlab.dataBytes }

    /// Appends a sample whose timestamp is not below the last one and less
    /// than `HeadChunkRef.maxSpan` past the first (the head checks both
    /// before). An integer-coded chunk that meets a value the integer coding
    /// cannot hold is recoded as XOR first.
    mutating func append(_ timestamp: Int64, _ value: Double, slab: ChunkSlab) {
        if !write(timestamp, value, slab: slab) {
            recodeAsXOR(slab)
            _ = write(timestamp, value, slab: slab) // XOR takes every value
        }
    }

    /// Encodes a sample into the cells, or returns false with nothing written.
    private mutating func write(_ timestamp: Int64, _ value: Double, slab: ChunkSlab) -> Bool {
        let first = encoder.count == 0
        let previous = encoder.maxTime
        let written = withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { scratch -> Bool in
            let base = scratch.baseAddress! // a 32-byte allocation
            // A partly used last byte is rewritten with the sample's first bits in it.
            let carried = tailBits != 0
            if carried { base.storeBytes(of: lastByte(slab), as: UInt8.self) }
            var writer = RawBitWriter(base: base, byteCount: carried ? 1 : 0, tailBits: tailBits)
            guard encoder.append(timestamp, value, into: &writer) else { return false }
            // The first sample starts byte-aligned with its 64-bit timestamp: kept as `minTime` instead.
            var from = first ? Self.timestampBytes : 0
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
            return true
        }
        if written && !first { span &+= UInt32(truncatingIfNeeded: timestamp &- previous) }
        return written
    }

    /// Writes the chunk's samples again, XOR coded, into fresh cells.
    private mutating func recodeAsXOR(_ slab: ChunkSlab) {
        let samples = HeadChunkDecoder.samples(bytes(slab), count: count)
        clear(slab)
        encoder = HeadSampleEncoder(integers: false)
        for (t, v) in samples { _ = write(t, v, slab: slab) }
    }

    private func lastByte(_ slab: ChunkSlab) -> UInt8 {
        slab.data(last).load(fromByteOffset: (Int(byteCount) - 1) % ChunkSlab.dataBytes, as: UInt8.self)
    }

    /// A copy of the chunk's bytes.
    func bytes(_ slab: ChunkSlab) -> [UInt8] {
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
            let raw = UnsafeMutableRawBufferPointer(out)
            raw.storeBytes(of: encoding.rawValue, as: UInt8.self)
            // The first timestamp, as the encoder wrote it: 64 bits, most significant first.
            raw.storeBytes(of: UInt64(bitPattern: minTime).bigEndian, toByteOffset: 1, as: UInt64.self)
            var done = 0
            var cell = slab.next(last)
            while done < Int(byteCount) {
                let n = min(ChunkSlab.dataBytes, Int(byteCount) - done)
                let at = Self.headerBytes + done
                UnsafeMutableRawBufferPointer(rebasing: raw[at..<at + n])
                    .copyMemory(from: UnsafeRawBufferPointer(start: slab.data(cell), count: n))
                done += n
                cell = slab.next(cell)
            }
            initialized = Self.headerBytes + done
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
