/// Decodes a head chunk (its encoding byte, then the bit stream) sample by
/// sample. Damaged bytes throw or decode to wrong samples, never trap.
public struct HeadChunkDecoder {
    private var reader: BitReader
    private let count: Int
    private let encoding: HeadChunkEncoding
    public private(set) var index = 0
    private var time: Int64 = 0
    private var timeDelta: Int64 = 0
    private var values = XORValueDecoder()
    private var integer: Int64 = 0
    private var valueDelta: Int64 = 0
    private var riceState: UInt8 = 0

    /// Decodes `count` samples from `bytes`, which must outlive the decoder.
    /// Throws when the encoding byte is missing or unknown.
    public init(_ bytes: UnsafeRawBufferPointer, count: Int) throws(CodecError) {
        reader = BitReader(bytes)
        self.count = count
        guard count > 0 else {
            encoding = .xor
            return
        }
        let tag = UInt8(try reader.readBits(8))
        guard let encoding = HeadChunkEncoding(rawValue: tag) else { throw CodecError(.unknownEncoding(tag), offset: 0) }
        self.encoding = encoding
    }

    /// Every sample of a chunk, up to the first that does not decode: for
    /// bytes this process wrote (a chunk being recoded, a checkpoint).
    public static func samples(_ bytes: [UInt8], count: Int) -> [(timestamp: Int64, value: Double)] {
        var samples: [(timestamp: Int64, value: Double)] = []
        samples.reserveCapacity(count)
        bytes.withUnsafeBytes { raw in
            guard var decoder = try? HeadChunkDecoder(raw, count: count) else { return }
            while let sample = try? decoder.next() { samples.append(sample) }
        }
        return samples
    }

    /// The next sample, nil after the last.
    public mutating func next() throws(CodecError) -> (timestamp: Int64, value: Double)? {
        guard index < count else { return nil }
        switch index {
        case 0:
            time = Int64(bitPattern: try reader.readBits(64))
        case 1:
            timeDelta = try TimestampCoding.readDeltaOfDelta(&reader)
            time &+= timeDelta
        default:
            timeDelta &+= try TimestampCoding.readDeltaOfDelta(&reader)
            time &+= timeDelta
        }
        let value: Double
        switch encoding {
        case .xor:
            try values.read(from: &reader)
            value = Double(bitPattern: values.bits)
        case .integer:
            switch index {
            case 0: integer = Int64(bitPattern: try reader.readBits(64))
            case 1: valueDelta = try IntegerValueCoding.readFirstDelta(&reader)
            default: valueDelta &+= try IntegerValueCoding.readDeltaOfDelta(&reader, state: &riceState)
            }
            if index > 0 { integer &+= valueDelta }
            value = Double(integer)
        }
        index += 1
        return (time, value)
    }
}
