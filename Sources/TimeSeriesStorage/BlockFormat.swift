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

/// A block's index, held in memory once opened and checked.
struct BlockIndex: Sendable {
    var series: [IndexedSeries]
    /// Label name → value → positions in `series`, ascending.
    var postings: [String: [String: [Int32]]]

    /// Positions of the series worth testing against the matchers.
    func candidates(_ matchers: [LabelMatcher]) -> [Int] {
        var result: [Int32]?
        for matcher in matchers where matcher.op == .equal && !matcher.value.isEmpty {
            let list = postings[matcher.name]?[matcher.value] ?? []
            result = result.map { intersectSorted($0, list) } ?? list
            if result?.isEmpty == true { return [] }
        }
        return result.map { $0.map(Int.init) } ?? Array(series.indices)
    }
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

    /// Decodes and checks an index file's bytes.
    static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> BlockIndex {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(CodecError) -> BlockIndex in try decode(raw) }
        }
        switch result {
        case .success(let index): return index
        case .failure(let error): throw StorageError(.corrupt("index: \(error)"), path: path, offset: error.offset)
        }
    }

    private static func decode(_ raw: UnsafeRawBufferPointer) throws(CodecError) -> BlockIndex {
        guard raw.count >= BlockFormat.fileHeaderSize, Array(raw[0..<4]) == BlockFormat.indexMagic else {
            throw CodecError(.inconsistent("not a tally index"), offset: 0)
        }
        guard raw[4] == BlockFormat.version else { throw CodecError(.unknownEncoding(raw[4]), offset: 4) }
        var offset = BlockFormat.fileHeaderSize
        func section() throws(CodecError) -> (UnsafeRawBufferPointer, Int) {
            let start = offset
            let length = Int(try FixedWidth.read(UInt32.self, raw, at: &offset))
            guard raw.count - offset >= length + 4 else { throw CodecError(.truncated, offset: start) }
            let content = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])
            offset += length
            let crc = try FixedWidth.read(UInt32.self, raw, at: &offset)
            guard CRC32.checksum(content) == crc else {
                throw CodecError(.inconsistent("section checksum mismatch"), offset: start)
            }
            return (content, start + 4)
        }

        let (symbolBytes, symbolBase) = try section()
        var cursor = 0
        let symbolCount = try Varint.read(symbolBytes, at: &cursor)
        guard symbolCount <= UInt64(symbolBytes.count) else { throw CodecError(.inconsistent("symbol count"), offset: symbolBase) }
        var symbols: [String] = []
        symbols.reserveCapacity(Int(symbolCount))
        for _ in 0..<symbolCount { symbols.append(try readString(symbolBytes, &cursor)) }
        func symbol(_ raw: UInt64, _ at: Int) throws(CodecError) -> String {
            guard raw < UInt64(symbols.count) else { throw CodecError(.inconsistent("symbol \(raw) out of range"), offset: at) }
            return symbols[Int(raw)]
        }

        let (seriesBytes, seriesBase) = try section()
        cursor = 0
        let seriesCount = try Varint.read(seriesBytes, at: &cursor)
        guard seriesCount <= UInt64(seriesBytes.count) else { throw CodecError(.inconsistent("series count"), offset: seriesBase) }
        var series: [IndexedSeries] = []
        series.reserveCapacity(Int(seriesCount))
        for _ in 0..<seriesCount {
            let labelCount = try Varint.read(seriesBytes, at: &cursor)
            guard labelCount <= 1024 else { throw CodecError(.inconsistent("label count"), offset: seriesBase + cursor) }
            var pairs: [Label] = []
            for _ in 0..<labelCount {
                let name = try symbol(try Varint.read(seriesBytes, at: &cursor), seriesBase + cursor)
                let value = try symbol(try Varint.read(seriesBytes, at: &cursor), seriesBase + cursor)
                pairs.append(Label(name, value))
            }
            let chunkCount = try Varint.read(seriesBytes, at: &cursor)
            guard chunkCount <= UInt64(seriesBytes.count) else { throw CodecError(.inconsistent("chunk count"), offset: seriesBase + cursor) }
            var chunks: [ChunkRef] = []
            chunks.reserveCapacity(Int(chunkCount))
            var previousMax: Int64 = 0
            var previousGroup: Int64 = 0
            for _ in 0..<chunkCount {
                let minTime = previousMax &+ (try Varint.readSigned(seriesBytes, at: &cursor))
                let maxTime = minTime &+ Int64(bitPattern: try Varint.read(seriesBytes, at: &cursor))
                let count = try Varint.read(seriesBytes, at: &cursor)
                let group = previousGroup &+ (try Varint.readSigned(seriesBytes, at: &cursor))
                let offsetInGroup = try Varint.read(seriesBytes, at: &cursor)
                guard count >= 1, count <= UInt64(Int32.max), offsetInGroup <= UInt64(Int32.max) else {
                    throw CodecError(.inconsistent("chunk reference"), offset: seriesBase + cursor)
                }
                chunks.append(ChunkRef(minTime: minTime, maxTime: maxTime, count: Int32(count), offsetInGroup: Int32(offsetInGroup), group: group))
                previousMax = maxTime
                previousGroup = group
            }
            series.append(IndexedSeries(labels: Labels(pairs), chunks: chunks))
        }

        let (postingBytes, postingBase) = try section()
        cursor = 0
        let pairCount = try Varint.read(postingBytes, at: &cursor)
        guard pairCount <= UInt64(postingBytes.count) else { throw CodecError(.inconsistent("postings count"), offset: postingBase) }
        var postings: [String: [String: [Int32]]] = [:]
        for _ in 0..<pairCount {
            let name = try symbol(try Varint.read(postingBytes, at: &cursor), postingBase + cursor)
            let value = try symbol(try Varint.read(postingBytes, at: &cursor), postingBase + cursor)
            let count = try Varint.read(postingBytes, at: &cursor)
            guard count <= seriesCount else { throw CodecError(.inconsistent("postings length"), offset: postingBase + cursor) }
            var list: [Int32] = []
            list.reserveCapacity(Int(count))
            var previous: UInt64 = 0
            for _ in 0..<count {
                let (next, overflow) = previous.addingReportingOverflow(try Varint.read(postingBytes, at: &cursor))
                previous = next
                guard !overflow, previous < seriesCount else { throw CodecError(.inconsistent("posting out of range"), offset: postingBase + cursor) }
                list.append(Int32(previous))
            }
            postings[name, default: [:]][value] = list
        }
        return BlockIndex(series: series, postings: postings)
    }
}
