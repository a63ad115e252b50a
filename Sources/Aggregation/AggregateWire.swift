import ProtobufWire
import TelemetryModel

/// Forwarded state that cannot travel as plain records: an agent's sketch
/// of an interval's timings, or the sketch of an estimated set.
enum AggregateState: Sendable {
    case sketch(DDSketch)
    case registers(HyperLogLog)
}

/// The request an agent sends its central tally (`POST /api/v1/aggregates`,
/// snappy-compressed; docs/scale-out.md): the interval's StatsD state of
/// every series it saw, so that quantiles and distinct counts at the
/// centre are those of all agents' data together.
///
///     AggregateRequest { repeated Aggregate aggregates = 1; }
///     Aggregate {
///       bytes name = 1;          // the StatsD name as received
///       bytes tags = 2;          // the DogStatsD tags as received (k:v,k2:v2)
///       uint32 kind = 3;         // 0 counter, 1 gauge, 2 timer, 3 histogram, 4 distribution, 5 set
///       double value = 4;        // counter: the interval's sum; gauge: its value
///       Sketch sketch = 5;       // timer, histogram, distribution
///       repeated fixed64 members = 6 [packed];   // set, exact: the members' hashes
///       bytes registers = 7;     // set, estimated: HyperLogLog registers
///     }
///     Sketch {
///       double relative_accuracy = 1; double count = 2; double sum = 3; double min = 4; double max = 5;
///       double zero_count = 6; repeated sint32 positive_index = 7 [packed];
///       repeated double positive_count = 8 [packed]; repeated sint32 negative_index = 9 [packed];
///       repeated double negative_count = 10 [packed];
///     }
///
/// Requests concatenate: two requests' bytes one after the other are one
/// request with both lists, which is how the agent's queue batches them.
public enum AggregateWire {
    /// One aggregate as read from a request: its key's ranges in the request
    /// bytes and its state.
    struct Decoded {
        var name: Range<Int>
        var tags: Range<Int>
        var kind: MetricKind
        var value: Double
        var state: AggregateState?
        var members: [UInt64]
        /// The relative accuracy the agent's sketch was built with.
        var sketchAccuracy: Double?
    }

    /// Why a request is refused whole.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    // MARK: Writing (the agent)

    static func appendCounterOrGauge(key: UnsafeRawBufferPointer, nameLength: Int, kind: MetricKind, value: Double, to encoder: inout ProtobufEncoder) {
        // Sized first and written in place: the most common aggregates cost no buffer of their own.
        encoder.beginMessage(1, length: keyFieldsSize(key.count, nameLength, kind) + 9)
        keyFields(key, nameLength, kind, into: &encoder)
        encoder.doubleField(4, value)
    }

    static func appendSketch(
        key: UnsafeRawBufferPointer, nameLength: Int, kind: MetricKind, sketch: DDSketch, accuracy: Double, to encoder: inout ProtobufEncoder
    ) {
        var body = ProtobufEncoder(capacity: key.count + 128)
        keyFields(key, nameLength, kind, into: &body)
        let (positive, negative, zeroCount) = sketch.parts()
        var inner = ProtobufEncoder(capacity: 64 + 12 * (positive.count + negative.count))
        inner.doubleField(1, accuracy)
        inner.doubleField(2, sketch.count)
        inner.doubleField(3, sketch.sum)
        inner.doubleField(4, sketch.min)
        inner.doubleField(5, sketch.max)
        inner.doubleField(6, zeroCount)
        for (field, buckets) in [(7, positive), (9, negative)] where !buckets.isEmpty {
            var indexes = ProtobufEncoder(capacity: buckets.count * 2)
            for bucket in buckets { indexes.varint(UInt64(bitPattern: Int64(bucket.index) << 1 ^ Int64(bucket.index) >> 63)) }
            inner.bytesField(field, indexes.bytes)
            var counts: [UInt8] = []
            counts.reserveCapacity(buckets.count * 8)
            for bucket in buckets { withUnsafeBytes(of: bucket.count.bitPattern.littleEndian) { counts.append(contentsOf: $0) } }
            inner.bytesField(field + 1, counts)
        }
        body.bytesField(5, inner.bytes)
        encoder.bytesField(1, body.bytes)
    }

    static func appendSet(key: UnsafeRawBufferPointer, nameLength: Int, set: SetCardinality, to encoder: inout ProtobufEncoder) {
        var body = ProtobufEncoder(capacity: key.count + 64)
        keyFields(key, nameLength, .set, into: &body)
        let (members, sketch) = set.forwarded
        if let sketch {
            body.bytesField(7, sketch.registerBytes)
        } else if !members.isEmpty {
            var packed: [UInt8] = []
            packed.reserveCapacity(members.count * 8)
            members.forEach { member in withUnsafeBytes(of: member.littleEndian) { packed.append(contentsOf: $0) } }
            body.bytesField(6, packed)
        }
        encoder.bytesField(1, body.bytes)
    }

    private static func keyFieldsSize(_ keyLength: Int, _ nameLength: Int, _ kind: MetricKind) -> Int {
        ProtobufEncoder.lengthDelimitedSize(1, nameLength)
            + (keyLength > nameLength ? ProtobufEncoder.lengthDelimitedSize(2, keyLength - nameLength) : 0)
            + 1 + ProtobufEncoder.varintSize(UInt64(kind.rawValue))
    }

    private static func keyFields(_ key: UnsafeRawBufferPointer, _ nameLength: Int, _ kind: MetricKind, into body: inout ProtobufEncoder) {
        body.bytesField(1, UnsafeRawBufferPointer(rebasing: key[0..<nameLength]))
        if key.count > nameLength { body.bytesField(2, UnsafeRawBufferPointer(rebasing: key[nameLength...])) }
        body.varintField(3, UInt64(kind.rawValue))
    }

    // MARK: Reading (the central tally)

    /// Decodes and checks a whole request before anything of it is applied:
    /// a sketch of another accuracy or a set sketch of another precision
    /// than this tally's refuses the request, naming the aggregate.
    static func decode(
        _ raw: UnsafeRawBufferPointer, relativeAccuracy: Double, hllPrecision: Int, maxNameLength: Int
    ) throws(Refusal) -> [Decoded] {
        var out: [Decoded] = []
        do {
            var reader = ProtobufReader(raw)
            while let (field, wire) = try reader.field() {
                guard field == 1, wire == .lengthDelimited else {
                    try reader.skip(wire)
                    continue
                }
                let start = reader.position
                let aggregate = try decodeAggregate(try reader.message(), raw: raw)
                // Named only in a refusal: no String per aggregate otherwise.
                var name: String { String(decoding: UnsafeRawBufferPointer(rebasing: raw[aggregate.name]), as: UTF8.self) }
                guard !aggregate.name.isEmpty, aggregate.name.count <= maxNameLength else {
                    throw Refusal(description: "aggregate \(out.count) at byte \(start): a name of 1 to \(maxNameLength) bytes is needed")
                }
                switch aggregate.state {
                case .sketch?:
                    guard aggregate.kind.isSummary else { throw Refusal(description: "aggregate \(name): a sketch for a \(aggregate.kind)") }
                case .registers(let hll)?:
                    guard aggregate.kind == .set else { throw Refusal(description: "aggregate \(name): set registers for a \(aggregate.kind)") }
                    guard hll.precision == hllPrecision else {
                        throw Refusal(description: "aggregate \(name): a set sketch of precision \(hll.precision), this tally's is \(hllPrecision) (aggregation.hll_precision must match)")
                    }
                case nil:
                    guard !aggregate.kind.isSummary else { throw Refusal(description: "aggregate \(name): a \(aggregate.kind) without its sketch") }
                }
                out.append(aggregate)
            }
        } catch let error as ProtobufError {
            throw Refusal(description: "not an AggregateRequest: \(error)")
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw Refusal(description: "\(error)")
        }
        for aggregate in out {
            if case .sketch? = aggregate.state, let accuracy = aggregate.sketchAccuracy, abs(accuracy - relativeAccuracy) > 1e-12 {
                throw Refusal(description: "a sketch of relative accuracy \(accuracy), this tally's is \(relativeAccuracy) (aggregation.sketch_relative_accuracy must match)")
            }
        }
        return out
    }

    private static func decodeAggregate(_ message: ProtobufReader, raw: UnsafeRawBufferPointer) throws -> Decoded {
        var reader = message
        var out = Decoded(name: 0..<0, tags: 0..<0, kind: .counter, value: 0, state: nil, members: [], sketchAccuracy: nil)
        var kindSeen = false
        while let (field, wire) = try reader.field() {
            switch (field, wire) {
            case (1, .lengthDelimited): out.name = try reader.bytesRange()
            case (2, .lengthDelimited): out.tags = try reader.bytesRange()
            case (3, .varint):
                let value = try reader.varint()
                guard value <= 255, let kind = MetricKind(rawValue: UInt8(value)) else { throw Refusal(description: "unknown kind \(value)") }
                out.kind = kind
                kindSeen = true
            case (4, .fixed64):
                out.value = try reader.double()
                guard out.value.isFinite else { throw Refusal(description: "a value that is not finite") }
            case (5, .lengthDelimited):
                out.state = .sketch(try decodeSketch(try reader.message(), accuracy: &out.sketchAccuracy))
            case (6, .lengthDelimited):
                let range = try reader.bytesRange()
                guard range.count % 8 == 0 else { throw Refusal(description: "set members are not whole 64-bit hashes") }
                for offset in stride(from: range.lowerBound, to: range.upperBound, by: 8) {
                    out.members.append(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                }
            case (7, .lengthDelimited):
                guard let hll = HyperLogLog(registers: Array(raw[try reader.bytesRange()])) else {
                    throw Refusal(description: "set registers are not a HyperLogLog")
                }
                out.state = .registers(hll)
            default:
                try reader.skip(wire)
            }
        }
        guard kindSeen else { throw Refusal(description: "an aggregate without its kind") }
        return out
    }

    private static func decodeSketch(_ message: ProtobufReader, accuracy: inout Double?) throws -> DDSketch {
        var reader = message
        var values = [Double](repeating: 0, count: 7)
        var indexes: [[Int32]] = [[], []]
        var counts: [[Double]] = [[], []]
        while let (field, wire) = try reader.field() {
            switch (field, wire) {
            case (1...6, .fixed64): values[field] = try reader.double()
            case (7, .lengthDelimited), (9, .lengthDelimited):
                var packed = try reader.message()
                while packed.position < packed.end {
                    let zigzag = try packed.varint()
                    let value = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
                    // Any finite value at any accuracy this tally accepts maps well inside ±2^28.
                    guard value > -(1 << 28), value < 1 << 28 else { throw Refusal(description: "a sketch bucket index out of range") }
                    let index = Int32(value)
                    indexes[field == 7 ? 0 : 1].append(index)
                }
            case (8, .lengthDelimited), (10, .lengthDelimited):
                var packed = try reader.message()
                while packed.position < packed.end {
                    let count = Double(bitPattern: try packed.fixed64())
                    guard count >= 0, count <= Double(Float.greatestFiniteMagnitude) else {
                        throw Refusal(description: "a sketch bucket count that is not a finite weight")
                    }
                    counts[field == 8 ? 0 : 1].append(count)
                }
            default:
                try reader.skip(wire)
            }
        }
        guard indexes[0].count == counts[0].count, indexes[1].count == counts[1].count else {
            throw Refusal(description: "a sketch with unlike numbers of bucket indexes and counts")
        }
        guard values[2] > 0, values[2].isFinite, values[3].isFinite, values[4] <= values[5], values[6] >= 0 else {
            throw Refusal(description: "a sketch whose count, sum, min or max do not hold together")
        }
        accuracy = values[1]
        return DDSketch(
            positive: zip(indexes[0], counts[0]).map { ($0, $1) }, negative: zip(indexes[1], counts[1]).map { ($0, $1) },
            zeroCount: values[6], count: values[2], sum: values[3], min: values[4], max: values[5])
    }
}
