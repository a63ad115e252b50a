/// How a head chunk codes its values; the first byte of its bytes.
public enum HeadChunkEncoding: UInt8, Sendable {
    /// Gorilla's XOR coding: any float, bit for bit.
    case xor = 0
    /// Integers: delta-of-delta, Rice coded (`IntegerValueCoding`).
    case integer = 1
}

/// The state of a head chunk's encoding apart from its bytes: what the next
/// sample is coded against. Timestamps are Gorilla's delta-of-delta; values
/// are integer coded while every value is an integer less than 2^31 from the
/// one before, XOR coded otherwise. The coding is chosen at the first
/// sample; a value the integer coding cannot hold is refused (`append`
/// returns false) so that the owner recodes the chunk as XOR. `HeadChunk`
/// keeps it beside a byte array, the storage head beside bytes in memory it
/// manages itself. 28 bytes, which keep the head's per-series slot at 56.
public struct HeadSampleEncoder: Sendable {
    public private(set) var maxTime: Int64 = 0
    /// The last value: its IEEE 754 bits (XOR), or the integer's two's complement.
    private var lastBits: UInt64 = 0
    /// The last timestamp delta; the head cuts a chunk before it spans 2^32 ms.
    private var timeDelta: UInt32 = 0
    /// Integer coding: the last value delta.
    private var valueDelta: Int32 = 0
    /// Samples written, up to 65,535 (all the coding needs to know is
    /// whether it is the first or second).
    private var samples: UInt16 = 0
    /// XOR: the window's leading zeros (`XORValueEncoder.noWindow` before
    /// the first window). Integer: the Rice parameter's state.
    private var window: UInt8 = XORValueEncoder.noWindow
    /// XOR: the window's trailing zeros (at most 63). Otherwise one of the
    /// two markers below.
    private var trailing: UInt8 = 0
    /// `trailing` of an integer-coded chunk.
    private static let integerCoded: UInt8 = 0xFF
    /// `trailing` before the first sample of a chunk that is XOR coded whatever its values.
    private static let xorOnly: UInt8 = 0xFE

    /// An encoder for a new chunk; `integers: false` rules integer coding out
    /// (the coding a chunk is recoded in, and the one Prometheus uses).
    public init(integers: Bool = true) {
        if !integers { trailing = Self.xorOnly }
    }

    /// Samples written; stops at 65,535 (the head cuts its chunks before).
    public var count: Int { Int(samples) }

    /// The coding of the values written so far.
    public var encoding: HeadChunkEncoding { trailing == Self.integerCoded ? .integer : .xor }

    /// The last value written (meaningful when `count > 0`).
    public var lastValue: Double {
        encoding == .integer ? Double(Int64(bitPattern: lastBits)) : Double(bitPattern: lastBits)
    }

    /// The most bytes one sample can take: 68 bits of time and 77 of value.
    public static let maxSampleBytes = 19

    /// Writes a sample to `stream`, which holds what came before it, and
    /// returns true; or, when the chunk is integer coded and `value` is not
    /// an integer within 2^31 of the last, writes nothing and returns false.
    /// Timestamps must not decrease and must stay within 2^32 ms of the
    /// chunk's first (the head checks both).
    public mutating func append<Sink: BitSink>(_ timestamp: Int64, _ value: Double, to stream: inout Sink) -> Bool {
        var integer: Int64 = 0
        var delta: Int32 = 0
        if samples == 0 {
            if trailing != Self.xorOnly, let first = IntegerValueCoding.integer(value) {
                trailing = Self.integerCoded
                window = 0
                integer = first
            } else {
                trailing = 0
            }
        } else if trailing == Self.integerCoded {
            guard let (next, fitting) = integerDelta(value) else { return false }
            integer = next
            delta = fitting
        }
        writeTimestamp(timestamp, to: &stream)
        if trailing == Self.integerCoded {
            switch samples {
            case 0: stream.writeBits(UInt64(bitPattern: integer), count: 64)
            case 1: IntegerValueCoding.writeFirstDelta(delta, to: &stream)
            default: IntegerValueCoding.writeDeltaOfDelta(Int64(delta) - Int64(valueDelta), state: &window, to: &stream)
            }
            valueDelta = delta
            lastBits = UInt64(bitPattern: integer)
        } else {
            let bits = value.bitPattern
            if samples == 0 {
                stream.writeBits(bits, count: 64)
            } else {
                XORValueEncoder.write(bits, after: lastBits, leading: &window, trailing: &trailing, to: &stream)
            }
            lastBits = bits
        }
        maxTime = timestamp
        if samples < .max { samples += 1 }
        return true
    }

    /// Whether `append` would take `value` (false only when the chunk is
    /// integer coded and the value is not an integer within 2^31 of the last).
    public func accepts(_ value: Double) -> Bool {
        samples == 0 || trailing != Self.integerCoded || integerDelta(value) != nil
    }

    /// The integer `value` is and its delta from the last, when the integer coding holds it.
    private func integerDelta(_ value: Double) -> (Int64, Int32)? {
        guard let next = IntegerValueCoding.integer(value) else { return nil }
        let (difference, overflow) = next.subtractingReportingOverflow(Int64(bitPattern: lastBits))
        guard !overflow, let delta = Int32(exactly: difference) else { return nil }
        return (next, delta)
    }

    private mutating func writeTimestamp<Sink: BitSink>(_ timestamp: Int64, to stream: inout Sink) {
        switch samples {
        case 0:
            stream.writeBits(UInt64(bitPattern: timestamp), count: 64)
        case 1:
            let delta = timestamp &- maxTime
            TimestampCoding.writeDeltaOfDelta(delta, to: &stream)
            timeDelta = UInt32(truncatingIfNeeded: delta)
        default:
            let delta = timestamp &- maxTime
            TimestampCoding.writeDeltaOfDelta(delta &- Int64(timeDelta), to: &stream)
            timeDelta = UInt32(truncatingIfNeeded: delta)
        }
    }
}
