/// A head chunk in a byte array, growing one sample at a time: the form
/// tests and `tally tsdb analyze` use; the storage head keeps the same bytes
/// in a slab of its own. Its bytes are the encoding byte, then a bit stream:
/// Gorilla's delta-of-delta timestamps (Pelkonen et al., VLDB 2015) with
/// XOR-coded or integer-coded values (docs/format/chunks.md, "Head chunk").
///
/// Every float round-trips bit for bit (NaN payloads, ±Inf, -0.0): XOR
/// works on bit patterns and the integer coding takes only values it holds
/// exactly. A chunk that began integer coded and meets another value is
/// recoded as XOR, so its bytes never depend on more than its samples.
public struct HeadChunk: Sendable {
    public private(set) var stream = BitWriter()
    public private(set) var minTime: Int64 = 0
    private var encoder: HeadSampleEncoder
    /// Samples appended (the encoder's own count stops at 65,535).
    public private(set) var count = 0

    /// An empty chunk; `integers: false` codes every value as XOR, as
    /// Prometheus's chunks do.
    public init(integers: Bool = true) {
        encoder = HeadSampleEncoder(integers: integers)
    }

    public var maxTime: Int64 { encoder.maxTime }

    /// The last value appended (meaningful when `count > 0`).
    public var lastValue: Double { encoder.lastValue }

    public var encoding: HeadChunkEncoding { encoder.encoding }

    /// The chunk's bytes: the encoding byte, then the stream (whose last
    /// byte may be partly used).
    public var bytes: [UInt8] { count == 0 ? [] : [encoding.rawValue] + stream.bytes }

    /// Appends a sample. Timestamps must not decrease and must stay within
    /// 2^32 ms of the first.
    public mutating func append(_ timestamp: Int64, _ value: Double) {
        if count == 0 { minTime = timestamp }
        if !encoder.append(timestamp, value, to: &stream) {
            recodeAsXOR()
            _ = encoder.append(timestamp, value, to: &stream) // XOR takes every value
        }
        count += 1
    }

    private mutating func recodeAsXOR() {
        let samples = HeadChunkDecoder.samples(bytes, count: count)
        stream = BitWriter(capacity: stream.bytes.count * 2)
        encoder = HeadSampleEncoder(integers: false)
        for (t, v) in samples { _ = encoder.append(t, v, to: &stream) }
    }
}
