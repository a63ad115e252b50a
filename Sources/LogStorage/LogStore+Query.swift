import BlockCodec
import DurableFiles
import TelemetryModel

/// One log entry as a query sees it; the line and fields are valid only
/// during the call that receives them.
public struct LogEntry {
    /// Nanoseconds since the epoch.
    public let timestamp: Int64
    public let line: UnsafeRawBufferPointer
    /// Fields stored beside the line (empty for JSON and logfmt records,
    /// whose fields are in the line: `RecordFields` reads both).
    public let fields: EncodedFields

    public init(timestamp: Int64, line: UnsafeRawBufferPointer, fields: EncodedFields) {
        self.timestamp = timestamp
        self.line = line
        self.fields = fields
    }
}

/// Where one chunk of a selected stream is.
enum ChunkSource: Sendable {
    case segment(LogSegment, ChunkMeta)
    case compressed(ChunkMeta, [UInt8])
    case entries(ChunkEntries, minTime: Int64, maxTime: Int64)

    var minTime: Int64 {
        switch self {
        case .segment(_, let meta), .compressed(let meta, _): meta.minTime
        case .entries(_, let minTime, _): minTime
        }
    }

    var maxTime: Int64 {
        switch self {
        case .segment(_, let meta), .compressed(let meta, _): meta.maxTime
        case .entries(_, _, let maxTime): maxTime
        }
    }

    var entryCount: Int {
        switch self {
        case .segment(_, let meta), .compressed(let meta, _): meta.count
        case .entries(let entries, _, _): entries.count
        }
    }

    var rawBytes: Int {
        switch self {
        case .segment(_, let meta), .compressed(let meta, _): meta.rawLength
        case .entries(let entries, _, _): entries.bytes.count
        }
    }

    func load() throws(StorageError) -> ChunkEntries {
        switch self {
        case .segment(let segment, let meta):
            return try segment.read(meta)
        case .compressed(let meta, let bytes):
            do throws(CodecError) {
                return try bytes.withUnsafeBytes { raw in
                    Result { () throws(CodecError) in try LogChunkCodec.decompress(raw, meta: meta) }
                }.get()
            } catch {
                throw StorageError(.corrupt("head chunk: \(error)"), path: "(memory)")
            }
        case .entries(let entries, _, _):
            return entries
        }
    }
}

/// A stream a query selected: its labels and the chunks that may hold
/// entries in the query's range, from segments and the head, taken at one
/// moment (later appends are not seen).
public struct LogStreamSelection: Sendable {
    public let labels: Labels
    let sources: [ChunkSource]

    /// Chunks to read, and the entries and raw bytes they hold at most.
    public var chunkCount: Int { sources.count }
    public var entryCount: Int { sources.reduce(0) { $0 + $1.entryCount } }
    public var rawBytes: Int { sources.reduce(0) { $0 + $1.rawBytes } }

    /// Calls `body` with each entry whose time is in `start..<end`, oldest
    /// first (or newest first when `backward`), until it returns false.
    /// Chunks that overlap in time are merged; an entry identical to the one
    /// before it (same time, same line) is given once, as Loki does.
    public func forEachEntry(
        start: Int64, end: Int64, backward: Bool = false, _ body: (LogEntry) -> Bool
    ) throws(StorageError) {
        let ordered = sources.filter { $0.maxTime >= start && $0.minTime < end }.sorted { $0.minTime < $1.minTime }
        // Runs of chunks whose times overlap are merged; the others are read one by one.
        var groups: [[ChunkSource]] = []
        var groupEnd = Int64.min
        for source in ordered {
            if source.minTime <= groupEnd, !groups.isEmpty {
                groups[groups.count - 1].append(source)
            } else {
                groups.append([source])
            }
            groupEnd = max(groupEnd, source.maxTime)
        }
        var last = Emitted()
        for group in backward ? groups.reversed() : groups {
            let chunks = try group.map { source throws(StorageError) in try source.load() }
            guard readMerged(chunks, start: start, end: end, backward: backward, last: &last, body) else { return }
        }
    }

    /// The last entry given, to drop an identical next one.
    private struct Emitted {
        var time = Int64.min
        var chunk: ChunkEntries?
        var index = 0
    }

    /// Merges chunks by (time, line); false when `body` asked to stop.
    private func readMerged(
        _ chunks: [ChunkEntries], start: Int64, end: Int64, backward: Bool, last: inout Emitted, _ body: (LogEntry) -> Bool
    ) -> Bool {
        // Cursors: forward from the first entry at or after start; backward from the last before end.
        var cursors = chunks.map { chunk in backward ? chunk.firstIndex(atOrAfter: end) - 1 : chunk.firstIndex(atOrAfter: start) }
        while true {
            var best = -1
            for (k, chunk) in chunks.enumerated() {
                let i = cursors[k]
                guard i >= 0, i < chunk.count else { continue }
                let time = chunk.times[i]
                guard backward ? time >= start : time < end else { continue }
                if best < 0 {
                    best = k
                    continue
                }
                let other = chunks[best].times[cursors[best]]
                let order = time == other ? compareLines(chunk, i, chunks[best], cursors[best]) : (time < other ? -1 : 1)
                if backward ? order > 0 : order < 0 { best = k }
            }
            guard best >= 0 else { return true }
            let chunk = chunks[best]
            let i = cursors[best]
            cursors[best] += backward ? -1 : 1
            if let previous = last.chunk, last.time == chunk.times[i], compareLines(previous, last.index, chunk, i) == 0 {
                continue
            }
            last = Emitted(time: chunk.times[i], chunk: chunk, index: i)
            let proceed = chunk.bytes.withUnsafeBytes { raw in
                body(LogEntry(timestamp: chunk.times[i], line: chunk.line(i, raw), fields: EncodedFields(raw: chunk.fields(i, raw))))
            }
            if !proceed { return false }
        }
    }

    private func compareLines(_ a: ChunkEntries, _ i: Int, _ b: ChunkEntries, _ j: Int) -> Int {
        let aStart = Int(a.lineStart[i]), aEnd = Int(a.lineEnd[i])
        let bStart = Int(b.lineStart[j]), bEnd = Int(b.lineEnd[j])
        let n = min(aEnd - aStart, bEnd - bStart)
        for k in 0..<n where a.bytes[aStart + k] != b.bytes[bStart + k] {
            return a.bytes[aStart + k] < b.bytes[bStart + k] ? -1 : 1
        }
        return (aEnd - aStart) - (bEnd - bStart)
    }
}

extension LogStore {
    /// The streams matching every matcher that may hold entries in
    /// `start..<end` (nanoseconds), each with its chunks from the segments
    /// and the head. Fails when a segment set aside as damaged may hold
    /// entries in the range: the answer would be missing them.
    public func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) throws(StorageError) -> [LogStreamSelection] {
        if let damage = damagedSegments.first(where: { $0.overlaps(start: start, end: end.saturatingSubtracting(1)) }) { throw damage.queryError }
        var found: [Labels: [ChunkSource]] = [:]
        let (segments, head) = state.withLock { state in
            var head: [(Labels, [ChunkSource])] = []
            for stream in state.streams.values where matchers.allSatisfy({ $0.matches(stream.labels) }) {
                var sources: [ChunkSource] = []
                for chunk in stream.chunks where chunk.maxTime >= start && chunk.minTime < end {
                    switch chunk.body {
                    case .raw(let entries): sources.append(.entries(entries, minTime: chunk.minTime, maxTime: chunk.maxTime))
                    case .compressed(let meta, let bytes): sources.append(.compressed(meta, bytes))
                    }
                }
                if !stream.open.isEmpty, stream.open.maxTime >= start, stream.open.minTime < end {
                    // A copy made here, so the writer keeps its buffer to itself.
                    var entries = stream.open.sortedEntries()
                    entries.bytes = entries.bytes.withUnsafeBufferPointer { Array($0) }
                    sources.append(.entries(entries, minTime: stream.open.minTime, maxTime: stream.open.maxTime))
                }
                if !sources.isEmpty { head.append((stream.labels, sources)) }
            }
            return (state.segments, head)
        }
        for segment in segments where segment.maxTime >= start && segment.minTime < end {
            for stream in segment.streams where matchers.allSatisfy({ $0.matches(stream.labels) }) {
                for meta in stream.chunks where meta.maxTime >= start && meta.minTime < end {
                    found[stream.labels, default: []].append(.segment(segment, meta))
                }
            }
        }
        for (labels, sources) in head { found[labels, default: []].append(contentsOf: sources) }
        return found.map { LogStreamSelection(labels: $0.key, sources: $0.value) }
            .sorted { $0.labels.pairs.lexicographicallyPrecedes($1.labels.pairs) }
    }

    /// Label names of the streams with entries in `start..<end`, sorted.
    public func labelNames(start: Int64, end: Int64) -> [String] {
        Array(Set(streamLabels([], start: start, end: end).flatMap { $0.map(\.name) })).sorted()
    }

    /// Values of one label among the streams matching `matchers` with entries in `start..<end`, sorted.
    public func labelValues(_ name: String, matchers: [LabelMatcher] = [], start: Int64, end: Int64) -> [String] {
        Array(Set(streamLabels(matchers, start: start, end: end).compactMap { labels in labels.first { $0.name == name }?.value })).sorted()
    }

    /// The label sets of the streams matching `matchers` with entries in `start..<end`.
    public func streamLabels(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [Labels] {
        var found = Set<Labels>()
        let (segments, head) = state.withLock { state in
            let head = state.streams.values.filter { stream in
                matchers.allSatisfy { $0.matches(stream.labels) }
                    && (stream.chunks.contains { $0.maxTime >= start && $0.minTime < end }
                        || (!stream.open.isEmpty && stream.open.maxTime >= start && stream.open.minTime < end))
            }.map(\.labels)
            return (state.segments, head)
        }
        found.formUnion(head)
        for segment in segments where segment.maxTime >= start && segment.minTime < end {
            for stream in segment.streams where matchers.allSatisfy({ $0.matches(stream.labels) })
                && stream.chunks.contains(where: { $0.maxTime >= start && $0.minTime < end })
            {
                found.insert(stream.labels)
            }
        }
        return found.sorted { $0.pairs.lexicographicallyPrecedes($1.pairs) }
    }
}
