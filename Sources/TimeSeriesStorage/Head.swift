import BlockCodec
import DurableFiles
import TelemetryModel

/// One series in the head: its labels, where its closed chunks are in the
/// head chunk file, and the open chunk that receives appends.
struct HeadSeries: Sendable {
    let labels: Labels
    var closed: [HeadChunkRef] = []
    var open = XORChunk()
    /// Writers holding the series' reference.
    var holders: Int32 = 0

    init(labels: Labels) {
        self.labels = labels
    }

    var isEmpty: Bool { closed.isEmpty && open.count == 0 }
    var maxTime: Int64? { open.count > 0 ? open.maxTime : closed.last?.maxTime }
    var minTime: Int64? { closed.first?.minTime ?? (open.count > 0 ? open.minTime : nil) }
    var lastValue: Double? { open.count > 0 ? open.lastValue : nil }

    /// Appends one sample, or says why not; cuts the open chunk into the
    /// head chunk file first when it is full, spans too long, or crosses a
    /// block boundary. An exact duplicate of the newest sample is accepted
    /// without effect.
    mutating func append(
        _ timestamp: Int64, _ value: Double, chunkSamples: Int, chunkSpan: Int64, blockDuration: Int64, chunks: HeadChunkFile
    ) -> RejectReason? {
        if let last = maxTime {
            if timestamp == last {
                if let lastValue, lastValue.bitPattern == value.bitPattern { return nil }
                return .duplicateTimestamp
            }
            if timestamp < last { return .outOfOrder }
        }
        if open.count > 0 {
            let boundary = (floorDivide(open.minTime, blockDuration) + 1) * blockDuration
            // A sample may add up to 18 bytes: cut before the chunk outgrows its reference.
            if open.count >= chunkSamples || timestamp >= boundary || timestamp - open.minTime >= chunkSpan
                || open.stream.bytes.count > HeadChunkRef.maxLength - 32 {
                let ref = chunks.append(open.bytes, count: open.count, minTime: open.minTime, maxTime: open.maxTime)
                // Memory per series matters more than these rare copies: grow by one, and
                // size the next chunk after this one, plus an eighth.
                closed.reserveCapacity(closed.count + 1)
                closed.append(ref)
                let size = open.stream.bytes.count
                open = XORChunk(capacity: min(size + size / 8 + 8, HeadChunkRef.maxLength))
            }
        }
        open.append(timestamp, value)
        return nil
    }
}

/// Why the head refused a sample (the `reason` label of
/// `tally_storage_rejected_samples_total`).
typealias RejectReason = SampleRejection

/// The head: the most recent samples, per series an open Gorilla chunk in
/// memory plus the closed ones not yet written to a block, which wait in the
/// head chunk file. A plain value, guarded by the storage engine's lock.
struct Head: Sendable {
    var series: [HeadSeries?] = []
    var free: [Int] = []
    var index: [Labels: Int] = [:]
    /// Series dropped from the head while a forwarder may still read WAL
    /// records that name them: their slots are not reused, and checkpoints
    /// keep their series records, until the forwarders are past `segment`.
    var retired: [(slot: Int, labels: Labels, segment: Int)] = []
    /// Whether forwarders read the WAL (so dropped series are retired, not freed).
    var keepRetired = false
    /// The WAL segment being written, for `retired`.
    var walSegment = 0
    /// Label name → value → series slots (in creation order).
    var postings: [String: [String: PostingList]] = [:]
    /// Samples before this time belong to blocks (end of the last persisted range).
    var minValidTime: Int64 = .min
    let chunkSamples: Int
    let chunkSpan: Int64
    let blockDuration: Int64
    /// Where closed chunks go.
    let chunks: HeadChunkFile

    init(options: StorageOptions, chunks: HeadChunkFile) {
        chunkSamples = min(max(1, options.chunkSamples), Int(UInt16.max))
        chunkSpan = min(max(1, options.chunkSpanMillis), HeadChunkRef.maxSpan)
        blockDuration = max(1, options.blockDurationMillis)
        self.chunks = chunks
    }

    var seriesCount: Int { index.count }

    /// The slot of a series, created if new; `created` says which.
    mutating func getOrCreate(_ labels: Labels) -> (slot: Int, created: Bool) {
        if let slot = index[labels] { return (slot, false) }
        let slot: Int
        if let reuse = free.popLast() {
            slot = reuse
            series[slot] = HeadSeries(labels: labels)
        } else {
            slot = series.count
            series.append(HeadSeries(labels: labels))
        }
        index[labels] = slot
        addPostings(labels, slot)
        return (slot, true)
    }

    /// The retired series a reader from segment `keepFrom` on may still
    /// meet; frees the slots of the others.
    mutating func retiredNeeded(from keepFrom: Int?) -> [(slot: Int, labels: Labels)] {
        guard let keepFrom else {
            free += retired.map(\.slot)
            retired = []
            return []
        }
        let (needed, done) = (retired.filter { $0.segment >= keepFrom }, retired.filter { $0.segment < keepFrom })
        free += done.map(\.slot)
        retired = needed
        return needed.map { ($0.slot, $0.labels) }
    }

    /// Puts a series at a given slot (WAL replay restores slots as logged).
    mutating func restore(_ labels: Labels, at slot: Int) {
        if slot < series.count, let existing = series[slot] {
            if existing.labels == labels { return }
            remove(slot)
        }
        while series.count <= slot {
            free.append(series.count)
            series.append(nil)
        }
        free.removeAll { $0 == slot }
        series[slot] = HeadSeries(labels: labels)
        index[labels] = slot
        addPostings(labels, slot)
    }

    private mutating func addPostings(_ labels: Labels, _ slot: Int) {
        for label in labels {
            if postings[label.name]?[label.value] != nil {
                postings[label.name]![label.value]!.append(slot)
            } else {
                postings[label.name, default: [:]][label.value] = PostingList(slot)
            }
        }
    }

    /// Appends one sample, or says why not. An exact duplicate of the newest
    /// sample is accepted without effect (`nil`, nothing appended).
    mutating func append(slot: Int, timestamp: Int64, value: Double) -> RejectReason? {
        guard slot < series.count, series[slot] != nil else { return .unknownSeries }
        guard timestamp >= minValidTime else { return .tooOld }
        // A mutating call through the optional works on the stored series in
        // place; reading its fields from here would copy the whole series.
        let (chunkSamples, chunkSpan, blockDuration, chunks) = (self.chunkSamples, self.chunkSpan, self.blockDuration, self.chunks)
        return series[slot]!.append(
            timestamp, value, chunkSamples: chunkSamples, chunkSpan: chunkSpan, blockDuration: blockDuration, chunks: chunks)
    }

    /// Adds a closed chunk from a checkpoint.
    mutating func restoreChunk(slot: Int, bytes: [UInt8], count: Int, minTime: Int64, maxTime: Int64) {
        guard slot < series.count, series[slot] != nil, bytes.count <= HeadChunkRef.maxLength,
              count <= Int(UInt16.max), maxTime >= minTime,
              case let (span, overflow) = maxTime.subtractingReportingOverflow(minTime), !overflow, span <= HeadChunkRef.maxSpan
        else { return }
        series[slot]!.closed.append(chunks.append(bytes, count: count, minTime: minTime, maxTime: maxTime))
    }

    /// Copies of a series' chunks overlapping `start...end` (the open one
    /// included), to read outside the lock.
    func copies(of s: HeadSeries, start: Int64, end: Int64) -> [HeadChunkCopy] {
        var copies = chunks.copies(of: s.closed.lazy.filter { $0.maxTime >= start && $0.minTime <= end })
        if s.open.count > 0 && s.open.maxTime >= start && s.open.minTime <= end {
            copies.append(.open(bytes: s.open.bytes, count: s.open.count, minTime: s.open.minTime, maxTime: s.open.maxTime))
        }
        return copies
    }

    /// The oldest and newest sample times in the head.
    var timeRange: (min: Int64, max: Int64)? {
        var low = Int64.max
        var high = Int64.min
        for case let s? in series {
            if let t = s.minTime { low = min(low, t) }
            if let t = s.maxTime { high = max(high, t) }
        }
        return low <= high ? (low, high) : nil
    }

    /// Drops every chunk that ends before `time` and every series left with
    /// no samples and no holder; samples before `time` are refused from now.
    mutating func truncate(before time: Int64) {
        minValidTime = max(minValidTime, time)
        var removed: [Int] = []
        for slot in series.indices {
            guard var s = series[slot] else { continue }
            s.closed.removeAll { ref in
                guard ref.maxTime < time else { return false }
                chunks.release(ref)
                return true
            }
            if s.open.count > 0 && s.open.maxTime < time { s.open = XORChunk() }
            series[slot] = s
            if s.isEmpty && s.holders <= 0 { removed.append(slot) }
        }
        remove(removed)
    }

    private mutating func remove(_ slot: Int) {
        remove([slot])
    }

    /// Drops series. A label pair's posting list is filtered once for all the
    /// slots leaving it: a pair every series shares (`env="prod"`) would
    /// otherwise be scanned whole for each series that goes.
    private mutating func remove(_ slots: [Int]) {
        var leaving: [Label: [Int32]] = [:]
        for slot in slots {
            guard let s = series[slot] else { continue }
            for ref in s.closed { chunks.release(ref) }
            index[s.labels] = nil
            series[slot] = nil
            if keepRetired {
                retired.append((slot, s.labels, walSegment))
            } else {
                free.append(slot)
            }
            for label in s.labels { leaving[label, default: []].append(Int32(truncatingIfNeeded: slot)) }
        }
        for (label, gone) in leaving {
            if postings[label.name]?[label.value]?.remove(gone) == false { postings[label.name]?[label.value] = nil }
            if postings[label.name]?.isEmpty == true { postings[label.name] = nil }
        }
    }

    /// Slots worth testing against the matchers: the intersection of the
    /// postings of their `=` matchers with a non-empty value, else all.
    func candidates(_ matchers: [LabelMatcher]) -> [Int] {
        var result: Set<Int>?
        for matcher in matchers where matcher.op == .equal && !matcher.value.isEmpty {
            let slots = Set(postings[matcher.name]?[matcher.value]?.slots ?? [])
            result = result.map { $0.intersection(slots) } ?? slots
            if result?.isEmpty == true { return [] }
        }
        if let result { return result.sorted() }
        return Array(series.indices)
    }
}
