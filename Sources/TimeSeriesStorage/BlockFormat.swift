import BlockCodec
import DurableFiles
import TelemetryModel

/// Constants and small pieces of the block format shared by the writer and
/// the reader: docs/format/block.md (directory and chunk groups) and
/// docs/format/index.md (the index).
enum BlockFormat {
    static let chunksMagic: [UInt8] = Array("TLYC".utf8)
    static let indexMagic: [UInt8] = Array("TLYI".utf8)
    static let version: UInt8 = 1
    static let fileHeaderSize = 8
    /// A chunk group's frame before its payload: stored length, raw length, flags.
    static let groupHeaderSize = 9
    static let groupFlagPlain: UInt8 = 0
    static let groupFlagZlib: UInt8 = 1

    static func fileHeader(_ magic: [UInt8]) -> [UInt8] { magic + [version, 0, 0, 0] }
}

/// Where a chunk lives in a block: its group (by file offset) and its
/// offset in the group's inflated bytes, with its time range.
struct ChunkRef: Sendable, Equatable {
    var minTime: Int64
    var maxTime: Int64
    var count: Int32
    var offsetInGroup: Int32
    var group: Int64
}

/// A series in a block's index.
struct IndexedSeries: Sendable {
    var labels: Labels
    var chunks: [ChunkRef]
}

/// A block's index as the writer builds it before encoding it (a reader
/// uses `PackedBlockIndex`).
struct BlockIndex: Sendable {
    var series: [IndexedSeries]
    /// Label name → value → positions in `series`, ascending.
    var postings: [String: [String: [Int32]]]
}

func intersectSorted(_ a: [Int32], _ b: [Int32]) -> [Int32] {
    var out: [Int32] = []
    var i = 0
    var j = 0
    while i < a.count && j < b.count {
        if a[i] == b[j] {
            out.append(a[i])
            i += 1
            j += 1
        } else if a[i] < b[j] {
            i += 1
        } else {
            j += 1
        }
    }
    return out
}

// MARK: Index encoding

extension BlockIndex {
    /// The index file's bytes: header, then symbols, series and postings
    /// sections, each framed by its length and CRC-32.
    func encoded() -> [UInt8] {
        var symbolSet = Set<String>()
        for s in series { for label in s.labels { symbolSet.insert(label.name); symbolSet.insert(label.value) } }
        let symbols = symbolSet.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var symbolIndex: [String: Int] = [:]
        for (i, symbol) in symbols.enumerated() { symbolIndex[symbol] = i }

        var out = BlockFormat.fileHeader(BlockFormat.indexMagic)
        var section: [UInt8] = []
        Varint.append(UInt64(symbols.count), to: &section)
        for symbol in symbols { appendString(symbol, to: &section) }
        BlockIndex.appendSection(section, to: &out)

        section = []
        Varint.append(UInt64(series.count), to: &section)
        for s in series {
            Varint.append(UInt64(s.labels.count), to: &section)
            for label in s.labels {
                // Every label's name and value were collected above.
                Varint.append(UInt64(symbolIndex[label.name]!), to: &section)
                Varint.append(UInt64(symbolIndex[label.value]!), to: &section)
            }
            Varint.append(UInt64(s.chunks.count), to: &section)
            var previousMax: Int64 = 0
            var previousGroup: Int64 = 0
            for chunk in s.chunks {
                Varint.appendSigned(chunk.minTime &- previousMax, to: &section)
                Varint.append(UInt64(chunk.maxTime &- chunk.minTime), to: &section)
                Varint.append(UInt64(chunk.count), to: &section)
                Varint.appendSigned(chunk.group &- previousGroup, to: &section)
                Varint.append(UInt64(chunk.offsetInGroup), to: &section)
                previousMax = chunk.maxTime
                previousGroup = chunk.group
            }
        }
        BlockIndex.appendSection(section, to: &out)

        section = []
        var pairs: [(Int, Int, [Int32])] = []
        for (name, values) in postings {
            for (value, list) in values { pairs.append((symbolIndex[name]!, symbolIndex[value]!, list)) }
        }
        pairs.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        Varint.append(UInt64(pairs.count), to: &section)
        for (name, value, list) in pairs {
            Varint.append(UInt64(name), to: &section)
            Varint.append(UInt64(value), to: &section)
            Varint.append(UInt64(list.count), to: &section)
            var previous: Int32 = 0
            for position in list {
                Varint.append(UInt64(position - previous), to: &section)
                previous = position
            }
        }
        BlockIndex.appendSection(section, to: &out)
        return out
    }

    private static func appendSection(_ content: [UInt8], to out: inout [UInt8]) {
        FixedWidth.append(UInt32(content.count), to: &out)
        out.append(contentsOf: content)
        FixedWidth.append(CRC32.checksum(content), to: &out)
    }
}
