/// A Gorilla chunk (Pelkonen et al., VLDB 2015) that grows one sample at a
/// time: the head's open chunk for each series. Timestamps (milliseconds)
/// are delta-of-delta coded, values XOR-coded against the previous value, on
/// a bit stream. Layout and bit buckets: docs/format/chunks.md, "Head chunk".
///
/// Every float round-trips bit for bit (NaN payloads, ±Inf, -0.0), because
/// the encoding works on bit patterns.
public struct XORChunk: Sendable {
    public private(set) var stream = BitWriter()
    public private(set) var minTime: Int64 = 0
    private var encoder = XORSampleEncoder()
    /// Samples appended (the encoder's own count stops at 65,535).
    public private(set) var count = 0

    public init() {}

    /// An empty chunk whose stream has room for `capacity` bytes before it
    /// grows (the head sizes a series' next chunk after its last one).
    public init(capacity: Int) {
        stream = BitWriter(capacity: capacity)
    }

    public var maxTime: Int64 { encoder.maxTime }

    /// The last value appended (meaningful when `count > 0`).
    public var lastValue: Double { encoder.lastValue }

    /// The bytes of the stream (the last byte may be partly used).
    public var bytes: [UInt8] { stream.bytes }

    /// Appends a sample. Timestamps must not decrease (the head checks it).
    public mutating func append(_ timestamp: Int64, _ value: Double) {
        if count == 0 { minTime = timestamp }
        encoder.append(timestamp, value, to: &stream)
        count += 1
    }
}

/// The state of a Gorilla chunk's encoding apart from its bytes: what the
/// next sample is coded against. `XORChunk` keeps it beside a byte array;
/// the storage head beside bytes in memory it manages itself.
public struct XORSampleEncoder: Sendable {
    public private(set) var maxTime: Int64 = 0
    private var lastDelta: Int64 = 0
    private var values = XORValueEncoder()
    /// Samples written, up to 65,535 (all the coding needs to know is
    /// whether it is the first or second; 28 bytes in all keep the head's
    /// per-series slot at 56).
    private var samples: UInt16 = 0

    public init() {}

    /// Samples written; stops at 65,535 (the head cuts its chunks before).
    public var count: Int { Int(samples) }

    /// The last value written (meaningful when `count > 0`).
    public var lastValue: Double { Double(bitPattern: values.lastBits) }

    /// The most bytes one sample can take: 68 bits of time and 77 of value.
    public static let maxSampleBytes = 19

    /// Writes a sample to `stream`, which holds what came before it.
    /// Timestamps must not decrease (the head checks it).
    public mutating func append<Sink: BitSink>(_ timestamp: Int64, _ value: Double, to stream: inout Sink) {
        let bits = value.bitPattern
        switch samples {
        case 0:
            stream.writeBits(UInt64(bitPattern: timestamp), count: 64)
        case 1:
            let delta = timestamp &- maxTime
            writeDeltaOfDelta(delta, to: &stream)
            lastDelta = delta
        default:
            let delta = timestamp &- maxTime
            writeDeltaOfDelta(delta &- lastDelta, to: &stream)
            lastDelta = delta
        }
        values.write(bits, to: &stream)
        maxTime = timestamp
        if samples < .max { samples += 1 }
    }

    private func writeDeltaOfDelta<Sink: BitSink>(_ dod: Int64, to stream: inout Sink) {
        if dod == 0 {
            stream.writeBit(false)
        } else if fits(dod, bits: 14) {
            stream.writeBits(0b10, count: 2)
            stream.writeBits(UInt64(bitPattern: dod), count: 14)
        } else if fits(dod, bits: 17) {
            stream.writeBits(0b110, count: 3)
            stream.writeBits(UInt64(bitPattern: dod), count: 17)
        } else if fits(dod, bits: 20) {
            stream.writeBits(0b1110, count: 4)
            stream.writeBits(UInt64(bitPattern: dod), count: 20)
        } else {
            stream.writeBits(0b1111, count: 4)
            stream.writeBits(UInt64(bitPattern: dod), count: 64)
        }
    }
}

/// Whether a signed value fits in `bits` two's-complement bits, with the
/// asymmetric range Prometheus uses (−2^(n−1)+1 … 2^(n−1)).
@inline(__always)
func fits(_ value: Int64, bits: Int) -> Bool {
    value >= -(Int64(1) << (bits - 1)) + 1 && value <= Int64(1) << (bits - 1)
}

/// Decodes a Gorilla chunk sample by sample.
public struct XORDecoder {
    private var reader: BitReader
    private let count: Int
    public private(set) var index = 0
    private var time: Int64 = 0
    private var delta: Int64 = 0
    private var values = XORValueDecoder()

    /// Decodes `count` samples from `bytes`, which must outlive the decoder.
    public init(_ bytes: UnsafeRawBufferPointer, count: Int) {
        reader = BitReader(bytes)
        self.count = count
    }

    /// The next sample, nil after the last.
    public mutating func next() throws(CodecError) -> (timestamp: Int64, value: Double)? {
        guard index < count else { return nil }
        switch index {
        case 0:
            time = Int64(bitPattern: try reader.readBits(64))
            try values.read(from: &reader)
        case 1:
            delta = try readDeltaOfDelta()
            time &+= delta
            try values.read(from: &reader)
        default:
            delta &+= try readDeltaOfDelta()
            time &+= delta
            try values.read(from: &reader)
        }
        index += 1
        return (time, Double(bitPattern: values.bits))
    }

    private mutating func readDeltaOfDelta() throws(CodecError) -> Int64 {
        var prefix = 0
        while prefix < 4, try reader.readBit() { prefix += 1 }
        let width: Int
        switch prefix {
        case 0: return 0
        case 1: width = 14
        case 2: width = 17
        case 3: width = 20
        default: width = 64
        }
        let raw = try reader.readBits(width)
        if width == 64 { return Int64(bitPattern: raw) }
        // Sign-extend from `width` bits; the top of the range wraps as the writer's does.
        var value = Int64(raw)
        if value > Int64(1) << (width - 1) { value -= Int64(1) << width }
        return value
    }
}
