import ProtobufWire
import TelemetryModel

/// Every value of one summary family (a timer, histogram or distribution
/// name) over a span, across all its series, as one sketch: what the shards
/// hand a `SketchRollupSink` at each flush, and what the sink merges into
/// longer spans, so that quantiles over a day come from the day's values.
public struct SketchRollup: Sendable {
    /// The family's output name (`api_latency_seconds` for a timer `api.latency`).
    public internal(set) var name: String
    public let kind: MetricKind
    public internal(set) var sketch = DDSketch()

    public init(name: String, kind: MetricKind) {
        self.name = name
        self.kind = kind
    }

    init(name: String, kind: MetricKind, sketch: DDSketch) {
        self.name = name
        self.kind = kind
        self.sketch = sketch
    }

    public var isEmpty: Bool { sketch.isEmpty }
    /// How many values the rollup holds (weighted by 1 ÷ sample rate).
    public var count: Double { sketch.count }

    public mutating func merge(_ other: SketchRollup) {
        sketch.merge(other.sketch)
    }

    /// The q-quantile in the family's output unit (a timer's milliseconds
    /// become seconds, as its series are); nil when empty.
    public func quantile(_ q: Double, mapping: SketchMapping) -> Double? {
        sketch.quantile(q, mapping: mapping).map { kind == .timer ? $0 / 1000 : $0 }
    }

    /// Rollups as an `AggregateRequest` (`AggregateWire`): the family's output
    /// name is the aggregate's name, without tags.
    public static func encode(_ rollups: [SketchRollup], relativeAccuracy: Double) -> [UInt8] {
        var encoder = ProtobufEncoder(capacity: 256 * rollups.count)
        for rollup in rollups where !rollup.isEmpty {
            Array(rollup.name.utf8).withUnsafeBytes { key in
                AggregateWire.appendSketch(
                    key: key, nameLength: key.count, kind: rollup.kind, sketch: rollup.sketch, accuracy: relativeAccuracy, to: &encoder)
            }
        }
        return encoder.bytes
    }

    /// Reads what `encode` wrote; fails naming what is wrong, including a
    /// sketch of another relative accuracy (it cannot be merged with this one's).
    public static func decode(_ bytes: [UInt8], relativeAccuracy: Double) throws(AggregateWire.Refusal) -> [SketchRollup] {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(AggregateWire.Refusal) in
                let decoded = try AggregateWire.decode(raw, relativeAccuracy: relativeAccuracy, hllPrecision: 0, maxNameLength: 1 << 16)
                var rollups: [SketchRollup] = []
                rollups.reserveCapacity(decoded.count)
                for aggregate in decoded {
                    guard case .sketch(let sketch)? = aggregate.state else { continue }
                    rollups.append(SketchRollup(
                        name: String(decoding: UnsafeRawBufferPointer(rebasing: raw[aggregate.name]), as: UTF8.self),
                        kind: aggregate.kind, sketch: sketch))
                }
                return rollups
            }
        }.get()
    }
}

/// Where the shards hand each interval's rollups (one per summary family
/// with values), stamped with the interval's end (milliseconds).
public protocol SketchRollupSink: Sendable {
    /// Whether the sink keeps the rollups of the family with this output
    /// name: the shards build rollups only for those (asked once per series
    /// when it is created).
    func keeps(family name: String) -> Bool
    func add(_ rollups: [SketchRollup], intervalEnd: Int64)
}

extension SketchRollupSink {
    public func keeps(family name: String) -> Bool { true }
}
