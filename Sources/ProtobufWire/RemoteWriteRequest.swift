/// A Prometheus remote_write 1.0 `WriteRequest`, decoded in place: series
/// as byte ranges of the (decompressed) body, their samples, and the metric
/// metadata. Flat arrays instead of a message per series, and labels left
/// undecoded until asked for (`labels(of:in:)`): a receiver that recognises
/// a series by the bytes of its labels (sent again every scrape) never
/// decodes them again. The receive path's budget is under a microsecond a
/// sample.
///
/// Schema (prometheus/prompb/remote.proto and types.proto):
/// `WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }`,
/// `TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }`,
/// `Label { string name = 1; string value = 2; }`, `Sample { double value = 1; int64 timestamp = 2; }`,
/// `MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }`.
/// Unknown fields are skipped, as protobuf requires.
public struct RemoteWriteRequest: Sendable {
    /// One `TimeSeries`: its bytes, and an index range into `samples`.
    public struct Series: Sendable {
        /// The whole `TimeSeries` message.
        public var message: Range<Int>
        /// The bytes of its label fields, when they are contiguous (as every
        /// sender writes them): a key that names the series as sent.
        public var labelBytes: Range<Int>?
        public var samples: Range<Int>
        /// Native histogram samples, which tally does not store.
        public var histograms: Int
        /// Exemplars, which tally does not store.
        public var exemplars: Int
    }

    /// A label pair as byte ranges of the body.
    public struct LabelRange: Sendable {
        public var name: Range<Int>
        public var value: Range<Int>
    }

    /// One `Sample`.
    public struct SampleValue: Sendable {
        public var timestamp: Int64
        public var value: Double
    }

    /// One `MetricMetadata`: the family's type (Prometheus's enum, 0 unknown …
    /// 7 stateset) and byte ranges of its name, help and unit.
    public struct Metadata: Sendable {
        public var type: Int
        public var family: Range<Int>
        public var help: Range<Int>
        public var unit: Range<Int>
    }

    public var series: [Series] = []
    public var samples: [SampleValue] = []
    public var metadata: [Metadata] = []

    public init() {}

    /// Decodes `raw` (snappy already undone); `raw` must stay alive while the
    /// ranges are read. Label messages are checked only for their framing
    /// here; `labels(of:in:)` reads them.
    public static func decode(_ raw: UnsafeRawBufferPointer) throws(ProtobufError) -> RemoteWriteRequest {
        var request = RemoteWriteRequest()
        // A series of a few labels and one sample takes about 100 bytes.
        request.series.reserveCapacity(raw.count / 96)
        request.samples.reserveCapacity(raw.count / 96)
        var reader = ProtobufReader(raw)
        while let (number, wire) = try reader.field() {
            switch number {
            case 1:
                try reader.expect(wire, is: .lengthDelimited, field: "WriteRequest.timeseries")
                try request.decodeSeries(try reader.message())
            case 3:
                try reader.expect(wire, is: .lengthDelimited, field: "WriteRequest.metadata")
                try request.decodeMetadata(try reader.message())
            default:
                try reader.skip(wire)
            }
        }
        return request
    }

    private mutating func decodeSeries(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        var entry = Series(
            message: message.position..<message.end, labelBytes: nil, samples: samples.count..<samples.count, histograms: 0, exemplars: 0)
        // The run of label fields, and whether another field broke it.
        var labelRun: Range<Int>?
        var labelRunBroken = false
        while let (number, wire) = try reader.field() {
            switch number {
            case 1:
                try reader.expect(wire, is: .lengthDelimited, field: "TimeSeries.labels")
                let fieldStart = reader.position - 1 // the key of field 1, wire type 2, is one byte
                let end = try reader.bytesRange().upperBound
                if let run = labelRun {
                    if run.upperBound != fieldStart { labelRunBroken = true }
                    labelRun = run.lowerBound..<end
                } else {
                    labelRun = fieldStart..<end
                }
            case 2:
                try reader.expect(wire, is: .lengthDelimited, field: "TimeSeries.samples")
                var sample = try reader.message()
                var value = SampleValue(timestamp: 0, value: 0)
                while let (n, w) = try sample.field() {
                    switch n {
                    case 1:
                        try sample.expect(w, is: .fixed64, field: "Sample.value")
                        value.value = try sample.double()
                    case 2:
                        try sample.expect(w, is: .varint, field: "Sample.timestamp")
                        value.timestamp = Int64(bitPattern: try sample.varint())
                    default: try sample.skip(w)
                    }
                }
                samples.append(value)
            case 3:
                try reader.skip(wire)
                entry.exemplars += 1
            case 4:
                try reader.skip(wire)
                entry.histograms += 1
            default:
                try reader.skip(wire)
            }
        }
        entry.samples = entry.samples.lowerBound..<samples.count
        entry.labelBytes = labelRunBroken ? nil : labelRun
        series.append(entry)
    }

    /// The label pairs of a series, in the order sent.
    public static func labels(of series: Series, in raw: UnsafeRawBufferPointer) throws(ProtobufError) -> [LabelRange] {
        var reader = ProtobufReader(raw, start: series.message.lowerBound, end: series.message.upperBound)
        var labels: [LabelRange] = []
        labels.reserveCapacity(8)
        while let (number, wire) = try reader.field() {
            guard number == 1 else {
                try reader.skip(wire)
                continue
            }
            try reader.expect(wire, is: .lengthDelimited, field: "TimeSeries.labels")
            var pair = try reader.message()
            let empty = pair.position..<pair.position
            var label = LabelRange(name: empty, value: empty)
            while let (n, w) = try pair.field() {
                switch n {
                case 1:
                    try pair.expect(w, is: .lengthDelimited, field: "Label.name")
                    label.name = try pair.bytesRange()
                case 2:
                    try pair.expect(w, is: .lengthDelimited, field: "Label.value")
                    label.value = try pair.bytesRange()
                default: try pair.skip(w)
                }
            }
            labels.append(label)
        }
        return labels
    }

    private mutating func decodeMetadata(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        let empty = reader.position..<reader.position
        var entry = Metadata(type: 0, family: empty, help: empty, unit: empty)
        while let (number, wire) = try reader.field() {
            switch (number, wire) {
            case (1, .varint): entry.type = Int(truncatingIfNeeded: try reader.varint())
            case (2, .lengthDelimited): entry.family = try reader.bytesRange()
            case (4, .lengthDelimited): entry.help = try reader.bytesRange()
            case (5, .lengthDelimited): entry.unit = try reader.bytesRange()
            default: try reader.skip(wire)
            }
        }
        metadata.append(entry)
    }

    /// Prometheus's names of `MetricMetadata.MetricType`, by number.
    public static let metricTypeNames = ["unknown", "counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset"]
}
