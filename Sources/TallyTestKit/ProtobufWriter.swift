/// Just enough of the protobuf wire format to build Loki push requests in
/// tests, as Promtail encodes them (before snappy).
public enum ProtobufWriter {
    public static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }

    /// A length-delimited field (a string, bytes or a nested message).
    public static func bytes(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] {
        varint(field << 3 | 2) + varint(UInt64(payload.count)) + payload
    }

    public static func string(_ field: UInt64, _ text: String) -> [UInt8] {
        bytes(field, Array(text.utf8))
    }

    /// A varint field.
    public static func number(_ field: UInt64, _ value: UInt64) -> [UInt8] {
        varint(field << 3) + varint(value)
    }

    /// A Loki `EntryAdapter`: timestamp, line and structured metadata.
    public static func lokiEntry(seconds: UInt64, nanos: UInt64, line: String, metadata: [(String, String)] = []) -> [UInt8] {
        bytes(1, number(1, seconds) + number(2, nanos)) + string(2, line)
            + metadata.flatMap { bytes(3, string(1, $0.0) + string(2, $0.1)) }
    }

    /// A Loki `StreamAdapter`: its labels in selector form, then its entries.
    public static func lokiStream(_ labels: String, _ entries: [[UInt8]]) -> [UInt8] {
        string(1, labels) + entries.flatMap { bytes(2, $0) }
    }
}
