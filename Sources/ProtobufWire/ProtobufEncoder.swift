import BlockCodec

/// Appends the protobuf wire format to a byte array. Nested messages are
/// written by sizing them first (`varintSize`, `lengthDelimitedSize`), so
/// nothing is encoded twice and no length is patched afterwards.
public struct ProtobufEncoder: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable
    public mutating func varint(_ value: UInt64) {
        Varint.append(value, to: &bytes)
    }

    @inlinable
    public mutating func key(_ field: Int, _ wire: ProtobufReader.WireType) {
        varint(UInt64(field) << 3 | UInt64(wire.rawValue))
    }

    /// A field's key and length; the caller appends exactly `length` bytes next.
    @inlinable
    public mutating func beginMessage(_ field: Int, length: Int) {
        key(field, .lengthDelimited)
        varint(UInt64(length))
    }

    @inlinable
    public mutating func bytesField<Bytes: Collection>(_ field: Int, _ payload: Bytes) where Bytes.Element == UInt8 {
        beginMessage(field, length: payload.count)
        bytes.append(contentsOf: payload)
    }

    @inlinable
    public mutating func stringField(_ field: Int, _ text: String) {
        bytesField(field, text.utf8)
    }

    @inlinable
    public mutating func varintField(_ field: Int, _ value: UInt64) {
        key(field, .varint)
        varint(value)
    }

    @inlinable
    public mutating func doubleField(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        var bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { bytes.append(contentsOf: $0) }
    }

    /// Bytes a varint of `value` takes.
    @inlinable
    public static func varintSize(_ value: UInt64) -> Int {
        // One byte per started group of seven bits, at least one.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    /// Bytes a length-delimited field of `length` payload bytes takes (key included).
    @inlinable
    public static func lengthDelimitedSize(_ field: Int, _ length: Int) -> Int {
        varintSize(UInt64(field) << 3) + varintSize(UInt64(length)) + length
    }
}
