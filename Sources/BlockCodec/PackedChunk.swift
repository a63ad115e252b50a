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
        /// Deltas predicted by the mean of the previous eight: counters whose
        /// rate drifts (diurnal load) with noise around it.
        case integerPredicted = 6
        case decimalPredicted = 7
        /// Floats as the deltas of their bit patterns, mean-predicted, in
        /// byte planes: cumulative float counters (sums) whose bit patterns
        /// grow steadily, where the high planes are nearly constant for zlib.
        case floatPlanes = 8
    }

    /// The encodings chosen for a chunk, for inspection and statistics.
    public struct Choice: Sendable, Equatable {
        public var time: TimeEncoding
        public var value: ValueEncoding
    }

    /// The most samples a chunk may hold.
    public static let maxSamples = 65_535

    /// The largest decimal exponent tried (values scaled by up to 10^9).
    static let maxDecimalExponent = 9

    /// Appends the chunk for these samples (at least one; timestamps in
    /// increasing order) to `out` and says which encodings it used.
    @discardableResult
    public static func encode(timestamps: ArraySlice<Int64>, values: ArraySlice<Double>, into out: inout [UInt8]) -> Choice {
        precondition(!timestamps.isEmpty && timestamps.count == values.count && timestamps.count <= maxSamples)
        let timeEncoding = chooseTimeEncoding(timestamps)
        let (valueEncoding, exponent, integers) = chooseValueEncoding(values)
        let headerIndex = out.count
        out.append(timeEncoding.rawValue << 4 | valueEncoding.rawValue)
        Varint.append(UInt64(timestamps.count), to: &out)
        encodeTimes(timestamps, timeEncoding, into: &out)
        switch valueEncoding {
        case .constant:
            FixedWidth.append(values.first!.bitPattern, to: &out) // non-empty: checked above
        case .integerDelta, .integerDeltaOfDelta:
            encodeIntegers(integers, secondOrder: valueEncoding == .integerDeltaOfDelta, into: &out)
        case .integerPredicted:
            encodePredicted(integers, into: &out)
        case .decimalDelta, .decimalDeltaOfDelta:
            out.append(UInt8(exponent))
            encodeIntegers(integers, secondOrder: valueEncoding == .decimalDeltaOfDelta, into: &out)
        case .decimalPredicted:
            out.append(UInt8(exponent))
            encodePredicted(integers, into: &out)
        case .xor, .floatPlanes:
            var stream = BitWriter(capacity: values.count * 2)
            var encoder = XORValueEncoder()
            for value in values { encoder.write(value.bitPattern, to: &stream) }
            if values.count > 2, let planes = floatPlanes(values), planes.estimate < stream.bytes.count {
                out[headerIndex] = timeEncoding.rawValue << 4 | ValueEncoding.floatPlanes.rawValue
                out.append(contentsOf: planes.bytes)
                return Choice(time: timeEncoding, value: .floatPlanes)
            }
            Varint.append(UInt64(stream.bytes.count), to: &out)
            out.append(contentsOf: stream.bytes)
        }
        return Choice(time: timeEncoding, value: valueEncoding)
    }

    /// Where `decode(_:at:into:)` writes: the timestamps (Int64) from
    /// `times` and the values (Double) from `values`, each `stride` bytes
    /// apart, so a caller can decode into two arrays or into one array of
    /// (time, value) structs without copying.
    public struct SampleSlots {
        public var times: UnsafeMutableRawPointer
        public var values: UnsafeMutableRawPointer
        public var stride: Int

        public init(times: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer, stride: Int) {
            self.times = times
            self.values = values
            self.stride = stride
        }
    }

    /// The chunk's encodings and sample count, from its header.
    private static func header(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int
    ) throws(CodecError) -> (TimeEncoding, ValueEncoding, Int) {
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
        // Bounds a damaged count before anything is allocated for it.
        guard count64 >= 1, count64 <= UInt64(maxSamples) else {
            throw CodecError(.inconsistent("sample count \(count64) out of range"), offset: headerOffset)
        }
        return (timeEncoding, valueEncoding, Int(count64))
    }

    /// How many samples the chunk at `offset` holds, read from its header.
    public static func sampleCount(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(CodecError) -> Int {
        var cursor = offset
        return try header(bytes, at: &cursor).2
    }

    /// Decodes the chunk at `offset` into `slots`, which must have room for
    /// `sampleCount(bytes, at: offset)` samples, and advances `offset` past it.
    public static func decode(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, into slots: SampleSlots) throws(CodecError) {
        let (timeEncoding, valueEncoding, count) = try header(bytes, at: &offset)
        var time = slots.times
        try decodeTimes(bytes, at: &offset, count: count, timeEncoding) { t in
            time.storeBytes(of: t, as: Int64.self)
            time += slots.stride
        }
        var value = slots.values
        try decodeValues(bytes, at: &offset, count: count, valueEncoding) { v in
            value.storeBytes(of: v, as: Double.self)
            value += slots.stride
        }
    }

    /// Decodes the chunk at `offset`, appending its samples, and advances
    /// `offset` past it.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int,
        timestamps: inout [Int64], values: inout [Double]
    ) throws(CodecError) {
        let count = try sampleCount(bytes, at: offset)
        // Both arrays grow once, then are filled through pointers: no
        // per-sample capacity or uniqueness checks.
        let timeBase = timestamps.count
        let valueBase = values.count
        timestamps.append(contentsOf: repeatElement(0, count: count))
        values.append(contentsOf: repeatElement(0, count: count))
        let result = timestamps.withUnsafeMutableBytes { times in
            values.withUnsafeMutableBytes { values in
                Result { () throws(CodecError) in
                    try decode(bytes, at: &offset, into: SampleSlots(
                        times: times.baseAddress! + timeBase * 8, values: values.baseAddress! + valueBase * 8, stride: 8))
                }
            }
        }
        try result.get()
    }

    /// The values of one chunk, in order, to `emit`.
    @inline(__always)
    private static func decodeValues(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int, count: Int, _ valueEncoding: ValueEncoding, _ emit: (Double) -> Void
    ) throws(CodecError) {
        switch valueEncoding {
        case .constant:
            let bits = try FixedWidth.read(UInt64.self, bytes, at: &offset)
            for _ in 0..<count { emit(Double(bitPattern: bits)) }
        case .integerDelta, .integerDeltaOfDelta:
            try decodeIntegers(bytes, at: &offset, count: count, secondOrder: valueEncoding == .integerDeltaOfDelta) { emit(Double($0)) }
        case .integerPredicted:
            try decodePredicted(bytes, at: &offset, count: count) { emit(Double($0)) }
        case .decimalDelta, .decimalDeltaOfDelta, .decimalPredicted:
            guard offset < bytes.count else { throw CodecError(.truncated, offset: offset) }
            let exponent = Int(bytes[offset])
            guard exponent >= 1, exponent <= maxDecimalExponent else {
                throw CodecError(.inconsistent("decimal exponent \(exponent) out of range"), offset: offset)
            }
            offset += 1
            let scale = powersOfTen[exponent]
            if valueEncoding == .decimalPredicted {
                try decodePredicted(bytes, at: &offset, count: count) { emit(Double($0) / scale) }
            } else {
                try decodeIntegers(bytes, at: &offset, count: count, secondOrder: valueEncoding == .decimalDeltaOfDelta) {
                    emit(Double($0) / scale)
                }
            }
        case .floatPlanes:
            try decodeFloatPlanes(bytes, at: &offset, count: count) { emit(Double(bitPattern: UInt64(bitPattern: $0))) }
        case .xor:
            let length = Int(truncatingIfNeeded: try Varint.read(bytes, at: &offset))
            guard length >= 0, length <= bytes.count - offset else { throw CodecError(.truncated, offset: offset) }
            var reader = BitReader(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
            var decoder = XORValueDecoder()
            for _ in 0..<count {
                try decoder.read(from: &reader)
                emit(Double(bitPattern: decoder.bits))
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

    @inline(__always)
    private static func decodeTimes(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int, count: Int, _ encoding: TimeEncoding, _ emit: (Int64) -> Void
    ) throws(CodecError) {
        var t = try Varint.readSigned(bytes, at: &offset)
        emit(t)
        guard count > 1 else { return }
        var delta = try Varint.readSigned(bytes, at: &offset)
        t &+= delta
        emit(t)
        guard count > 2 else { return }
        for _ in 2..<count {
            if encoding == .deltaOfDelta { delta &+= try Varint.readSigned(bytes, at: &offset) }
            t &+= delta
            emit(t)
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
            let order = bestOrder(integers)
            return (order == 0 ? .integerDelta : order == 1 ? .integerDeltaOfDelta : .integerPredicted, 0, integers)
        }
        for exponent in 1...maxDecimalExponent {
            if let integers = asIntegers(values, scale: powersOfTen[exponent]) {
                let order = bestOrder(integers)
                return (order == 0 ? .decimalDelta : order == 1 ? .decimalDeltaOfDelta : .decimalPredicted, exponent, integers)
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

    /// The differences of one order: deltas, or the first delta followed by
    /// delta-of-deltas.
    private static func differences(_ integers: [Int64], secondOrder: Bool) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(integers.count)
        var previousDelta: Int64 = 0
        for i in 1..<integers.count {
            let delta = integers[i] &- integers[i - 1]
            out.append(secondOrder && i > 1 ? delta &- previousDelta : delta)
            previousDelta = delta
        }
        return out
    }

    /// The residual framing of differences: their median as a base, and the
    /// greatest common divisor of what is left as a scale, so that noisy
    /// counters (deltas around a rate) and page-sized gauges (multiples of
    /// 4096) store small numbers.
    private static func framing(_ x: ArraySlice<Int64>) -> (base: Int64, scale: Int64) {
        guard !x.isEmpty else { return (0, 1) }
        let base = x.sorted()[x.count / 2]
        var g: UInt64 = 0
        for v in x {
            var a = (v &- base).magnitude
            var b = g
            while b != 0 { (a, b) = (b, a % b) }
            g = a
            if g == 1 { break }
        }
        // A scale beyond Int64 would come only from extreme values: keep 1 there.
        return (base, g == 0 || g > UInt64(Int64.max) ? 1 : Int64(g))
    }

    /// The bytes the residuals take as varints (a proxy for their size after zlib).
    private static func residualSize(_ x: ArraySlice<Int64>, _ frame: (base: Int64, scale: Int64)) -> Int {
        x.reduce(0) { $0 + Varint.size(Varint.zigzag(($1 &- frame.base) / frame.scale)) }
    }

    /// Which residuals take the fewest bytes for these integers: 0 for
    /// framed deltas, 1 for framed delta-of-deltas, 2 for predicted deltas.
    private static func bestOrder(_ integers: [Int64]) -> Int {
        guard integers.count > 2 else { return 0 }
        let deltas = differences(integers, secondOrder: false)
        let dods = differences(integers, secondOrder: true)
        let deltaSize = residualSize(deltas[...], framing(deltas[...]))
        let dodSize = residualSize(dods.dropFirst(), framing(dods.dropFirst())) + Varint.size(Varint.zigzag(dods[0]))
        var predictedSize = Varint.size(Varint.zigzag(deltas[0]))
        forEachPrediction(deltas) { predictedSize += Varint.size(Varint.zigzag($0 &- $1)) }
        let best = min(deltaSize, dodSize, predictedSize)
        return best == deltaSize ? 0 : best == dodSize ? 1 : 2
    }

    /// The `floatPlanes` form of float values and an estimate of its size
    /// after zlib (each plane costs the bits its largest byte needs).
    /// Layout: first bit pattern (8 bytes LE), first delta (varint), plane
    /// width (1 byte), then for each plane from the lowest byte up, that byte
    /// of every zig-zagged residual (delta minus its mean prediction).
    private static func floatPlanes(_ values: ArraySlice<Double>) -> (bytes: [UInt8], estimate: Int)? {
        let bits = values.map { Int64(bitPattern: $0.bitPattern) }
        let deltas = differences(bits, secondOrder: false)
        var residuals: [UInt64] = []
        residuals.reserveCapacity(deltas.count - 1)
        var widest: UInt64 = 0
        forEachPrediction(deltas) { delta, prediction in
            let z = Varint.zigzag(delta &- prediction)
            residuals.append(z)
            widest |= z
        }
        let width = max(1, (64 - widest.leadingZeroBitCount + 7) / 8)
        var out: [UInt8] = []
        out.reserveCapacity(16 + residuals.count * width)
        FixedWidth.append(values.first!.bitPattern, to: &out) // more than two values: checked by the caller
        Varint.appendSigned(deltas[0], to: &out)
        out.append(UInt8(width))
        var estimateBits = 0
        for plane in 0..<width {
            var top: UInt8 = 0
            for z in residuals {
                let byte = UInt8(truncatingIfNeeded: z >> UInt64(8 * plane))
                out.append(byte)
                top |= byte
            }
            estimateBits += residuals.count * (8 - top.leadingZeroBitCount)
        }
        return (out, out.count - residuals.count * width + estimateBits / 8)
    }

    @inline(__always)
    private static func decodeFloatPlanes(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int, count: Int, _ emit: (Int64) -> Void
    ) throws(CodecError) {
        var value = Int64(bitPattern: try FixedWidth.read(UInt64.self, bytes, at: &offset))
        emit(value)
        guard count > 1 else { return }
        var delta = try Varint.readSigned(bytes, at: &offset)
        value &+= delta
        emit(value)
        guard count > 2 else { return }
        guard offset < bytes.count else { throw CodecError(.truncated, offset: offset) }
        let width = Int(bytes[offset])
        offset += 1
        guard width >= 1, width <= 8 else { throw CodecError(.inconsistent("plane width \(width)"), offset: offset - 1) }
        let n = count - 2
        guard bytes.count - offset >= n * width else { throw CodecError(.truncated, offset: offset) }
        var predictor = DeltaPredictor()
        for i in 1...n {
            var z: UInt64 = 0
            for plane in 0..<width { z |= UInt64(bytes[offset + plane * n + (i - 1)]) << UInt64(8 * plane) }
            delta = Varint.unzigzag(z) &+ predictor.next(after: delta)
            value &+= delta
            emit(value)
        }
        offset += n * width
    }

    /// How many previous deltas the prediction averages (a power of two:
    /// `DeltaPredictor` divides by it with a shift).
    static let predictionWindow = 8

    /// Calls `body(delta, prediction)` for every delta after the first; the
    /// prediction is the floor of the mean of up to eight deltas before it.
    @inline(__always)
    private static func forEachPrediction(_ deltas: [Int64], _ body: (Int64, Int64) -> Void) {
        var sum: Int64 = 0
        for i in 1..<deltas.count {
            sum &+= deltas[i - 1]
            if i > predictionWindow { sum &-= deltas[i - 1 - predictionWindow] }
            body(deltas[i], predict(sum, min(i, predictionWindow)))
        }
    }

    /// The decoders' side of `forEachPrediction`: the last eight deltas kept
    /// inline, not in an array, and the mean of a full window taken by a shift.
    struct DeltaPredictor {
        private var window: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
        private var sum: Int64 = 0
        private var seen = 0

        /// Takes the newest delta and returns the prediction for the one after it.
        @inline(__always)
        mutating func next(after delta: Int64) -> Int64 {
            seen += 1
            let slot = seen & (PackedChunk.predictionWindow - 1)
            let evicted = withUnsafeMutablePointer(to: &window) { tuple in
                tuple.withMemoryRebound(to: Int64.self, capacity: PackedChunk.predictionWindow) { slots in
                    let old = slots[slot]
                    slots[slot] = delta
                    return old
                }
            }
            sum &+= delta
            if seen > PackedChunk.predictionWindow { sum &-= evicted }
            // Floor division by eight is an arithmetic shift, for negative sums too.
            return seen >= PackedChunk.predictionWindow ? sum >> 3 : PackedChunk.predict(sum, seen)
        }
    }

    @inline(__always)
    fileprivate static func predict(_ sum: Int64, _ count: Int) -> Int64 {
        // Floor division, the same in the encoder and the decoder.
        let n = Int64(count)
        let q = sum / n
        return (sum % n != 0 && sum < 0) ? q - 1 : q
    }

    /// First value, first delta, then each delta minus its prediction.
    private static func encodePredicted(_ integers: [Int64], into out: inout [UInt8]) {
        Varint.appendSigned(integers[0], to: &out)
        guard integers.count > 1 else { return }
        let deltas = differences(integers, secondOrder: false)
        Varint.appendSigned(deltas[0], to: &out)
        forEachPrediction(deltas) { Varint.appendSigned($0 &- $1, to: &out) }
    }

    @inline(__always)
    private static func decodePredicted(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int, count: Int, _ emit: (Int64) -> Void
    ) throws(CodecError) {
        var value = try Varint.readSigned(bytes, at: &offset)
        emit(value)
        guard count > 1 else { return }
        var delta = try Varint.readSigned(bytes, at: &offset)
        value &+= delta
        emit(value)
        var predictor = DeltaPredictor()
        for _ in 1..<(count - 1) {
            let prediction = predictor.next(after: delta)
            delta = (try Varint.readSigned(bytes, at: &offset)) &+ prediction
            value &+= delta
            emit(value)
        }
    }

    /// First value, then (for delta-of-deltas) the first delta, then the
    /// base and scale, then each residual `(x - base) / scale`.
    private static func encodeIntegers(_ integers: [Int64], secondOrder: Bool, into out: inout [UInt8]) {
        Varint.appendSigned(integers[0], to: &out)
        guard integers.count > 1 else { return }
        let x = differences(integers, secondOrder: secondOrder)
        var rest = x[...]
        if secondOrder {
            Varint.appendSigned(x[0], to: &out)
            rest = x.dropFirst()
            guard !rest.isEmpty else { return }
        }
        let frame = framing(rest)
        Varint.appendSigned(frame.base, to: &out)
        Varint.append(UInt64(frame.scale), to: &out)
        for v in rest { Varint.appendSigned((v &- frame.base) / frame.scale, to: &out) }
    }

    @inline(__always)
    private static func decodeIntegers(
        _ bytes: UnsafeRawBufferPointer, at offset: inout Int, count: Int, secondOrder: Bool, _ emit: (Int64) -> Void
    ) throws(CodecError) {
        var value = try Varint.readSigned(bytes, at: &offset)
        emit(value)
        guard count > 1 else { return }
        var delta: Int64 = 0
        var first = 1
        if secondOrder {
            delta = try Varint.readSigned(bytes, at: &offset)
            value &+= delta
            emit(value)
            first = 2
            guard count > 2 else { return }
        }
        let base = try Varint.readSigned(bytes, at: &offset)
        let scaleRaw = try Varint.read(bytes, at: &offset)
        guard scaleRaw >= 1, scaleRaw <= UInt64(Int64.max) else {
            throw CodecError(.inconsistent("integer scale \(scaleRaw)"), offset: offset)
        }
        let scale = Int64(scaleRaw)
        for _ in first..<count {
            let x = (try Varint.readSigned(bytes, at: &offset)) &* scale &+ base
            delta = secondOrder ? delta &+ x : x
            value &+= delta
            emit(value)
        }
    }
}
