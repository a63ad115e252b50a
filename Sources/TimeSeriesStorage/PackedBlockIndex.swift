#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import TelemetryModel

/// A block's index as its file holds it (docs/format/index.md), mapped
/// read-only and checked once when opened, plus where each symbol, series
/// and posting list starts. A block so costs about 4 bytes per series and
/// 12 per label pair in memory (the heap-decoded index cost ~330 per
/// series); a query decodes the labels and chunk references of the series
/// it reads.
struct PackedBlockIndex: Sendable {
    /// A posting list: its label pair as symbol ids, and where it starts.
    private struct Pair: Sendable {
        var name: UInt32
        var value: UInt32
        var start: UInt32
    }

    private let file: MappedFile
    /// Offset of each symbol (its length varint); symbols are in byte order.
    private let symbolStarts: [UInt32]
    /// Offset of each series' record.
    private let seriesStarts: [UInt32]
    /// Every posting list, ordered by (name id, value id).
    private let pairs: [Pair]

    var seriesCount: Int { seriesStarts.count }

    /// Maps and checks the index file at `path`.
    static func open(_ path: String) throws(StorageError) -> PackedBlockIndex {
        let file = try MappedFile(path: path)
        defer { file.release() }
        return try read(file, path: path)
    }

    /// Checks an index held in memory (fuzzing, tests).
    static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> PackedBlockIndex {
        try read(MappedFile(copying: bytes), path: path)
    }

    private static func read(_ file: MappedFile, path: String) throws(StorageError) -> PackedBlockIndex {
        do throws(CodecError) {
            return try scan(file)
        } catch {
            throw StorageError(.corrupt("index: \(error)"), path: path, offset: error.offset)
        }
    }

    // MARK: Reading series

    /// The label set of the series at `position` (checked when opened).
    func labels(_ position: Int) -> Labels {
        let raw = file.bytes
        var cursor = Int(seriesStarts[position])
        let count = (try? Varint.read(raw, at: &cursor)) ?? 0
        var pairs: [Label] = []
        pairs.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let name = try? Varint.read(raw, at: &cursor), let value = try? Varint.read(raw, at: &cursor) else { break }
            pairs.append(Label(symbol(Int(name)), symbol(Int(value))))
        }
        return Labels(sorted: pairs) ?? Labels(pairs)
    }

    /// The chunk references of the series at `position`, in time order.
    func chunks(_ position: Int) -> [ChunkRef] {
        var chunks: [ChunkRef] = []
        forEachChunk(position) { chunks.append($0); return true }
        return chunks
    }

    /// Whether the series at `position` has a chunk overlapping `start...end`.
    func hasChunk(_ position: Int, start: Int64, end: Int64) -> Bool {
        var found = false
        forEachChunk(position) { chunk in
            found = chunk.maxTime >= start && chunk.minTime <= end
            return !found && chunk.minTime <= end
        }
        return found
    }

    private func forEachChunk(_ position: Int, _ body: (ChunkRef) -> Bool) {
        let raw = file.bytes
        var cursor = Int(seriesStarts[position])
        // Checked when opened: these reads cannot fail.
        guard let labelCount = try? Varint.read(raw, at: &cursor) else { return }
        for _ in 0..<(2 * labelCount) { _ = try? Varint.read(raw, at: &cursor) }
        guard let count = try? Varint.read(raw, at: &cursor) else { return }
        var reader = ChunkRefReader()
        for _ in 0..<count {
            guard let chunk = try? reader.next(raw, &cursor), body(chunk) else { return }
        }
    }

    // MARK: Postings

    /// Positions of the series worth testing against the matchers, and
    /// whether the postings alone decided every matcher (no label to test).
    func candidates(_ matchers: [LabelMatcher]) -> (positions: [Int], decided: Bool) {
        var result: [Int32]?
        var decided = true
        for matcher in matchers {
            guard matcher.op == .equal && !matcher.value.isEmpty else {
                decided = false
                continue
            }
            let list = postings(matcher.name, matcher.value)
            result = result.map { intersectSorted($0, list) } ?? list
            if result?.isEmpty == true { return ([], true) }
        }
        return (result.map { $0.map(Int.init) } ?? Array(0..<seriesCount), decided)
    }

    /// The positions of the series carrying `name="value"`, ascending.
    func postings(_ name: String, _ value: String) -> [Int32] {
        guard let nameID = symbolID(name), let valueID = symbolID(value) else { return [] }
        var low = 0
        var high = pairs.count
        while low < high {
            let mid = (low + high) / 2
            if (pairs[mid].name, pairs[mid].value) < (nameID, valueID) { low = mid + 1 } else { high = mid }
        }
        guard low < pairs.count, pairs[low].name == nameID, pairs[low].value == valueID else { return [] }
        let raw = file.bytes
        var cursor = Int(pairs[low].start)
        let count = (try? Varint.read(raw, at: &cursor)) ?? 0
        var list: [Int32] = []
        list.reserveCapacity(Int(count))
        var previous: UInt64 = 0
        for _ in 0..<count {
            guard let delta = try? Varint.read(raw, at: &cursor) else { break }
            previous &+= delta
            list.append(Int32(truncatingIfNeeded: previous))
        }
        return list
    }

    // MARK: Symbols

    private func symbol(_ id: Int) -> String {
        String(decoding: symbolBytes(id), as: UTF8.self)
    }

    private func symbolBytes(_ id: Int) -> UnsafeRawBufferPointer {
        let raw = file.bytes
        var cursor = Int(symbolStarts[id])
        let length = Int((try? Varint.read(raw, at: &cursor)) ?? 0)
        return UnsafeRawBufferPointer(rebasing: raw[cursor..<(cursor + length)])
    }

    /// The id of a string among the symbols (which are in byte order).
    private func symbolID(_ string: String) -> UInt32? {
        var string = string
        return string.withUTF8 { target in
            var low = 0
            var high = symbolStarts.count
            while low < high {
                let mid = (low + high) / 2
                let order = compareBytes(symbolBytes(mid), UnsafeRawBufferPointer(target))
                if order == 0 { return UInt32(mid) }
                if order < 0 { low = mid + 1 } else { high = mid }
            }
            return nil
        }
    }

    // MARK: Checking the file

    /// Walks the whole file once, checking every section's CRC, every
    /// reference and count, and the order of symbols and posting lists;
    /// notes where each part starts.
    private static func scan(_ file: MappedFile) throws(CodecError) -> PackedBlockIndex {
        let raw = file.bytes
        guard raw.count >= BlockFormat.fileHeaderSize, raw[0..<4].elementsEqual(BlockFormat.indexMagic) else {
            throw CodecError(.inconsistent("not a tally index"), offset: 0)
        }
        guard raw[4] == BlockFormat.version else { throw CodecError(.unknownEncoding(raw[4]), offset: 4) }
        guard raw.count <= Int(UInt32.max) else { throw CodecError(.inconsistent("index larger than 4 GiB"), offset: 0) }
        var offset = BlockFormat.fileHeaderSize
        /// The next section's bounds, its CRC checked.
        func section() throws(CodecError) -> Range<Int> {
            let start = offset
            let length = Int(try FixedWidth.read(UInt32.self, raw, at: &offset))
            guard raw.count - offset >= length + 4 else { throw CodecError(.truncated, offset: start) }
            let content = offset..<(offset + length)
            offset += length
            let crc = try FixedWidth.read(UInt32.self, raw, at: &offset)
            guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[content])) == crc else {
                throw CodecError(.inconsistent("section checksum mismatch"), offset: start)
            }
            return content
        }
        // Reads stay inside their section: a view ending where it ends, offsets kept file-wide.
        func view(_ range: Range<Int>) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: raw.baseAddress, count: range.upperBound)
        }

        /// The next section: its bytes, where its entries start, and how many
        /// it says it has (at most one per byte).
        func countedSection(_ what: String) throws(CodecError) -> (bytes: UnsafeRawBufferPointer, cursor: Int, count: UInt64) {
            let range = try section()
            let bytes = view(range)
            var cursor = range.lowerBound
            let count = try Varint.read(bytes, at: &cursor)
            guard count <= UInt64(range.count) else { throw CodecError(.inconsistent("\(what) count"), offset: range.lowerBound) }
            return (bytes, cursor, count)
        }

        let symbols = try countedSection("symbol")
        let (symbolBytes, symbolCount) = (symbols.bytes, symbols.count)
        var cursor = symbols.cursor
        var symbolStarts: [UInt32] = []
        symbolStarts.reserveCapacity(Int(symbolCount))
        var previous: UnsafeRawBufferPointer?
        for _ in 0..<symbolCount {
            let start = cursor
            let length = try Varint.read(symbolBytes, at: &cursor)
            guard length <= UInt64(symbolBytes.count - cursor) else { throw CodecError(.truncated, offset: cursor) }
            let bytes = UnsafeRawBufferPointer(rebasing: raw[cursor..<(cursor + Int(length))])
            // Lookups search the symbols by halving: they must be in strict byte order.
            if let previous, compareBytes(previous, bytes) >= 0 {
                throw CodecError(.inconsistent("symbols out of order"), offset: start)
            }
            previous = bytes
            cursor += Int(length)
            symbolStarts.append(UInt32(start))
        }
        func checkSymbol(_ id: UInt64, _ at: Int) throws(CodecError) {
            guard id < symbolCount else { throw CodecError(.inconsistent("symbol \(id) out of range"), offset: at) }
        }

        let (seriesBytes, seriesCursor, seriesCount) = try countedSection("series")
        cursor = seriesCursor
        var seriesStarts: [UInt32] = []
        seriesStarts.reserveCapacity(Int(seriesCount))
        for _ in 0..<seriesCount {
            seriesStarts.append(UInt32(cursor))
            let labelCount = try Varint.read(seriesBytes, at: &cursor)
            guard labelCount <= 1024 else { throw CodecError(.inconsistent("label count"), offset: cursor) }
            for _ in 0..<(2 * labelCount) { try checkSymbol(try Varint.read(seriesBytes, at: &cursor), cursor) }
            let chunkCount = try Varint.read(seriesBytes, at: &cursor)
            guard chunkCount <= UInt64(seriesBytes.count) else { throw CodecError(.inconsistent("chunk count"), offset: cursor) }
            var reader = ChunkRefReader()
            for _ in 0..<chunkCount { _ = try reader.next(seriesBytes, &cursor) }
        }

        let (postingBytes, postingCursor, pairCount) = try countedSection("postings")
        cursor = postingCursor
        var pairs: [Pair] = []
        pairs.reserveCapacity(Int(pairCount))
        for _ in 0..<pairCount {
            let name = try Varint.read(postingBytes, at: &cursor)
            try checkSymbol(name, cursor)
            let value = try Varint.read(postingBytes, at: &cursor)
            try checkSymbol(value, cursor)
            let start = cursor
            let count = try Varint.read(postingBytes, at: &cursor)
            guard count <= seriesCount else { throw CodecError(.inconsistent("postings length"), offset: cursor) }
            var position: UInt64 = 0
            for _ in 0..<count {
                let (next, overflow) = position.addingReportingOverflow(try Varint.read(postingBytes, at: &cursor))
                position = next
                guard !overflow, position < seriesCount else { throw CodecError(.inconsistent("posting out of range"), offset: cursor) }
            }
            let pair = Pair(name: UInt32(name), value: UInt32(value), start: UInt32(start))
            // Lookups search the lists by halving: they must be in order, each pair once.
            if let last = pairs.last, (last.name, last.value) >= (pair.name, pair.value) {
                throw CodecError(.inconsistent("postings out of order"), offset: start)
            }
            pairs.append(pair)
        }
        return PackedBlockIndex(file: file, symbolStarts: symbolStarts, seriesStarts: seriesStarts, pairs: pairs)
    }
}

/// Reads a series' chunk references, each stored relative to the one before.
private struct ChunkRefReader {
    var previousMax: Int64 = 0
    var previousGroup: Int64 = 0

    mutating func next(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int) throws(CodecError) -> ChunkRef {
        let minTime = previousMax &+ (try Varint.readSigned(raw, at: &cursor))
        let maxTime = minTime &+ Int64(bitPattern: try Varint.read(raw, at: &cursor))
        let count = try Varint.read(raw, at: &cursor)
        let group = previousGroup &+ (try Varint.readSigned(raw, at: &cursor))
        let offsetInGroup = try Varint.read(raw, at: &cursor)
        guard count >= 1, count <= UInt64(Int32.max), offsetInGroup <= UInt64(Int32.max) else {
            throw CodecError(.inconsistent("chunk reference"), offset: cursor)
        }
        previousMax = maxTime
        previousGroup = group
        return ChunkRef(minTime: minTime, maxTime: maxTime, count: Int32(count), offsetInGroup: Int32(offsetInGroup), group: group)
    }
}

/// Byte-wise order of two strings' bytes: negative, zero or positive.
private func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let common = min(a.count, b.count)
    if common > 0 {
        let order = memcmp(a.baseAddress!, b.baseAddress!, common)
        if order != 0 { return Int(order) }
    }
    return a.count - b.count
}
