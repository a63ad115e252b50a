import BlockCodec
import DurableFiles
import TelemetryModel

/// One series in the head: where its label pairs and its closed chunks
/// are, and the open chunk that receives appends (64 bytes).
struct HeadSeries: Sendable {
    var closed: [HeadChunkRef] = []
    var open = HeadOpenChunk()
    /// Where the series' run in the head's `labelBytes` starts: its number
    /// of pairs, then each pair's name and value symbol ids, as varints.
    var labelStart: UInt32
    /// Writers holding the series' reference.
    var holders: Int32 = 0

    init(labelStart: Int) {
        self.labelStart = UInt32(labelStart)
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
        _ timestamp: Int64, _ value: Double, chunkSamples: Int, chunkSpan: Int64, blockDuration: Int64, chunks: HeadChunkFile,
        slab: ChunkSlab
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
            // A sample may add up to 19 bytes: cut before the chunk outgrows its reference. Recoded
            // as XOR, an integer-coded chunk may take up to 19 bytes a sample: cut it instead when
            // that could pass the limit (only with a `chunk_samples` in the thousands).
            let recodedBound = HeadOpenChunk.headerBytes + (open.count + 1) * HeadSampleEncoder.maxSampleBytes
            if open.count >= chunkSamples || timestamp >= boundary || timestamp - open.minTime >= chunkSpan
                || open.length > HeadChunkRef.maxLength - 32
                || (recodedBound > HeadChunkRef.maxLength - 32 && open.recodes(value)) {
                let ref = chunks.append(open.bytes(slab), count: open.count, minTime: open.minTime, maxTime: open.maxTime)
                // Memory per series matters more than these rare copies: grow by one.
                closed.reserveCapacity(closed.count + 1)
                closed.append(ref)
                open.clear(slab)
            }
        }
        open.append(timestamp, value, slab: slab)
        return nil
    }

    /// Gives back the open chunk's cells (the series leaves the head).
    mutating func dropOpenChunk(_ slab: ChunkSlab) {
        open.clear(slab)
    }
}

/// Why the head refused a sample (the `reason` label of
/// `tally_storage_rejected_samples_total`).
typealias RejectReason = SampleRejection

/// The head: the most recent samples, per series an open Gorilla chunk in
/// memory plus the closed ones not yet written to a block, which wait in the
/// head chunk file. A plain value, guarded by the storage engine's lock.
///
/// Label sets are kept as runs of symbol ids (`symbols`, `labelBytes`), not as
/// `Labels`: a series costs its ids, not its strings; `labels(of:)` builds
/// the `Labels` back for whoever reads them.
struct Head: Sendable {
    var series: [HeadSeries?] = []
    var free: [Int] = []
    /// Every label name and value in use.
    private(set) var symbols = SymbolTable()
    /// Each series' pairs as name id, value id, at its `labelStart`, in the
    /// order of its `Labels` (sorted by name), as varints: label names and
    /// shared values are among the first symbols, so most ids take a byte
    /// (a run of three pairs is about 9 bytes, not 28). Runs of removed
    /// series are garbage until compacted.
    private var labelBytes: [UInt8] = []
    /// Bytes of `labelBytes` that no series owns any more.
    private var labelGarbage = 0
    private var index = SeriesIndex()
    /// Series dropped from the head while a forwarder may still read WAL
    /// records that name them: their slots are not reused, and checkpoints
    /// keep their series records, until the forwarders are past `segment`.
    var retired: [(slot: Int, labels: Labels, segment: Int)] = []
    /// Whether forwarders read the WAL (so dropped series are retired, not freed).
    var keepRetired = false
    /// The WAL segment being written, for `retired`.
    var walSegment = 0
    /// Label name id → value id → series slots (in creation order).
    private(set) var postings: [UInt32: [UInt32: PostingList]] = [:]
    /// Samples before this time belong to blocks (end of the last persisted range).
    var minValidTime: Int64 = .min
    let chunkSamples: Int
    let chunkSpan: Int64
    let blockDuration: Int64
    /// Where closed chunks go.
    let chunks: HeadChunkFile
    /// Where open chunks' bytes are.
    let slab = ChunkSlab()

    init(options: StorageOptions, chunks: HeadChunkFile) {
        chunkSamples = min(max(1, options.chunkSamples), Int(UInt16.max))
        chunkSpan = min(max(1, options.chunkSpanMillis), HeadChunkRef.maxSpan)
        blockDuration = max(1, options.blockDurationMillis)
        self.chunks = chunks
    }

    var seriesCount: Int { index.count }

    // MARK: Label sets

    /// The label set of a live slot.
    func labels(of slot: Int) -> Labels {
        guard series[slot] != nil else { return Labels([]) }
        let run = labelRun(slot)
        var pairs: [Label] = []
        pairs.reserveCapacity(run.count / 2)
        for at in stride(from: run.startIndex, to: run.endIndex, by: 2) {
            pairs.append(Label(symbols.string(run[at]), symbols.string(run[at + 1])))
        }
        // Stored in the order of the `Labels` they came from.
        return Labels(sorted: pairs) ?? Labels(pairs)
    }

    /// The ids of a label set's strings when every one is a symbol (else the
    /// set is no series of the head), and their hash.
    private func lookup(_ labels: Labels) -> (ids: [UInt32], hash: UInt32)? {
        var ids: [UInt32] = []
        ids.reserveCapacity(labels.count * 2)
        for label in labels {
            guard let name = symbols.find(label.name), let value = symbols.find(label.value) else { return nil }
            ids.append(name)
            ids.append(value)
        }
        return (ids, Self.hash(ids))
    }

    private static func hash(_ ids: [UInt32]) -> UInt32 {
        var hasher = Hasher()
        ids.withUnsafeBytes { hasher.combine(bytes: $0) }
        return UInt32(truncatingIfNeeded: hasher.finalize())
    }

    /// A live series' pairs: name and value ids, in the order of its `Labels`.
    private func labelRun(_ slot: Int) -> [UInt32] {
        var run: [UInt32] = []
        labelRun(slot, into: &run)
        return run
    }

    /// Decodes a live series' run into `run` (emptied first, its capacity kept).
    private func labelRun(_ slot: Int, into run: inout [UInt32]) {
        run.removeAll(keepingCapacity: true)
        labelBytes.withUnsafeBufferPointer { bytes in
            var at = Int(series[slot]!.labelStart) // callers pass live slots
            let count = 2 * Int(Self.readID(bytes, &at))
            for _ in 0..<count { run.append(Self.readID(bytes, &at)) }
        }
    }

    /// The length in bytes of the run starting at `start`.
    private func runLength(at start: Int) -> Int {
        labelBytes.withUnsafeBufferPointer { bytes in
            var at = start
            let count = 2 * Int(Self.readID(bytes, &at))
            for _ in 0..<count { _ = Self.readID(bytes, &at) }
            return at - start
        }
    }

    private func holds(_ slot: Int, _ ids: [UInt32]) -> Bool {
        guard let s = series[slot] else { return false }
        return labelBytes.withUnsafeBufferPointer { bytes in
            var at = Int(s.labelStart)
            guard 2 * Int(Self.readID(bytes, &at)) == ids.count else { return false }
            for id in ids where Self.readID(bytes, &at) != id { return false }
            return true
        }
    }

    /// Appends `id` as a varint.
    private static func appendID(_ id: UInt32, to bytes: inout [UInt8]) {
        Varint.append(UInt64(id), to: &bytes)
    }

    /// Reads an id `appendID` wrote at `at` (the head's own bytes: it cannot fail).
    @inline(__always)
    private static func readID(_ bytes: UnsafeBufferPointer<UInt8>, _ at: inout Int) -> UInt32 {
        UInt32(truncatingIfNeeded: (try? Varint.read(UnsafeRawBufferPointer(bytes), at: &at)) ?? 0)
    }

    /// The slot of the series with these labels, if the head has it.
    func slot(of labels: Labels) -> Int? {
        guard let (ids, hash) = lookup(labels) else { return nil }
        return index.find(hash: hash) { holds($0, ids) }
    }

    /// How many series carry this metric name.
    func seriesCount(named name: String) -> Int {
        guard let nameID = symbols.find(Labels.metricName), let valueID = symbols.find(name) else { return 0 }
        return postings[nameID]?[valueID]?.count ?? 0
    }

    // MARK: Series

    /// The slot of a series, created if new; `created` says which.
    mutating func getOrCreate(_ labels: Labels) -> (slot: Int, created: Bool) {
        if let slot = slot(of: labels) { return (slot, false) }
        let slot = free.popLast() ?? series.count
        create(labels, at: slot)
        return (slot, true)
    }

    /// Files a new series at a free slot (or the next one): its symbols, its
    /// run of ids, the index and the postings.
    private mutating func create(_ labels: Labels, at slot: Int) {
        let start = labelBytes.count
        var ids: [UInt32] = []
        ids.reserveCapacity(2 * labels.count)
        Self.appendID(UInt32(labels.count), to: &labelBytes)
        for label in labels {
            ids.append(symbols.retain(label.name))
            ids.append(symbols.retain(label.value))
            Self.appendID(ids[ids.count - 2], to: &labelBytes)
            Self.appendID(ids[ids.count - 1], to: &labelBytes)
        }
        let made = HeadSeries(labelStart: start)
        if slot < series.count { series[slot] = made } else { series.append(made) }
        index.insert(hash: Self.hash(ids), slot: slot)
        for k in stride(from: 0, to: ids.count, by: 2) {
            if postings[ids[k]]?[ids[k + 1]] != nil {
                postings[ids[k]]![ids[k + 1]]!.append(slot)
            } else {
                postings[ids[k], default: [:]][ids[k + 1]] = PostingList(slot)
            }
        }
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
        if slot < series.count, series[slot] != nil {
            if let (ids, _) = lookup(labels), holds(slot, ids) { return }
            remove(slot)
        }
        while series.count <= slot {
            free.append(series.count)
            series.append(nil)
        }
        free.removeAll { $0 == slot }
        create(labels, at: slot)
    }

    /// Appends one sample, or says why not. An exact duplicate of the newest
    /// sample is accepted without effect (`nil`, nothing appended).
    mutating func append(slot: Int, timestamp: Int64, value: Double) -> RejectReason? {
        guard slot < series.count, series[slot] != nil else { return .unknownSeries }
        guard timestamp >= minValidTime else { return .tooOld }
        // A mutating call through the optional works on the stored series in
        // place; reading its fields from here would copy the whole series.
        let (chunkSamples, chunkSpan, blockDuration, chunks, slab) =
            (self.chunkSamples, self.chunkSpan, self.blockDuration, self.chunks, self.slab)
        return series[slot]!.append(
            timestamp, value, chunkSamples: chunkSamples, chunkSpan: chunkSpan, blockDuration: blockDuration, chunks: chunks,
            slab: slab)
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
            copies.append(.open(bytes: s.open.bytes(slab), count: s.open.count, minTime: s.open.minTime, maxTime: s.open.maxTime))
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
            if s.open.count > 0 && s.open.maxTime < time { s.dropOpenChunk(slab) }
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
        var leaving: [UInt64: [Int32]] = [:]
        for slot in slots {
            guard let s = series[slot] else { continue }
            if keepRetired { retired.append((slot, labels(of: slot), walSegment)) }
            for ref in s.closed { chunks.release(ref) }
            let ids = labelRun(slot)
            labelGarbage += runLength(at: Int(s.labelStart))
            index.remove(hash: Self.hash(ids), slot: slot)
            series[slot]!.dropOpenChunk(slab)
            series[slot] = nil
            if !keepRetired { free.append(slot) }
            for k in stride(from: 0, to: ids.count, by: 2) {
                leaving[UInt64(ids[k]) << 32 | UInt64(ids[k + 1]), default: []].append(Int32(truncatingIfNeeded: slot))
            }
            for id in ids { symbols.release(id) }
        }
        for (pair, gone) in leaving {
            let (name, value) = (UInt32(truncatingIfNeeded: pair >> 32), UInt32(truncatingIfNeeded: pair))
            if postings[name]?[value]?.remove(gone) == false { postings[name]?[value] = nil }
            if postings[name]?.isEmpty == true { postings[name] = nil }
        }
        symbols.compactIfWasteful()
        compactLabelIDsIfWasteful()
    }

    /// Rewrites `labelBytes` without the runs of removed series once those
    /// are more than half of it.
    private mutating func compactLabelIDsIfWasteful() {
        guard labelGarbage >= 1 << 16, labelGarbage * 2 > labelBytes.count else { return }
        var compacted: [UInt8] = []
        compacted.reserveCapacity(labelBytes.count - labelGarbage)
        for slot in series.indices {
            guard let s = series[slot] else { continue }
            let start = Int(s.labelStart)
            series[slot]!.labelStart = UInt32(compacted.count)
            compacted.append(contentsOf: labelBytes[start..<start + runLength(at: start)])
        }
        labelBytes = compacted
        labelGarbage = 0
    }

    /// The slots of the series that satisfy every matcher: the postings of
    /// the `=` matchers with a non-empty value narrow the candidates, then
    /// each candidate's values are tested (one verdict per value symbol and
    /// matcher, so a regular expression runs once per distinct value).
    func matching(_ matchers: [LabelMatcher]) -> [Int] {
        var verdicts = matchers.map { HeadMatcher($0, symbols: symbols) }
        var out: [Int] = []
        var run: [UInt32] = []
        for slot in candidates(matchers) {
            guard series[slot] != nil else { continue }
            labelRun(slot, into: &run)
            var all = true
            for m in verdicts.indices {
                if !verdicts[m].admits(run[...], symbols: symbols) {
                    all = false
                    break
                }
            }
            if all { out.append(slot) }
        }
        return out
    }

    /// Slots worth testing against the matchers: the intersection of the
    /// postings of their `=` matchers with a non-empty value, else all.
    private func candidates(_ matchers: [LabelMatcher]) -> [Int] {
        var result: Set<Int>?
        for matcher in matchers where matcher.op == .equal && !matcher.value.isEmpty {
            guard let name = symbols.find(matcher.name), let value = symbols.find(matcher.value) else { return [] }
            let slots = Set(postings[name]?[value]?.slots ?? [])
            result = result.map { $0.intersection(slots) } ?? slots
            if result?.isEmpty == true { return [] }
        }
        if let result { return result.sorted() }
        return Array(series.indices)
    }
}
