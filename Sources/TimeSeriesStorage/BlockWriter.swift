#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import TelemetryModel

/// Writes one block, series by series in label order: chunks re-encoded in
/// the block chunk encodings, gathered into groups that are deflated when
/// that pays, then the index and `meta.json`. Everything goes to
/// `ULID.tmp/`, is fsynced, and is renamed into place last, so a reader
/// never sees half a block. docs/format/block.md.
final class BlockWriter {
    let parent: String
    let ulid: String
    let temporary: String
    private let options: StorageOptions
    private let level: Int
    private let sources: [String]
    private var chunksFD: Int32 = -1
    private var fileOffset: Int64
    /// Pending groups: byte-aligned integer encodings in one, Gorilla XOR
    /// chunks (nearly random bits that zlib cannot shrink) in another, float
    /// byte planes in a third, so that each compresses on its own terms.
    private var groups: [[UInt8]] = [[], [], []]
    /// The chunk references waiting for each pending group's file offset.
    private var waiting: [[(series: Int, chunk: Int)]] = [[], [], []]
    private var scratch: [UInt8] = []
    private var series: [IndexedSeries] = []
    private var postings: [String: [String: [Int32]]] = [:]
    private var lastLabels: Labels?
    private var stats = BlockMeta.Stats(series: 0, samples: 0, chunks: 0, groups: 0, encodedBytes: 0, chunkFileBytes: 0, indexBytes: 0)
    private var minTime = Int64.max
    private var maxTime = Int64.min
    private var finished = false

    init(parent: String, options: StorageOptions, level: Int = 1, sources: [String] = [], now: Int64) throws(StorageError) {
        self.parent = parent
        self.options = options
        self.level = level
        self.sources = sources
        ulid = ULID.make(millis: now)
        temporary = parent + "/" + ulid + ".tmp"
        try FileSystem.makeDirectory(temporary)
        let path = temporary + "/chunks"
        let header = BlockFormat.fileHeader(BlockFormat.chunksMagic)
        // deinit does not run when init throws: clean up here.
        do throws(StorageError) {
            chunksFD = try FileSystem.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
            try FileSystem.writeAll(chunksFD, header, path: path)
        } catch {
            if chunksFD >= 0 { close(chunksFD) }
            try? FileSystem.removeTree(temporary)
            throw error
        }
        fileOffset = Int64(header.count)
    }

    deinit {
        if chunksFD >= 0 { close(chunksFD) }
        if !finished { try? FileSystem.removeTree(temporary) }
    }

    /// Adds a series' samples (time order, no duplicate timestamps). Series
    /// must come in ascending label order; a series without samples is skipped.
    func add(_ labels: Labels, timestamps: [Int64], values: [Double]) throws(StorageError) {
        precondition(timestamps.count == values.count)
        guard !timestamps.isEmpty else { return }
        if let lastLabels { precondition(lastLabels.lexicographicallyPrecedes(labels), "series out of order") }
        lastLabels = labels
        let position = Int32(series.count)
        series.append(IndexedSeries(labels: labels, chunks: []))
        var start = 0
        let limit = min(max(1, options.blockChunkSamples), PackedChunk.maxSamples)
        while start < timestamps.count {
            let end = min(start + limit, timestamps.count)
            scratch.removeAll(keepingCapacity: true)
            let choice = PackedChunk.encode(timestamps: timestamps[start..<end], values: values[start..<end], into: &scratch)
            let g = choice.value == .xor ? 1 : choice.value == .floatPlanes ? 2 : 0
            let offsetInGroup = groups[g].count
            groups[g].append(contentsOf: scratch)
            waiting[g].append((Int(position), series[Int(position)].chunks.count))
            series[Int(position)].chunks.append(ChunkRef(
                minTime: timestamps[start], maxTime: timestamps[end - 1], count: Int32(end - start),
                offsetInGroup: Int32(offsetInGroup), group: -1))
            stats.chunks += 1
            start = end
            if groups[g].count >= options.chunkGroupBytes { try flushGroup(g) }
        }
        for label in labels { postings[label.name, default: [:]][label.value, default: []].append(position) }
        stats.series += 1
        stats.samples += timestamps.count
        minTime = min(minTime, timestamps[0])
        maxTime = max(maxTime, timestamps[timestamps.count - 1])
    }

    /// Writes the pending group: deflated when that saves at least 10%, plain otherwise.
    private func flushGroup(_ g: Int) throws(StorageError) {
        let group = groups[g]
        guard !group.isEmpty else { return }
        let deflated = Deflate.compress(group, level: options.compressionLevel)
        let useZlib = deflated.count * 10 < group.count * 9
        let payload = useZlib ? deflated : group
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + BlockFormat.groupHeaderSize + 4)
        FixedWidth.append(UInt32(payload.count), to: &frame)
        FixedWidth.append(UInt32(group.count), to: &frame)
        frame.append(useZlib ? BlockFormat.groupFlagZlib : BlockFormat.groupFlagPlain)
        frame.append(contentsOf: payload)
        FixedWidth.append(CRC32.checksum(frame), to: &frame)
        try FileSystem.writeAll(chunksFD, frame, path: temporary + "/chunks")
        stats.encodedBytes += group.count
        stats.groups += 1
        for (series, chunk) in waiting[g] { self.series[series].chunks[chunk].group = fileOffset }
        waiting[g].removeAll(keepingCapacity: true)
        fileOffset += Int64(frame.count)
        groups[g].removeAll(keepingCapacity: true)
    }

    /// Completes the block and renames it into place; returns its meta, or
    /// nil when no series had samples (nothing is left on disk then).
    func finish() throws(StorageError) -> BlockMeta? {
        for g in groups.indices { try flushGroup(g) }
        try FileSystem.sync(chunksFD, path: temporary + "/chunks")
        close(chunksFD)
        chunksFD = -1
        guard stats.series > 0 else {
            try FileSystem.removeTree(temporary)
            finished = true
            return nil
        }
        stats.chunkFileBytes = Int(fileOffset)
        let index = BlockIndex(series: series, postings: postings).encoded()
        stats.indexBytes = index.count
        try FileSystem.writeFile(temporary + "/index", index)
        let meta = BlockMeta(
            version: BlockMeta.currentVersion, ulid: ulid, minTime: minTime, maxTime: maxTime,
            stats: stats, compaction: .init(level: level, sources: sources))
        try FileSystem.writeFile(temporary + "/meta.json", meta.encoded())
        try FileSystem.syncDirectory(temporary)
        try FileSystem.rename(temporary, parent + "/" + ulid)
        try FileSystem.syncDirectory(parent)
        finished = true
        return meta
    }
}
