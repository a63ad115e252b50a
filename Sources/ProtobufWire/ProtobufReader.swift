/// Reads the protobuf wire format in place: a window of a buffer and a
/// position in it. Nested messages are windows of the same buffer, so
/// decoding copies nothing until a caller asks for a string.
///
/// The buffer must outlive the reader (callers work inside
/// `withUnsafeBytes`). Every read checks the window's end and throws a
/// `ProtobufError` naming the offset, never reads past it.
public struct ProtobufReader {
    public let raw: UnsafeRawBufferPointer
    /// The next byte to read.
    public private(set) var position: Int
    /// One past the last byte of this message.
    public let end: Int

    public init(_ raw: UnsafeRawBufferPointer) {
        self.init(raw, start: 0, end: raw.count)
    }

    public init(_ raw: UnsafeRawBufferPointer, start: Int, end: Int) {
        self.raw = raw
        position = start
        self.end = end
    }

    /// Wire types of the protobuf encoding.
    public enum WireType: Int, Sendable {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    public mutating func varint() throws(ProtobufError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ProtobufError("message cut short in a varint", at: position) }
            let byte = raw[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            guard shift < 64 else { throw ProtobufError("varint longer than 10 bytes", at: position) }
        }
    }

    /// The next field's number and wire type, or nil at the end of the message.
    public mutating func field() throws(ProtobufError) -> (number: Int, wire: WireType)? {
        guard position < end else { return nil }
        let at = position
        let key = try varint()
        guard let wire = WireType(rawValue: Int(key & 7)) else {
            throw ProtobufError("unsupported wire type \(key & 7)", at: at)
        }
        let number = key >> 3
        guard number > 0, number < 1 << 29 else { throw ProtobufError("invalid field number \(number)", at: at) }
        return (Int(number), wire)
    }

    /// A length-delimited field's bytes as a reader of their own.
    public mutating func message() throws(ProtobufError) -> ProtobufReader {
        let range = try bytesRange()
        return ProtobufReader(raw, start: range.lowerBound, end: range.upperBound)
    }

    /// A length-delimited field's position in the buffer.
    public mutating func bytesRange() throws(ProtobufError) -> Range<Int> {
        let at = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw ProtobufError("field of \(length) bytes runs past the end of its message", at: at)
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// A string field, as UTF-8 (invalid sequences replaced).
    public mutating func string() throws(ProtobufError) -> String {
        let range = try bytesRange()
        return String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
    }

    public mutating func fixed64() throws(ProtobufError) -> UInt64 {
        guard end - position >= 8 else { throw ProtobufError("message cut short in a fixed64", at: position) }
        let value = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        position += 8
        return value
    }

    public mutating func fixed32() throws(ProtobufError) -> UInt32 {
        guard end - position >= 4 else { throw ProtobufError("message cut short in a fixed32", at: position) }
        let value = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        position += 4
        return value
    }

    /// A `double` field (wire type fixed64).
    public mutating func double() throws(ProtobufError) -> Double {
        Double(bitPattern: try fixed64())
    }

    /// Skips a field this reader does not know, as protobuf asks.
    public mutating func skip(_ wire: WireType) throws(ProtobufError) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .lengthDelimited: _ = try bytesRange()
        case .fixed32: _ = try fixed32()
        }
    }

    /// Checks that a field came with the wire type its schema gives it.
    public func expect(_ wire: WireType, is expected: WireType, field: StaticString) throws(ProtobufError) {
        guard wire == expected else {
            throw ProtobufError("field \(field) has wire type \(wire.rawValue), expected \(expected.rawValue)", at: position)
        }
    }
}
