/// LEB128 varints (7 bits a byte, low group first, as Protocol Buffers and
/// Go's encoding/binary) and zig-zag signed integers, appended to a byte
/// array and read back from raw bytes.
public enum Varint {
    /// Appends an unsigned varint.
    @inlinable
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Appends a signed varint in zig-zag form (small magnitudes stay short).
    @inlinable
    public static func appendSigned(_ value: Int64, to bytes: inout [UInt8]) {
        append(zigzag(value), to: &bytes)
    }

    @inlinable
    public static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inlinable
    public static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// The bytes an unsigned varint takes.
    @inlinable
    public static func size(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// Reads an unsigned varint at `offset`, advancing it.
    @inlinable
    @inline(__always)
    public static func read(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) throws(CodecError) -> UInt64 {
        // Most residuals fit in one byte.
        if offset >= 0, offset < bytes.count, bytes[offset] < 0x80 {
            offset += 1
            return UInt64(bytes[offset - 1])
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard offset < bytes.count else { throw CodecError(.truncated, offset: offset) }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw CodecError(.malformedVarint, offset: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw CodecError(.malformedVarint, offset: start) }
        }
    }

    /// Reads a zig-zag signed varint at `offset`, advancing it.
    @inlinable
    @inline(__always)
    public static func readSigned(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) throws(CodecError) -> Int64 {
        unzigzag(try read(bytes, at: &offset))
    }
}

/// Fixed-width little-endian integers in byte arrays (the file formats'
/// headers, lengths and checksums).
public enum FixedWidth {
    @inlinable
    public static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: inout Int) throws(CodecError) -> T {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset + size <= bytes.count else { throw CodecError(.truncated, offset: offset) }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }
}
