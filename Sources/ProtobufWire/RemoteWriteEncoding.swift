/// Writes remote_write 1.0 `TimeSeries` into a `WriteRequest` being built
/// (the schema is on `RemoteWriteRequest`). Labels must come sorted by name,
/// as the protocol asks of senders.
public enum RemoteWriteEncoding {
    /// Appends one `TimeSeries` (field 1 of `WriteRequest`) with these label
    /// pairs (UTF-8 bytes) and samples.
    public static func appendSeries<Pairs: Collection, Samples: Collection>(
        labels: Pairs, samples: Samples, to encoder: inout ProtobufEncoder
    ) where Pairs.Element == (name: String, value: String), Samples.Element == (timestamp: Int64, value: Double) {
        var size = 0
        for pair in labels {
            size += ProtobufEncoder.lengthDelimitedSize(1, labelSize(pair))
        }
        for sample in samples {
            size += ProtobufEncoder.lengthDelimitedSize(2, sampleSize(sample.timestamp))
        }
        encoder.beginMessage(1, length: size)
        for pair in labels {
            encoder.beginMessage(1, length: labelSize(pair))
            encoder.stringField(1, pair.name)
            encoder.stringField(2, pair.value)
        }
        for sample in samples {
            encoder.beginMessage(2, length: sampleSize(sample.timestamp))
            encoder.doubleField(1, sample.value)
            encoder.varintField(2, UInt64(bitPattern: sample.timestamp))
        }
    }

    /// The `Label` fields of a series, encoded once and reused in every
    /// request that carries the series.
    public static func labelFields<Pairs: Collection>(_ labels: Pairs) -> [UInt8] where Pairs.Element == (name: String, value: String) {
        var encoder = ProtobufEncoder()
        for pair in labels {
            encoder.beginMessage(1, length: labelSize(pair))
            encoder.stringField(1, pair.name)
            encoder.stringField(2, pair.value)
        }
        return encoder.bytes
    }

    /// Appends one `TimeSeries` of pre-encoded label fields and one sample.
    @inlinable
    public static func appendSeries(labelFields: [UInt8], timestamp: Int64, value: Double, to encoder: inout ProtobufEncoder) {
        let sample = 10 + ProtobufEncoder.varintSize(UInt64(bitPattern: timestamp))
        encoder.beginMessage(1, length: labelFields.count + ProtobufEncoder.lengthDelimitedSize(2, sample))
        encoder.bytes.append(contentsOf: labelFields)
        encoder.beginMessage(2, length: sample)
        encoder.doubleField(1, value)
        encoder.varintField(2, UInt64(bitPattern: timestamp))
    }

    /// Appends one `MetricMetadata` (field 3 of `WriteRequest`).
    public static func appendMetadata(family: String, type: Int, help: String, unit: String, to encoder: inout ProtobufEncoder) {
        let size = 1 + ProtobufEncoder.varintSize(UInt64(type))
            + ProtobufEncoder.lengthDelimitedSize(2, family.utf8.count)
            + ProtobufEncoder.lengthDelimitedSize(4, help.utf8.count)
            + ProtobufEncoder.lengthDelimitedSize(5, unit.utf8.count)
        encoder.beginMessage(3, length: size)
        encoder.varintField(1, UInt64(type))
        encoder.stringField(2, family)
        encoder.stringField(4, help)
        encoder.stringField(5, unit)
    }

    private static func labelSize(_ pair: (name: String, value: String)) -> Int {
        ProtobufEncoder.lengthDelimitedSize(1, pair.name.utf8.count) + ProtobufEncoder.lengthDelimitedSize(2, pair.value.utf8.count)
    }

    private static func sampleSize(_ timestamp: Int64) -> Int {
        // Key and eight bytes of the double, key and varint of the timestamp.
        9 + 1 + ProtobufEncoder.varintSize(UInt64(bitPattern: timestamp))
    }
}
