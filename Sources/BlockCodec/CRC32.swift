import CZlib

/// CRC-32 (IEEE 802.3, the zlib/PNG polynomial) from the system's libz,
/// which checksums every WAL record and block chunk (docs/format/).
public enum CRC32 {
    /// The checksum of `bytes`, continuing from `initial` (0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return initial }
        var crc = UInt(initial)
        var offset = 0
        // libz takes a 32-bit length: feed large buffers in pieces.
        while offset < bytes.count {
            let length = min(bytes.count - offset, Int(UInt32.max >> 1))
            crc = CZlib.crc32(crc, base.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(length))
            offset += length
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// The checksum of a byte sequence.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { checksum($0) }
    }
}
