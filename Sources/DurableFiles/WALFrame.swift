import BlockCodec

/// One record frame of a WAL segment or checkpoint (docs/format/wal.md):
/// `kind u8, payload length u32le, CRC-32 of kind and payload u32le,
/// payload`. The one reader of the format, shared by the replay at start,
/// the forwarders that follow the log, and their scans.
package enum WALFrame {
    /// A whole record whose checksum holds; the next frame starts at `next`.
    case record(kind: UInt8, payload: UnsafeRawBufferPointer, next: Int)
    /// The frame is not all there: it needs `needed` bytes from where it starts.
    case incomplete(needed: Int)
    /// The frame is there but its checksum does not match.
    case damaged(String)

    /// The frame starting at `offset` in `raw`.
    package static func read(_ raw: UnsafeRawBufferPointer, at offset: Int) -> WALFrame {
        guard raw.count - offset >= WAL.frameSize else { return .incomplete(needed: WAL.frameSize) }
        let kind = raw[offset]
        let length = Int(raw.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self).littleEndian)
        let crc = raw.loadUnaligned(fromByteOffset: offset + 5, as: UInt32.self).littleEndian
        let start = offset + WAL.frameSize
        guard raw.count - start >= length else { return .incomplete(needed: WAL.frameSize + length) }
        let payload = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
        let kindCRC = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 1)]))
        guard CRC32.checksum(payload, initial: kindCRC) == crc else { return .damaged("record checksum mismatch") }
        return .record(kind: kind, payload: payload, next: start + length)
    }

    /// Why the first bytes of a file are not a segment header of this
    /// version, or nil when they are.
    /// With `strict` (for `tally verify`), reserved bytes that are not zero
    /// count too; replay does not refuse a segment for them, since its
    /// records are intact.
    package static func headerProblem(_ raw: UnsafeRawBufferPointer, strict: Bool = false) -> String? {
        guard raw.count >= WAL.headerSize else { return "segment header cut short" }
        guard Array(raw[0..<4]) == WAL.magic else { return "not a WAL segment" }
        guard raw[4] == WAL.version else { return "unsupported WAL version \(raw[4])" }
        if strict, raw[5..<WAL.headerSize].contains(where: { $0 != 0 }) { return "reserved header bytes are not zero" }
        return nil
    }
}
