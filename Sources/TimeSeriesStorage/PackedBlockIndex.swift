#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import TelemetryModel

/// A block's index as its file holds it (docs/format/index.md), mapped
/// read-only and checked once when opened. In memory it keeps only where
/// every 8th symbol and every 32nd series and posting list starts (as
/// Prometheus's reader keeps every 32nd posting-list offset), about 1 byte
/// per series and label pair: retained blocks must not hold memory per
/// series that has left, or a store under name churn grows with every
/// block it keeps. A lookup halves the samples and walks on in the file
/// over at most 7 symbols, or 31 series or lists (and at most `sampleSpan`
/// bytes); a query decodes the labels and chunk references of the series
/// it reads.
struct PackedBlockIndex: Sendable {
    /// A series of the index: where its record starts in the file. Valid
    /// only for the index it came from.
    struct Series: Sendable, Equatable {
        fileprivate let offset: UInt32
    }

    /// Every how many series and posting lists one is sampled.
    static let sampleEvery = 32
    /// Every how many symbols one is sampled: two symbol lookups per label
    /// of every series a query reads, so their walks are kept shorter.
    static let symbolSampleEvery = 8
    /// A series or posting list further than this many bytes past the last
    /// sample is sampled too: long lists and records do not make a walk long.
    static let sampleSpan = 4_096

    /// A sampled series: its position and where its record starts.
    private struct SeriesSample: Sendable {
        var position: UInt32
        var offset: UInt32
    }

    /// A sampled posting list: its label pair as symbol ids, and where its
    /// entry (the name id) starts.
    private struct PairSample: Sendable {
        var name: UInt32
        var value: UInt32
        var offset: UInt32
    }

    private let file: MappedFile
    /// Offset of every 8th symbol (its length varint); symbols are in byte order.
    private let symbolSamples: [UInt32]
    private let symbolCount: Int
    private let seriesSamples: [SeriesSample]
    /// Where the first series' record starts, and how many there are.
    private let firstSeries: UInt32
    let seriesCount: Int
    /// Sampled posting lists, in (name id, value id) order, and where the
    /// postings section's content ends.
    private let pairSamples: [PairSample]
    private let postingsEnd: Int

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

    /// Bytes the index holds in memory (its samples), for tests and figures.
    var residentBytes: Int {
        symbolSamples.capacity * MemoryLayout<UInt32>.stride + seriesSamples.capacity * MemoryLayout<SeriesSample>.stride
            + pairSamples.capacity * MemoryLayout<PairSample>.stride
    }

    // MARK: Finding series

    /// The series at `position` (0 ..< seriesCount; with no series, where the first would be).
    func series(at position: Int) -> Series {
        var walk = SeriesWalk(position: -1, offset: 0)
        return series(at: position, from: &walk)
    }

    /// The series at ascending `positions`, each found by walking on from
    /// the one before when that is closer than a sample.
    func series(at positions: [Int32]) -> [Series] {
        var walk = SeriesWalk(position: -1, offset: 0)
        return positions.map { series(at: Int($0), from: &walk) }
    }

    /// Every series, in position (label) order.
    func allSeries() -> [Series] {
        var out: [Series] = []
        out.reserveCapacity(seriesCount)
        var cursor = Int(firstSeries)
        for _ in 0..<seriesCount {
            out.append(Series(offset: UInt32(cursor)))
            Self.skipSeries(file.bytes, &cursor)
        }
        return out
    }

    /// The series after `series` (which must not be the last).
    func series(after series: Series) -> Series {
        var cursor = Int(series.offset)
        Self.skipSeries(file.bytes, &cursor)
        return Series(offset: UInt32(cursor))
    }

    private struct SeriesWalk {
        var position: Int
        var offset: Int
    }

    private func series(at position: Int, from walk: inout SeriesWalk) -> Series {
        guard !seriesSamples.isEmpty else { return Series(offset: firstSeries) }
        // The last sample at or before the position.
        var low = 0
        var high = seriesSamples.count
        while low < high {
            let mid = (low + high) / 2
            if Int(seriesSamples[mid].position) <= position { low = mid + 1 } else { high = mid }
        }
        let sample = seriesSamples[max(0, low - 1)]
        if walk.position < Int(sample.position) || walk.position > position {
            walk = SeriesWalk(position: Int(sample.position), offset: Int(sample.offset))
        }
        let raw = file.bytes
        while walk.position < position {
            Self.skipSeries(raw, &walk.offset)
            walk.position += 1
        }
        return Series(offset: UInt32(walk.offset))
    }

    // MARK: Reading series

    /// The label set of a series (checked when opened).
    func labels(_ series: Series) -> Labels {
        let raw = file.bytes
        var cursor = Int(series.offset)
        let count = Self.varint(raw, &cursor)
        var pairs: [Label] = []
        pairs.reserveCapacity(Int(count))
        for _ in 0..<count {
            let name = Self.varint(raw, &cursor)
            let value = Self.varint(raw, &cursor)
            pairs.append(Label(symbol(Int(name)), symbol(Int(value))))
        }
        return Labels(sorted: pairs) ?? Labels(pairs)
    }

    /// The chunk references of a series, in time order.
    func chunks(_ series: Series) -> [ChunkRef] {
        var chunks: [ChunkRef] = []
        forEachChunk(series) { chunks.append($0); return true }
        return chunks
    }

    /// Whether a series has a chunk overlapping `start...end`.
    func hasChunk(_ series: Series, start: Int64, end: Int64) -> Bool {
        var found = false
        forEachChunk(series) { chunk in
            found = chunk.maxTime >= start && chunk.minTime <= end
            return !found && chunk.minTime <= end
        }
        return found
    }

    private func forEachChunk(_ series: Series, _ body: (ChunkRef) -> Bool) {
        let raw = file.bytes
        var cursor = Int(series.offset)
        // Checked when opened: these reads cannot fail.
        let labelCount = Self.varint(raw, &cursor)
        Self.skipVarints(raw, &cursor, count: 2 * labelCount)
        let count = Self.varint(raw, &cursor)
        var reader = ChunkRefReader()
        for _ in 0..<count {
            guard let chunk = try? reader.next(raw, &cursor), body(chunk) else { return }
        }
    }

    // MARK: Postings

    /// The series worth testing against the matchers, in position order,
    /// and whether the postings alone decided every matcher (no label to test).
    func candidates(_ matchers: [LabelMatcher]) -> (series: [Series], decided: Bool) {
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
        return (result.map { series(at: $0) } ?? allSeries(), decided)
    }

    /// The positions of the series carrying `name="value"`, ascending.
    func postings(_ name: String, _ value: String) -> [Int32] {
        guard let nameID = symbolID(name), let valueID = symbolID(value), var cursor = listStart(nameID, valueID) else { return [] }
        let raw = file.bytes
        let count = Self.varint(raw, &cursor)
        var list: [Int32] = []
        list.reserveCapacity(Int(count))
        var previous: UInt64 = 0
        for _ in 0..<count {
            previous &+= Self.varint(raw, &cursor)
            list.append(Int32(truncatingIfNeeded: previous))
        }
        return list
    }

    /// Where the list of a label pair starts (its series count), if the block has it.
    private func listStart(_ nameID: UInt32, _ valueID: UInt32) -> Int? {
        // The last sample at or before the pair, then on through the file.
        var low = 0
        var high = pairSamples.count
        while low < high {
            let mid = (low + high) / 2
            if (pairSamples[mid].name, pairSamples[mid].value) <= (nameID, valueID) { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        let raw = file.bytes
        var cursor = Int(pairSamples[low - 1].offset)
        let end = low < pairSamples.count ? Int(pairSamples[low].offset) : postingsEnd
        while cursor < end {
            let name = UInt32(truncatingIfNeeded: Self.varint(raw, &cursor))
            let value = UInt32(truncatingIfNeeded: Self.varint(raw, &cursor))
            if (name, value) == (nameID, valueID) { return cursor }
            if (name, value) > (nameID, valueID) { return nil }
            let count = Self.varint(raw, &cursor)
            Self.skipVarints(raw, &cursor, count: count)
        }
        return nil
    }

    // MARK: Symbols

    private func symbol(_ id: Int) -> String {
        String(decoding: symbolBytes(id), as: UTF8.self)
    }

    private func symbolBytes(_ id: Int) -> UnsafeRawBufferPointer {
        let raw = file.bytes
        var cursor = Int(symbolSamples[id / Self.symbolSampleEvery])
        for _ in 0..<(id % Self.symbolSampleEvery) {
            let length = Self.varint(raw, &cursor)
            cursor += Int(length)
        }
        return Self.string(raw, &cursor)
    }

    /// The id of a string among the symbols (which are in byte order).
    private func symbolID(_ string: String) -> UInt32? {
        var string = string
        return string.withUTF8 { utf8 in
            let target = UnsafeRawBufferPointer(utf8)
            let raw = file.bytes
            // The last sampled symbol at or before the string, then on through the file.
            var low = 0
            var high = symbolSamples.count
            while low < high {
                let mid = (low + high) / 2
                var cursor = Int(symbolSamples[mid])
                if compareBytes(Self.string(raw, &cursor), target) <= 0 { low = mid + 1 } else { high = mid }
            }
            guard low > 0 else { return nil }
            let first = (low - 1) * Self.symbolSampleEvery
            var cursor = Int(symbolSamples[low - 1])
            for id in first..<min(symbolCount, first + Self.symbolSampleEvery) {
                let order = compareBytes(Self.string(raw, &cursor), target)
                if order == 0 { return UInt32(id) }
                if order > 0 { return nil }
            }
            return nil
        }
    }

    // MARK: Reading the checked file

    /// A varint of the checked file (0 past its end, which a checked file never reaches).
    private static func varint(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int) -> UInt64 {
        (try? Varint.read(raw, at: &cursor)) ?? 0
    }

    /// Steps over `count` varints.
    private static func skipVarints(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int, count: UInt64) {
        var left = count
        while left > 0 && cursor < raw.count {
            if raw[cursor] < 0x80 { left -= 1 }
            cursor += 1
        }
    }

    /// A length-prefixed string's bytes, stepping over it.
    private static func string(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int) -> UnsafeRawBufferPointer {
        let length = Int(varint(raw, &cursor))
        let end = min(raw.count, cursor + length)
        defer { cursor = end }
        return UnsafeRawBufferPointer(rebasing: raw[cursor..<end])
    }

    /// Steps over a series' record: its labels and its chunk references (5 varints each).
    private static func skipSeries(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int) {
        let labelCount = varint(raw, &cursor)
        skipVarints(raw, &cursor, count: 2 * labelCount)
        let chunkCount = varint(raw, &cursor)
        skipVarints(raw, &cursor, count: 5 * chunkCount)
    }

    // MARK: Checking the file

    /// Walks the whole file once, checking every section's CRC, every
    /// reference and count, and the order of symbols and posting lists;
    /// samples where entries start.
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
        /// Whether the entry `index` at `offset` is sampled, `last` the last sampled offset.
        func sampled(_ index: UInt64, _ offset: Int, after last: Int) -> Bool {
            index % UInt64(sampleEvery) == 0 || offset - last > sampleSpan
        }

        let symbols = try countedSection("symbol")
        let (symbolBytes, symbolCount) = (symbols.bytes, symbols.count)
        var cursor = symbols.cursor
        var symbolSamples: [UInt32] = []
        symbolSamples.reserveCapacity(Int(symbolCount) / symbolSampleEvery + 1)
        var previous: UnsafeRawBufferPointer?
        for id in 0..<symbolCount {
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
            // Symbols are found by id: every 8th, whatever its length.
            if id % UInt64(symbolSampleEvery) == 0 { symbolSamples.append(UInt32(start)) }
        }
        func checkSymbol(_ id: UInt64, _ at: Int) throws(CodecError) {
            guard id < symbolCount else { throw CodecError(.inconsistent("symbol \(id) out of range"), offset: at) }
        }

        let (seriesBytes, seriesCursor, seriesCount) = try countedSection("series")
        cursor = seriesCursor
        var seriesSamples: [SeriesSample] = []
        seriesSamples.reserveCapacity(Int(seriesCount) / sampleEvery + 1)
        var lastSample = cursor
        for position in 0..<seriesCount {
            if sampled(position, cursor, after: lastSample) {
                seriesSamples.append(SeriesSample(position: UInt32(position), offset: UInt32(cursor)))
                lastSample = cursor
            }
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
        var pairSamples: [PairSample] = []
        pairSamples.reserveCapacity(Int(pairCount) / sampleEvery + 1)
        lastSample = cursor
        var lastPair: (name: UInt64, value: UInt64)?
        for pair in 0..<pairCount {
            let start = cursor
            let name = try Varint.read(postingBytes, at: &cursor)
            try checkSymbol(name, cursor)
            let value = try Varint.read(postingBytes, at: &cursor)
            try checkSymbol(value, cursor)
            // Lookups search the lists by halving and walking on: they must be in order, each pair once.
            if let lastPair, lastPair >= (name, value) {
                throw CodecError(.inconsistent("postings out of order"), offset: start)
            }
            lastPair = (name, value)
            if sampled(pair, start, after: lastSample) {
                pairSamples.append(PairSample(name: UInt32(name), value: UInt32(value), offset: UInt32(start)))
                lastSample = start
            }
            let count = try Varint.read(postingBytes, at: &cursor)
            guard count <= seriesCount else { throw CodecError(.inconsistent("postings length"), offset: cursor) }
            var position: UInt64 = 0
            for _ in 0..<count {
                let (next, overflow) = position.addingReportingOverflow(try Varint.read(postingBytes, at: &cursor))
                position = next
                guard !overflow, position < seriesCount else { throw CodecError(.inconsistent("posting out of range"), offset: cursor) }
            }
        }
        return PackedBlockIndex(
            file: file, symbolSamples: symbolSamples, symbolCount: Int(symbolCount), seriesSamples: seriesSamples,
            firstSeries: UInt32(seriesCursor), seriesCount: Int(seriesCount), pairSamples: pairSamples, postingsEnd: cursor)
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
