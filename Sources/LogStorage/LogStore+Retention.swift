#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DurableFiles
import TelemetryModel

extension LogStore.State {
    /// Records how long a segment is kept when it holds streams that a retention rule selects:
    /// until every stream in it has passed its period.
    mutating func noteRetention(of segment: LogSegment, options: LogStoreOptions) {
        guard !options.retentionStreams.isEmpty else { return }
        var ruled = false
        var pure = true
        var longest = options.retentionNanos
        for stream in segment.streams {
            let policy = StreamPolicy(stream.labels, options: options)
            if policy.rule >= 0 { ruled = true } else { pure = false }
            longest = max(longest, policy.retentionNanos)
        }
        if ruled { ruledSegments[segment.number] = (longest, pure) }
    }
}

extension LogStore {
    /// Small segments of rule-selected streams are merged once this many have accumulated.
    static let mergeThreshold = 8

    /// Deletes segments wholly older than their retention period (the store's, or the longest
    /// of their streams' rules), then the oldest of those under the store's retention while
    /// they take more than `max_bytes`.
    func applyRetention(now: Int64) {
        let doomed: [LogSegment] = state.withLock { state in
            var doomed: [LogSegment] = []
            var kept: [LogSegment] = []
            for segment in state.segments {
                let period = state.ruledSegments[segment.number]?.period ?? options.retentionNanos
                if segment.maxTime < now.saturatingSubtracting(period) {
                    doomed.append(segment)
                } else {
                    kept.append(segment)
                }
            }
            if options.maxBytes > 0 {
                var total = kept.reduce(0) { $0 + Int64($1.sizeBytes) }
                while total > options.maxBytes, let oldest = kept.firstIndex(where: { state.ruledSegments[$0.number] == nil }) {
                    total -= Int64(kept[oldest].sizeBytes)
                    doomed.append(kept.remove(at: oldest))
                }
            }
            state.segments = kept
            for segment in doomed { state.ruledSegments[segment.number] = nil }
            return doomed
        }
        for segment in doomed {
            // Queries holding the segment keep reading it through their open descriptor.
            if unlink(segment.path) == 0 || errno == ENOENT {
                metrics.retentionDeletions.increment()
            } else {
                logger.error("cannot delete an expired log segment", metadata: ["path": "\(segment.path)", "errno": "\(errno)"])
            }
        }
    }

    /// Rule-selected streams (delivery events) arrive a few at a time, so
    /// each hour's segment of them is small, and they are kept for long:
    /// once `mergeThreshold` small segments of only such streams exist,
    /// they are rewritten as one, leaving out chunks past their stream's
    /// retention. The merged segment is written whole before the others are
    /// deleted; a crash in between leaves entries twice on disk, which
    /// queries give once (identical time and line).
    func mergeRuledSegments(now: Int64) {
        let claimed: (number: Int, segments: [LogSegment])? = state.withLock { state in
            guard !state.merging, state.ruledSegments.count >= Self.mergeThreshold else { return nil }
            let small = state.segments.filter { segment in
                state.ruledSegments[segment.number]?.pure == true && segment.sizeBytes < options.segmentMaxBytes / 2
            }
            guard small.count >= Self.mergeThreshold else { return nil }
            state.merging = true
            let number = state.nextSegment
            state.nextSegment += 1
            return (number, small)
        }
        guard let claimed else { return }
        defer { state.withLock { $0.merging = false } }
        var byLabels: [Labels: [(meta: ChunkMeta, bytes: [UInt8])]] = [:]
        do throws(StorageError) {
            for segment in claimed.segments {
                for stream in segment.streams {
                    let horizon = now.saturatingSubtracting(StreamPolicy(stream.labels, options: options).retentionNanos)
                    for meta in stream.chunks where meta.maxTime >= horizon {
                        byLabels[stream.labels, default: []].append((meta, try segment.compressedChunk(meta)))
                    }
                }
            }
        } catch {
            metrics.segmentErrors.increment()
            logger.error("cannot merge small log segments; they stay as they are", metadata: ["error": "\(error)"])
            return
        }
        let contents: [SegmentContents] = byLabels
            .map { (labels: $0.key, chunks: $0.value.sorted { $0.meta.minTime < $1.meta.minTime }) }
            .sorted { $0.labels.pairs.lexicographicallyPrecedes($1.labels.pairs) }
        var merged: LogSegment?
        if !contents.isEmpty {
            let path = directory + "/segments/" + LogStore.segmentName(claimed.number)
            do throws(StorageError) {
                try LogSegment.write(path: path, streams: contents)
                merged = try LogSegment(path: path, number: claimed.number)
            } catch {
                metrics.segmentErrors.increment()
                logger.error("cannot merge small log segments; they stay as they are", metadata: ["error": "\(error)"])
                return
            }
        }
        let replaced = Set(claimed.segments.map(\.number))
        state.withLock { state in
            state.segments.removeAll { replaced.contains($0.number) }
            for number in replaced { state.ruledSegments[number] = nil }
            if let merged {
                state.segments.append(merged)
                state.noteRetention(of: merged, options: options)
            }
        }
        for segment in claimed.segments where unlink(segment.path) != 0 && errno != ENOENT {
            logger.error("cannot delete a merged log segment", metadata: ["path": "\(segment.path)", "errno": "\(errno)"])
        }
        metrics.segmentMerges.increment()
    }
}
