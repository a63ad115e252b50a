#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DurableFiles
import TelemetryModel

extension LogStore {
    /// Periodic upkeep, from a timer off the event loops: writes the head's
    /// chunks out as a segment when the segment period has passed or the
    /// head has grown past its limits, then applies retention.
    public func maintain(now: Int64) {
        let due = state.withLock { state -> Bool in
            guard !state.sealing else { return false }
            let compressed = state.streams.values.reduce(0) { total, stream in
                total + stream.chunks.reduce(0) { $0 + $1.footprint }
            }
            let hasData = state.streams.values.contains { !$0.open.isEmpty || !$0.chunks.isEmpty }
            return hasData
                && (now - state.lastSeal >= options.segmentDurationNanos || compressed >= options.segmentMaxBytes
                    || state.headBytes >= options.headMaxBytes)
        }
        if due { writeSegment(now: now) }
        applyRetention(now: now)
        mergeRuledSegments(now: now)
        updateGauges()
    }

    /// Cuts every stream's open entries and writes all the head's chunks as
    /// one segment; then checkpoints the WAL, which from then on needs to
    /// hold only what came after. A failure leaves the chunks in the head
    /// (and the WAL intact) for the next attempt.
    public func writeSegment(now: Int64) {
        // 1. Rotate the WAL and cut: everything logged so far is in the chunks taken here.
        let prepared: (closed: Int, streams: [(UInt32, Labels)], chunks: [UInt32: [Int]], cut: [(UInt32, Int)])?
        prepared = state.withLock { state in
            guard !state.sealing else { return nil }
            let closed: Int
            do {
                closed = try state.wal.rotate()
            } catch {
                metrics.walErrors.increment()
                logger.error("cannot rotate the log WAL; the segment waits", metadata: ["error": "\(error)"])
                return nil
            }
            state.sealing = true
            var cut: [(UInt32, Int)] = []
            for id in Array(state.streams.keys) {
                if let serial = self.cut(id, state: &state) { cut.append((id, serial)) }
            }
            var chunks: [UInt32: [Int]] = [:]
            for (id, stream) in state.streams where !stream.chunks.isEmpty { chunks[id] = stream.chunks.map(\.serial) }
            let streams = state.streams.values.map { ($0.id, $0.labels) }
            return (closed, streams, chunks, cut)
        }
        guard let prepared else { return }
        compress(prepared.cut)
        // 2. Gather the compressed chunks, by stream, in one segment per retention rule.
        let groups: [(number: Int, rule: Int, streams: [SegmentContents])] = state.withLock { state in
            var byRule: [Int: [SegmentContents]] = [:]
            for (id, serials) in prepared.chunks {
                guard let stream = state.streams[id] else { continue }
                var chunks: [(meta: ChunkMeta, bytes: [UInt8])] = []
                for chunk in stream.chunks where serials.contains(chunk.serial) {
                    switch chunk.body {
                    case .compressed(let meta, let bytes): chunks.append((meta, bytes))
                    case .raw(let entries): chunks.append(LogChunkCodec.compress(entries, level: options.compressionLevel))
                    }
                }
                chunks.sort { $0.meta.minTime < $1.meta.minTime }
                if !chunks.isEmpty { byRule[stream.policy.rule, default: []].append((stream.labels, chunks)) }
            }
            return byRule.keys.sorted().map { rule in
                let number = state.nextSegment
                state.nextSegment += 1
                return (number, rule, byRule[rule]!.sorted { $0.labels.pairs.lexicographicallyPrecedes($1.labels.pairs) })
            }
        }
        // 3. Write the segments, outside the lock; if one fails, those written are removed.
        var written: [LogSegment] = []
        do throws(StorageError) {
            for group in groups {
                let path = directory + "/segments/" + LogStore.segmentName(group.number)
                try LogSegment.write(path: path, streams: group.streams)
                written.append(try LogSegment(path: path, number: group.number))
            }
        } catch {
            for segment in written { unlink(segment.path) }
            metrics.segmentErrors.increment()
            logger.error("cannot write a log segment; its chunks stay in the head and the WAL", metadata: ["error": "\(error)"])
            state.withLock { $0.sealing = false }
            return
        }
        metrics.segmentsWritten.increment(by: Int64(written.count))
        // 4. The segment is durable: drop its chunks from the head, and shrink the WAL
        // (but the segments a forwarder still reads, and the streams they name).
        let keepFrom = walHolds.withLock { $0.values.min() }
        let hasHolds = keepFrom != nil
        state.withLock { state in
            for segment in written {
                state.segments.append(segment)
                state.noteRetention(of: segment, options: options)
            }
            for (id, serials) in prepared.chunks {
                state.streams[id]?.chunks.removeAll { serials.contains($0.serial) }
            }
            // Streams with nothing left that have been idle for a whole period leave the head.
            for (id, stream) in state.streams
            where stream.open.isEmpty && stream.chunks.isEmpty && now - stream.lastAppend >= options.segmentDurationNanos {
                state.streams[id] = nil
                if hasHolds { state.retired[id] = (stream.labels, state.wal.segment) }
                let hash = LogStore.hash(stream.key)
                state.byHash[hash]?.removeAll { $0 == id }
                if state.byHash[hash]?.isEmpty == true { state.byHash[hash] = nil }
            }
            var records = prepared.streams.filter { state.streams[$0.0] != nil }.map { LogWALRecord.stream(id: $0.0, labels: $0.1) }
            if let keepFrom {
                state.retired = state.retired.filter { $0.value.lastSegment >= keepFrom }
                records += state.retired.sorted { $0.key < $1.key }.map { LogWALRecord.stream(id: $0.key, labels: $0.value.labels) }
            } else {
                state.retired = [:]
            }
            do {
                try state.wal.checkpoint(through: prepared.closed, records: records, keepFrom: keepFrom)
            } catch {
                // The old WAL segments stay; replaying them again only repeats entries the reader dedupes.
                metrics.walErrors.increment()
                logger.error("cannot checkpoint the log WAL; it keeps its segments", metadata: ["error": "\(error)"])
            }
            state.headBytes = state.streams.values.reduce(0) { $0 + $1.footprint }
            state.lastSeal = now
            state.sealing = false
        }
    }

    static func segmentName(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".seg"
    }
}

// MARK: Forwarders

extension LogStore {
    /// The store's WAL folder, which forwarders read (`LogWALFollower`).
    public var walDirectory: String { directory + "/wal" }

    /// Keeps the WAL from `segment` on (a forwarder's position) through
    /// checkpoints, and the stream records those segments name. Called
    /// again as the forwarder moves on; `releaseWAL` ends it.
    public func holdWAL(_ name: String, from segment: Int) {
        walHolds.withLock { $0[name] = segment }
    }

    public func releaseWAL(_ name: String) {
        _ = walHolds.withLock { $0.removeValue(forKey: name) }
    }
}
