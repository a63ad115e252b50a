/// Writes Loki's push request (`logproto.PushRequest`, what Promtail and
/// Alloy send to `/loki/api/v1/push` before snappy):
///
///     PushRequest   { repeated Stream streams = 1; }
///     Stream        { string labels = 1; repeated Entry entries = 2; }
///     Entry         { Timestamp timestamp = 1; string line = 2;
///                     repeated LabelPair structuredMetadata = 3; }
///     LabelPair     { string name = 1; string value = 2; }
///     Timestamp     { int64 seconds = 1; int32 nanos = 2; }
public enum LokiPushEncoding {
    /// One entry of a stream: its time, its line and its structured
    /// metadata already encoded (`appendMetadata`), as byte ranges of the
    /// caller's storage, so that a batch is built without an allocation per entry.
    public struct Entry {
        public var nanos: Int64
        public var line: ArraySlice<UInt8>
        public var metadata: ArraySlice<UInt8>

        public init(nanos: Int64, line: ArraySlice<UInt8>, metadata: ArraySlice<UInt8> = []) {
            self.nanos = nanos
            self.line = line
            self.metadata = metadata
        }
    }

    /// Appends one stream (field 1 of `PushRequest`) whose labels are in
    /// Loki's text form (`labelText`).
    public static func appendStream(labelText: [UInt8], entries: [Entry], to encoder: inout ProtobufEncoder) {
        var size = ProtobufEncoder.lengthDelimitedSize(1, labelText.count)
        for entry in entries { size += ProtobufEncoder.lengthDelimitedSize(2, entrySize(entry)) }
        encoder.beginMessage(1, length: size)
        encoder.bytesField(1, labelText)
        for entry in entries {
            encoder.beginMessage(2, length: entrySize(entry))
            let (seconds, nanos) = split(entry.nanos)
            encoder.beginMessage(1, length: timestampSize(seconds, nanos))
            if seconds != 0 { encoder.varintField(1, UInt64(bitPattern: seconds)) }
            if nanos != 0 { encoder.varintField(2, UInt64(nanos)) }
            encoder.bytesField(2, entry.line)
            encoder.bytes.append(contentsOf: entry.metadata)
        }
    }

    /// Appends one structured metadata pair of an entry (its field 3).
    public static func appendMetadata(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let size = ProtobufEncoder.lengthDelimitedSize(1, name.count) + ProtobufEncoder.lengthDelimitedSize(2, value.count)
        var encoder = ProtobufEncoder()
        swap(&encoder.bytes, &out)
        encoder.beginMessage(3, length: size)
        encoder.bytesField(1, name)
        encoder.bytesField(2, value)
        swap(&encoder.bytes, &out)
    }

    /// A label set in Loki's text form, `{name="value", …}`, values quoted
    /// with Go's escapes (what Loki's parser reads back).
    public static func labelText<Pairs: Sequence>(_ pairs: Pairs) -> [UInt8] where Pairs.Element == (name: String, value: String) {
        var out: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        for pair in pairs {
            if !first { out += [UInt8(ascii: ","), UInt8(ascii: " ")] }
            first = false
            out += pair.name.utf8
            out += [UInt8(ascii: "="), UInt8(ascii: "\"")]
            for byte in pair.value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0..<0x20, 0x7F:
                    let hex = Array("0123456789abcdef".utf8)
                    out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Seconds and non-negative nanoseconds, as `google.protobuf.Timestamp` holds a time.
    static func split(_ nanos: Int64) -> (Int64, Int64) {
        var seconds = nanos / 1_000_000_000
        var rest = nanos % 1_000_000_000
        if rest < 0 {
            seconds -= 1
            rest += 1_000_000_000
        }
        return (seconds, rest)
    }

    static func timestampSize(_ seconds: Int64, _ nanos: Int64) -> Int {
        (seconds != 0 ? 1 + ProtobufEncoder.varintSize(UInt64(bitPattern: seconds)) : 0)
            + (nanos != 0 ? 1 + ProtobufEncoder.varintSize(UInt64(nanos)) : 0)
    }

    static func entrySize(_ entry: Entry) -> Int {
        let (seconds, nanos) = split(entry.nanos)
        var size = ProtobufEncoder.lengthDelimitedSize(1, timestampSize(seconds, nanos))
        size += ProtobufEncoder.lengthDelimitedSize(2, entry.line.count)
        return size + entry.metadata.count
    }
}
