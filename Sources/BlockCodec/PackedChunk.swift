/// The block chunk: a run of one series' samples encoded whole, with the
/// smallest lossless encoding for its timestamps and for its values, on byte
/// boundaries so that zlib can work on it afterwards. Layout:
/// docs/format/chunks.md, "Block chunk".
///
/// Values that are all integers are stored as zig-zag varints of their
/// deltas or delta-of-deltas; values that are all short decimals (0.01 CPU
/// seconds) as such integers with a decimal exponent, accepted only when
/// every value round-trips bit for bit; anything else as Gorilla XOR.
public enum PackedChunk {
    /// How a chunk's timestamps are stored.
    public enum TimeEncoding: UInt8, Sendable, CaseIterable {
        /// First timestamp and one delta: every interval is the same.
        case regular = 0
        /// First timestamp, first delta, then delta-of-deltas.
        case deltaOfDelta = 1
    }

    /// How a chunk's values are stored.
    public enum ValueEncoding: UInt8, Sendable, CaseIterable {
        case constant = 0
        case integerDelta = 1
        case integerDeltaOfDelta = 2
        case decimalDelta = 3
        case decimalDeltaOfDelta = 4
        case xor = 5
    }

    /// The encodings chosen for a chunk, for inspection and statistics.
    public struct Choice: Sendable, Equatable {
        public var time: TimeEncoding
        public var value: ValueEncoding
    }

    /// The largest decimal exponent tried (values scaled by up to 10^9).
    static let maxDecimalExponent = 9

    /// Appends the chunk for these samples (at least one; timestamps in
    /// increasing order) to `out` and says which encodings it used.
    @discardableResult
    public static func encode(timestamps: ArraySlice<Int64>, values: ArraySlice<Double>, into out: inout [UInt8]) -> Choice {
        precondition(!timestamps.isEmpty && timestamps.count == values.count)
        let timeEncoding = chooseTimeEncoding(timestamps)
        let (valueEncoding, exponent, integers) = chooseValueEncoding(values)
        out.append(timeEncoding.rawValue << 4 | valueEncoding.rawValue)
        Varint.append(UInt64(timestamps.count), to: &out)
        encodeTimes(timestamps, timeEncoding, into: &out)
        switch valueEncoding {
        case .constant:
            FixedWidth.append(values.first!.bitPattern, to: &out) // non-empty: checked above
        case .integerDelta, .integerDeltaOfDelta:
            encodeIntegers(integers, secondOrder: valueEncoding == .integerDeltaOfDelta, into: &out)
        case .decimalDelta, .decimalDeltaOfDelta:
            out.append(UInt8(exponent))
            encodeIntegers(integers, secondOrder: valueEncoding == .decimalDeltaOfDelta, into: &out)
        case .xor:
            var stream = BitWriter(capacity: values.count * 2)
            var encoder = XORValueEncoder()
            for value in values { encoder.write(value.bitPattern, to: &stream) }
            Varint.append(UInt64(stream.bytes.count), to: &out)
            out.append(contentsOf: stream.bytes)
        }
        return Choice(time: timeEncoding, value: valueEncoding)
    }

    /// Decodes the chunk at `offset`, appending its samples, and advances
    /// `offset` past it.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int,
        timestamps: inout [Int64], values: inout [Double]
    ) throws(CodecError) {
        let headerOffset = offset
        guard offset < bytes.count else { throw CodecError(.truncated, offset: offset) }
        let header = bytes[offset]
        offset += 1
        guard let timeEncoding = TimeEncoding(rawValue: header >> 4) else {
            throw CodecError(.unknownEncoding(header), offset: headerOffset)
        }
        guard let valueEncoding = ValueEncoding(rawValue: header & 0x0F) else {
            throw CodecError(.unknownEncoding(header), offset: headerOffset)
        }
        let count64 = try Varint.read(bytes, at: &offset)
        // A chunk cannot hold more samples than it has bits: bounds a damaged count.
        guard count64 >= 1, count64 <= UInt64(bytes.count - headerOffset) * 8 + 1 else {
            throw CodecError(.inconsistent("sample count \(count64) out of range"), offset: headerOffset)
        }
        let count = Int(count64)
        try decodeTimes(bytes, at: &offset, count: count, timeEncoding, into: &timestamps)
        switch valueEncoding {
        case .constant:
            let bits = try FixedWidth.read(UInt64.self, bytes, at: &offset)
            values.append(contentsOf: repeatElement(Double(bitPattern: bits), count: count))
        case .integerDelta, .integerDeltaOfDelta:
            try decodeIntegers(bytes, at: &offset, count: count, secondOrder: valueEncoding == .integerDeltaOfDelta) { values.append(Double($0)) }
        case .decimalDelta, .decimalDeltaOfDelta:
            guard offset < bytes.count else { throw CodecError(.truncated, offset: offset) }
            let exponent = Int(bytes[offset])
            guard exponent >= 1, exponent <= maxDecimalExponent else {
                throw CodecError(.inconsistent("decimal exponent \(exponent) out of range"), offset: offset)
            }
            offset += 1
            let scale = powersOfTen[exponent]
            try decodeIntegers(bytes, at: &offset, count: count, secondOrder: valueEncoding == .decimalDeltaOfDelta) {
                values.append(Double($0) / scale)
            }
        case .xor:
            let length = Int(truncatingIfNeeded: try Varint.read(bytes, at: &offset))
            guard length >= 0, offset + length <= bytes.count else { throw CodecError(.truncated, offset: offset) }
            var reader = BitReader(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
            var decoder = XORValueDecoder()
            for _ in 0..<count {
                try decoder.read(from: &reader)
                values.append(Double(bitPattern: decoder.bits))
            }
            offset += length
        }
    }

    // MARK: Timestamps

    private static func chooseTimeEncoding(_ timestamps: ArraySlice<Int64>) -> TimeEncoding {
        guard timestamps.count > 2 else { return .regular }
        let first = timestamps.startIndex
        let delta = timestamps[first + 1] &- timestamps[first]
        var previous = timestamps[first + 1]
        for t in timestamps.dropFirst(2) {
            if t &- previous != delta { return .deltaOfDelta }
            previous = t
        }
        return .regular
    }

    private static func encodeTimes(_ timestamps: ArraySlice<Int64>, _ encoding: TimeEncoding, into out: inout [UInt8]) {
        let first = timestamps.startIndex
        Varint.appendSigned(timestamps[first], to: &out)
        guard timestamps.count > 1 else { return }
        let delta = timestamps[first + 1] &- timestamps[first]
        Varint.appendSigned(delta, to: &out)
        guard encoding == .deltaOfDelta else { return }
        var previous = timestamps[first + 1]
        var previousDelta = delta
        for t in timestamps.dropFirst(2) {
            let d = t &- previous
            Varint.appendSigned(d &- previousDelta, to: &out)
            previous = t
            previousDelta = d
        }
    }

    private static func decodeTimes(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int, count: Int, _ encoding: TimeEncoding, into out: inout [Int64]
    ) throws(CodecError) {
        var t = try Varint.readSigned(bytes, at: &offset)
        out.append(t)
        guard count > 1 else { return }
        var delta = try Varint.readSigned(bytes, at: &offset)
        t &+= delta
        out.append(t)
        guard count > 2 else { return }
        for _ in 2..<count {
            if encoding == .deltaOfDelta { delta &+= try Varint.readSigned(bytes, at: &offset) }
            t &+= delta
            out.append(t)
        }
    }

    // MARK: Values

    static let powersOfTen: [Double] = (0...maxDecimalExponent).map { exponent in
        var p = 1.0
        for _ in 0..<exponent { p *= 10 }
        return p
    }

    /// Integers exactly representable in a Double, and so in an Int64, with
    /// room for the deltas.
    private static let integerLimit = Double(1 << 53)

    private static func chooseValueEncoding(_ values: ArraySlice<Double>) -> (ValueEncoding, Int, [Int64]) {
        let firstBits = values.first!.bitPattern // non-empty: checked by the caller
        if values.allSatisfy({ $0.bitPattern == firstBits }) { return (.constant, 0, []) }
        if let integers = asIntegers(values, scale: 1) {
            return (deltaOrDeltaOfDelta(integers) ? .integerDeltaOfDelta : .integerDelta, 0, integers)
        }
        for exponent in 1...maxDecimalExponent {
            if let integers = asIntegers(values, scale: powersOfTen[exponent]) {
                return (deltaOrDeltaOfDelta(integers) ? .decimalDeltaOfDelta : .decimalDelta, exponent, integers)
            }
        }
        return (.xor, 0, [])
    }

    /// The values times `scale` as integers, when every one of them comes
    /// back bit for bit from `Double(integer) / scale` (or is an integer,
    /// for scale 1). Negative zero and non-finite values never qualify.
    private static func asIntegers(_ values: ArraySlice<Double>, scale: Double) -> [Int64]? {
        var result: [Int64] = []
        result.reserveCapacity(values.count)
        for value in values {
            let scaled = scale == 1 ? value : (value * scale).rounded()
            guard scaled.isFinite, abs(scaled) < integerLimit, scaled == scaled.rounded() else { return nil }
            if value == 0 && value.sign == .minus { return nil }
            let integer = Int64(scaled)
            let back = scale == 1 ? Double(integer) : Double(integer) / scale
            guard back.bitPattern == value.bitPattern else { return nil }
            result.append(integer)
        }
        return result
    }

    /// Whether delta-of-deltas take fewer bytes than deltas for these integers.
    private static func deltaOrDeltaOfDelta(_ integers: [Int64]) -> Bool {
        var deltaBytes = 0
        var dodBytes = 0
        var previousDelta: Int64 = 0
        for i in 1..<integers.count {
            let delta = integers[i] &- integers[i - 1]
            deltaBytes += Varint.size(Varint.zigzag(delta))
            dodBytes += Varint.size(Varint.zigzag(i == 1 ? delta : delta &- previousDelta))
            previousDelta = delta
        }
        return dodBytes < deltaBytes
    }

    private static func encodeIntegers(_ integers: [Int64], secondOrder: Bool, into out: inout [UInt8]) {
        Varint.appendSigned(integers[0], to: &out)
        var previousDelta: Int64 = 0
        for i in 1..<integers.count {
            let delta = integers[i] &- integers[i - 1]
            Varint.appendSigned(secondOrder && i > 1 ? delta &- previousDelta : delta, to: &out)
            previousDelta = delta
        }
    }

    private static func decodeIntegers(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int, count: Int, secondOrder: Bool, _ emit: (Int64) -> Void
    ) throws(CodecError) {
        var value = try Varint.readSigned(bytes, at: &offset)
        emit(value)
        var delta: Int64 = 0
        for i in 1..<max(count, 1) {
            let read = try Varint.readSigned(bytes, at: &offset)
            delta = secondOrder && i > 1 ? delta &+ read : read
            value &+= delta
            emit(value)
        }
    }
}
