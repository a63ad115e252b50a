#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import TelemetryModel

/// An immutable block on disk, opened for queries: its meta in memory, its
/// index mapped (both checked when opened), its chunk groups read on demand
/// through the shared cache and checked by CRC when read.
/// docs/format/block.md.
public final class Block: Sendable {
    public let path: String
    public let meta: BlockMeta
    let index: PackedBlockIndex
    private let chunksFD: Int32
    private let cache: GroupCache

    public var id: String { meta.ulid }

    init(path: String, cache: GroupCache) throws(StorageError) {
        self.path = path
        self.cache = cache
        meta = try BlockMeta.decode(try FileSystem.readFile(path + "/meta.json"), path: path + "/meta.json")
        index = try PackedBlockIndex.open(path + "/index")
        let chunksPath = path + "/chunks"
        let fd = try FileSystem.open(chunksPath, flags: O_RDONLY)
        do throws(StorageError) {
            let header = try FileSystem.read(fd, offset: 0, count: BlockFormat.fileHeaderSize, path: chunksPath)
            guard Array(header[0..<4]) == BlockFormat.chunksMagic else {
                throw StorageError(.corrupt("not a tally chunks file"), path: chunksPath, offset: 0)
            }
            guard header[4] == BlockFormat.version else {
                throw StorageError(.unsupportedVersion(Int(header[4])), path: chunksPath, offset: 4)
            }
        } catch {
            close(fd)
            throw error
        }
        chunksFD = fd
    }

    deinit {
        close(chunksFD)
    }

    /// The inflated bytes of the group at `offset`, checked against its CRC;
    /// kept in the shared cache for the queries that follow unless `keep` is false.
    func group(at offset: Int64, keep: Bool = true) throws(StorageError) -> [UInt8] {
        let key = GroupCache.Key(block: meta.ulid, offset: offset)
        if let cached = cache.get(key) { return cached }
        // The offset comes from the index: checked before any arithmetic on it.
        guard offset >= 0, offset <= Int64(meta.stats.chunkFileBytes) else {
            throw StorageError(.corrupt("chunk group offset \(offset) out of range"), path: path + "/chunks", offset: 0)
        }
        let chunksPath = path + "/chunks"
        let header = try FileSystem.read(chunksFD, offset: Int(offset), count: BlockFormat.groupHeaderSize, path: chunksPath)
        let (stored, rawLength, flags) = header.withUnsafeBytes { raw in
            (Int(raw.loadUnaligned(as: UInt32.self).littleEndian),
             Int(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian), raw[8])
        }
        guard Int(offset) + BlockFormat.groupHeaderSize + stored + 4 <= meta.stats.chunkFileBytes, rawLength <= 1 << 30 else {
            throw StorageError(.corrupt("chunk group length out of range"), path: chunksPath, offset: Int(offset))
        }
        let body = try FileSystem.read(chunksFD, offset: Int(offset) + BlockFormat.groupHeaderSize, count: stored + 4, path: chunksPath)
        let result = body.withUnsafeBytes { raw in
            Result { () throws(StorageError) -> [UInt8] in
                let payload = UnsafeRawBufferPointer(rebasing: raw[0..<stored])
                let expected = raw.loadUnaligned(fromByteOffset: stored, as: UInt32.self).littleEndian
                let crc = header.withUnsafeBytes { CRC32.checksum(payload, initial: CRC32.checksum($0)) }
                guard crc == expected else {
                    throw StorageError(.corrupt("chunk group checksum mismatch"), path: chunksPath, offset: Int(offset))
                }
                switch flags {
                case BlockFormat.groupFlagPlain:
                    guard stored == rawLength else {
                        throw StorageError(.corrupt("plain group length mismatch"), path: chunksPath, offset: Int(offset))
                    }
                    return Array(payload)
                case BlockFormat.groupFlagZlib:
                    do {
                        return try Deflate.decompress(payload, expectedLength: rawLength)
                    } catch {
                        throw StorageError(.corrupt("chunk group: \(error)"), path: chunksPath, offset: Int(offset))
                    }
                default:
                    throw StorageError(.corrupt("unknown group flags \(flags)"), path: chunksPath, offset: Int(offset))
                }
            }
        }
        let bytes = try result.get()
        if keep { cache.put(key, bytes) }
        return bytes
    }

    /// Decodes one chunk from its group's bytes, appending its samples.
    private func decode(_ chunk: ChunkRef, in bytes: [UInt8], timestamps: inout [Int64], values: inout [Double]) throws(StorageError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(CodecError) in
                var offset = Int(chunk.offsetInGroup)
                try PackedChunk.decode(raw, at: &offset, timestamps: &timestamps, values: &values)
            }
        }
        if case .failure(let error) = result {
            throw StorageError(.corrupt("chunk: \(error)"), path: path + "/chunks", offset: Int(chunk.group))
        }
    }

    /// The same samples as points, decoded straight into the array's own
    /// memory, which is sized once from the chunks' headers.
    func points(of series: PackedBlockIndex.Series, start: Int64, end: Int64) throws(StorageError) -> [Point] {
        try points(of: series, start: start, end: end) { (offset: Int64) throws(StorageError) in try group(at: offset) }
    }

    /// The group a pass over every series of a block read last: consecutive
    /// series share groups.
    struct Scan {
        fileprivate var offset: Int64 = -1
        fileprivate var bytes: [UInt8] = []
    }

    /// Every point of a series, for a pass over the whole block (compaction):
    /// its groups stay out of the query cache, which such a pass would fill
    /// with groups no query asked for, deleted with the block soon after.
    func allPoints(of series: PackedBlockIndex.Series, scan: inout Scan) throws(StorageError) -> [Point] {
        try points(of: series, start: .min, end: .max) { (offset: Int64) throws(StorageError) in
            if scan.offset != offset {
                scan.bytes = try group(at: offset, keep: false)
                scan.offset = offset
            }
            return scan.bytes
        }
    }

    private func points(
        of series: PackedBlockIndex.Series, start: Int64, end: Int64, groups: (Int64) throws(StorageError) -> [UInt8]
    ) throws(StorageError) -> [Point] {
        let stride = MemoryLayout<Point>.stride
        // Offsets of the stored properties: decoding writes into the points' own memory.
        let timeOffset = MemoryLayout<Point>.offset(of: \Point.timestamp)!
        let valueOffset = MemoryLayout<Point>.offset(of: \Point.value)!
        var chunks: [(chunk: ChunkRef, bytes: [UInt8], count: Int)] = []
        var total = 0
        for chunk in index.chunks(series) where chunk.maxTime >= start && chunk.minTime <= end {
            let bytes = try groups(chunk.group)
            let count = bytes.withUnsafeBytes { raw in (try? PackedChunk.sampleCount(raw, at: Int(chunk.offsetInGroup))) ?? -1 }
            guard count >= 0 else { throw StorageError(.corrupt("chunk header"), path: path + "/chunks", offset: Int(chunk.group)) }
            chunks.append((chunk, bytes, count))
            total += count
        }
        var failure: StorageError?
        let points = [Point](unsafeUninitializedCapacity: total) { buffer, initialized in
            // Point is a trivial type: its bytes may be written before it is "initialized".
            let memory = UnsafeMutableRawPointer(buffer.baseAddress!)
            var filled = 0
            for (chunk, bytes, count) in chunks {
                let base = memory + filled * stride
                let result = bytes.withUnsafeBytes { raw in
                    Result { () throws(CodecError) in
                        var offset = Int(chunk.offsetInGroup)
                        try PackedChunk.decode(raw, at: &offset, into: PackedChunk.SampleSlots(
                            times: base + timeOffset, values: base + valueOffset, stride: stride))
                    }
                }
                if case .failure(let error) = result {
                    failure = StorageError(.corrupt("chunk: \(error)"), path: path + "/chunks", offset: Int(chunk.group))
                    break
                }
                if chunk.minTime < start || chunk.maxTime > end {
                    // Keep only the part in range.
                    var keep = filled
                    for i in filled..<(filled + count) where buffer[i].timestamp >= start && buffer[i].timestamp <= end {
                        buffer[keep] = buffer[i]
                        keep += 1
                    }
                    filled = keep
                } else {
                    filled += count
                }
            }
            initialized = failure == nil ? filled : 0
        }
        if let failure { throw failure }
        return points
    }

    /// The series matching every matcher with a chunk in range, with their labels.
    func matching(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [(series: PackedBlockIndex.Series, labels: Labels)] {
        guard meta.maxTime >= start && meta.minTime <= end else { return [] }
        let (candidates, decided) = index.candidates(matchers)
        var out: [(series: PackedBlockIndex.Series, labels: Labels)] = []
        for series in candidates where index.hasChunk(series, start: start, end: end) {
            let labels = index.labels(series)
            if decided || matchers.allMatch(labels) { out.append((series, labels)) }
        }
        return out
    }

    /// Reads and checks every group and decodes every chunk, and the files'
    /// reserved header bytes (which opening does not refuse, as the data
    /// is intact); the first damage found is thrown.
    public func verify() throws(StorageError) {
        for file in [path + "/chunks", path + "/index"] {
            let fd = try FileSystem.open(file, flags: O_RDONLY)
            defer { close(fd) }
            let header = try FileSystem.read(fd, offset: 0, count: BlockFormat.fileHeaderSize, path: file)
            if let at = (5..<header.count).first(where: { header[$0] != 0 }) {
                throw StorageError(.corrupt("reserved header byte is not zero"), path: file, offset: at)
            }
        }
        // Each group read (and its checksum checked) once, then every chunk in it decoded.
        var byGroup: [Int64: [ChunkRef]] = [:]
        for series in index.allSeries() {
            for chunk in index.chunks(series) { byGroup[chunk.group, default: []].append(chunk) }
        }
        for (offset, chunks) in byGroup.sorted(by: { $0.key < $1.key }) {
            let bytes = try group(at: offset)
            for chunk in chunks {
                var t: [Int64] = []
                var v: [Double] = []
                try decode(chunk, in: bytes, timestamps: &t, values: &v)
                guard t.count == Int(chunk.count), t.first == chunk.minTime, t.last == chunk.maxTime else {
                    throw StorageError(.corrupt("chunk does not match its index entry"), path: path + "/chunks", offset: Int(chunk.group))
                }
            }
        }
    }
}
