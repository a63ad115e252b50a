import Prometheus
import StatsDWire
import TelemetryModel

/// The producer side of aggregation, one per receive context (an event loop's
/// datagram channel, a TCP connection): it parses each line in place, picks
/// the shard by the series' family name, and appends a record to that shard's
/// pending batch; `flush` pushes the batches into the shards' rings.
///
/// Not thread-safe: each instance belongs to one thread.
public final class LineRouter {
    public enum FullRingPolicy: Sendable {
        /// Drop the batch and count its lines (UDP: the sender cannot be slowed).
        case drop
        /// Keep the batch for a later `flush` (TCP: stop reading until it goes).
        case keep
    }

    let inputs: [ShardInput]
    let parser: StatsDParser
    let metrics: AggregationMetrics
    let events: any EventSink
    let badLineLog: BadLineLog
    /// Per shard: the batch being filled.
    let current: OpenBatches
    /// Per shard: filled batches waiting for room in the ring (oldest first).
    var waiting: [[RecordBatch]]
    let policy: FullRingPolicy
    /// Lines longer than this many bytes are rejected as `line_too_long`.
    let maxLineLength: Int
    /// Non-empty lines seen so far, accepted or not (for `/metrics`).
    public private(set) var linesSeen = 0
    /// Records appended since the last `flush`.
    public private(set) var recordsSinceFlush = 0
    /// Each recently seen name's shard, so a name is sanitised and hashed as a family once.
    var shardCache: FamilyShardCache

    public init(
        inputs: [ShardInput], parser: StatsDParser, metrics: AggregationMetrics,
        events: any EventSink, badLineLog: BadLineLog, policy: FullRingPolicy, maxLineLength: Int = 65_536
    ) {
        self.maxLineLength = maxLineLength
        precondition(!inputs.isEmpty, "at least one shard")
        self.inputs = inputs
        self.parser = parser
        self.metrics = metrics
        self.events = events
        self.badLineLog = badLineLog
        self.policy = policy
        current = OpenBatches(inputs.map { $0.takeBatch() })
        waiting = Array(repeating: [], count: inputs.count)
        // A datagram router serves a whole event loop; a stream router one connection (there may be thousands).
        shardCache = FamilyShardCache(slotBits: policy == .drop ? 12 : 9)
    }

    deinit {
        shardCache.free()
        current.free()
    }

    /// Parses every newline-separated line of a datagram or stream chunk.
    public func ingest(lines buffer: UnsafeRawBufferPointer, now: Int64) {
        forEachLine(in: buffer) { ingest(line: $0, now: now) }
    }

    /// Parses one line and queues its records. `now` stamps events without a timestamp.
    public func ingest(line: UnsafeRawBufferPointer, now: Int64) {
        guard !line.isEmpty else { return }
        linesSeen += 1
        if line.count > maxLineLength {
            reject(StatsDParseError(.lineTooLong, at: maxLineLength), line)
            return
        }
        let end = StatsDParser.contentEnd(line)
        guard end > 0 else { return }
        if StatsDParser.mayBeEvent(line) {
            ingestEventOrMetric(line, now: now)
            return
        }
        switch parser.parseMetric(line, end: end) {
        case .success(let metric): route(metric, line)
        case .failure(let error): reject(error, line)
        }
    }

    /// A line that may be an event or a service check: the general parse.
    private func ingestEventOrMetric(_ line: UnsafeRawBufferPointer, now: Int64) {
        switch parser.parse(line, now: now) {
        case .metric(let metric):
            route(metric, line)
        case .empty:
            break
        case .event(let event):
            (event.kind == .event ? metrics.events : metrics.serviceChecks).increment()
            events.record(event)
        case .failure(let error):
            reject(error, line)
        }
    }

    /// Counts a line that a stream reader cut off because it passed the
    /// length limit before its newline came; `prefix` is what was read of it.
    public func rejectTooLong(_ prefix: UnsafeRawBufferPointer) {
        linesSeen += 1
        reject(StatsDParseError(.lineTooLong, at: maxLineLength), prefix)
    }

    /// Counts (and at most once a second logs) a rejected line.
    func reject(_ error: StatsDParseError, _ line: UnsafeRawBufferPointer) {
        metrics.badLines[Int(error.reason.rawValue)].increment()
        badLineLog.report(error, line)
    }

    func route(_ metric: StatsDMetricLine, _ line: UnsafeRawBufferPointer) {
        recordsSinceFlush += metric.kind == .set ? 1 : metric.valueCount
        let nameHash = SeriesHash.hash(line, metric.name, seed: UInt64(metric.kind.rawValue))
        let shard = inputs.count == 1 ? 0 : shardCache.shard(forName: nameHash) {
            Self.shard(family: Self.familyHash(line, metric.name, metric.kind), shards: inputs.count)
        }
        let keyHash = SeriesHash.hash(line, metric.tags, seed: nameHash)
        let weight = 1 / metric.sampleRate
        let batch = currentBatch(shard, keyLength: metric.name.count + metric.tags.count)
        switch metric.kind {
        case .set:
            let member = SeriesHash.hash(line, metric.values, seed: 0x5E7)
            batch._withUnsafeGuaranteedRef {
                $0.append(hash: keyHash, value: Double(bitPattern: member), weight: 1, kind: .set, delta: false,
                          line: line, name: metric.name, tags: metric.tags)
            }
        default:
            batch._withUnsafeGuaranteedRef {
                $0.append(hash: keyHash, value: metric.firstValue, weight: weight, kind: metric.kind,
                          delta: metric.firstIsDelta, line: line, name: metric.name, tags: metric.tags)
            }
            if metric.valueCount > 1 {
                var first = true
                StatsDParser.forEachValue(line, of: metric) { value, signed in
                    if first { first = false; return }
                    currentBatch(shard, keyLength: metric.name.count + metric.tags.count)._withUnsafeGuaranteedRef {
                        $0.append(hash: keyHash, value: value, weight: weight, kind: metric.kind,
                                  delta: metric.kind == .gauge && signed, line: line, name: metric.name, tags: metric.tags)
                    }
                }
            }
        }
    }

    /// Decodes an agent's `AggregateRequest` and queues its aggregates for
    /// their shards (then `flush`); refuses it whole, queueing nothing, when
    /// any part is malformed or was built with other sketch settings.
    /// Returns the aggregates queued.
    public func route(
        aggregateRequest request: UnsafeRawBufferPointer, relativeAccuracy: Double, hllPrecision: Int
    ) throws(AggregateWire.Refusal) -> Int {
        let aggregates = try AggregateWire.decode(
            request, relativeAccuracy: relativeAccuracy, hllPrecision: hllPrecision, maxNameLength: parser.maxNameLength)
        route(aggregates: aggregates, in: request)
        return aggregates.count
    }

    /// Queues the aggregates of a central tally's `AggregateRequest` (decoded
    /// from `request`) for their shards, as the lines they summarise would
    /// be: a counter's increment and a gauge's value as records of their
    /// own, a set's members one by one, sketches as merges.
    func route(aggregates: [AggregateWire.Decoded], in request: UnsafeRawBufferPointer) {
        for aggregate in aggregates {
            let shard = Self.shard(family: Self.familyHash(request, aggregate.name, aggregate.kind), shards: inputs.count)
            let keyHash = SeriesHash.hash(
                request, aggregate.tags, seed: SeriesHash.hash(request, aggregate.name, seed: UInt64(aggregate.kind.rawValue)))
            let keyLength = aggregate.name.count + aggregate.tags.count
            if let state = aggregate.state {
                currentBatch(shard, keyLength: keyLength).takeUnretainedValue().appendMerge(
                    hash: keyHash, kind: aggregate.kind, state: state, key: request, name: aggregate.name, tags: aggregate.tags)
                recordsSinceFlush += 1
            } else if aggregate.kind == .set {
                for member in aggregate.members {
                    currentBatch(shard, keyLength: keyLength).takeUnretainedValue().append(
                        hash: keyHash, value: Double(bitPattern: member), weight: 1, kind: .set, delta: false, line: request,
                        name: aggregate.name, tags: aggregate.tags)
                }
                recordsSinceFlush += aggregate.members.count
            } else {
                currentBatch(shard, keyLength: keyLength).takeUnretainedValue().append(
                    hash: keyHash, value: aggregate.value, weight: 1, kind: aggregate.kind, delta: false, line: request,
                    name: aggregate.name, tags: aggregate.tags)
                recordsSinceFlush += 1
            }
        }
    }

    /// The batch to append to for a shard, starting a new one when the current is full.
    @inline(__always)
    func currentBatch(_ shard: Int, keyLength: Int) -> Unmanaged<RecordBatch> {
        let batch = current[shard]
        if batch._withUnsafeGuaranteedRef({ $0.fits(keyLength: keyLength) || $0.isEmpty }) { return batch }
        waiting[shard].append(current.replace(shard, with: inputs[shard].takeBatch()))
        return current[shard]
    }

    /// Pushes filled batches into the rings. Returns true when nothing is
    /// left waiting; with the `.keep` policy, false means a ring was full and
    /// the caller should stop reading and call `flush` again shortly.
    @discardableResult
    public func flush() -> Bool {
        recordsSinceFlush = 0
        var clear = true
        for shard in inputs.indices {
            if !current[shard]._withUnsafeGuaranteedRef({ $0.isEmpty }) {
                waiting[shard].append(current.replace(shard, with: inputs[shard].takeBatch()))
            }
            guard !waiting[shard].isEmpty else { continue }
            var pushed = 0
            for batch in waiting[shard] {
                if inputs[shard].ring.push(batch) {
                    pushed += 1
                } else if policy == .drop {
                    metrics.ringDroppedLines[shard].increment(by: Int64(batch.recordCount))
                    inputs[shard].recycle(batch)
                    pushed += 1
                } else {
                    break
                }
            }
            waiting[shard].removeFirst(pushed)
            if !waiting[shard].isEmpty { clear = false }
        }
        return clear
    }

    /// Records waiting in batches not yet pushed.
    public var pendingRecords: Int {
        waiting.reduce(0) { $0 + $1.reduce(0) { $0 + $1.recordCount } } + current.recordCount
    }

    /// The shard of a family hash.
    static func shard(family: UInt64, shards: Int) -> Int {
        Int(family.multipliedFullWidth(by: UInt64(shards)).high)
    }

    /// The routing hash: the series' output family name (the sanitised name
    /// plus the kind's suffix), so that every series of a family, whatever
    /// its tags or their order, lands on one shard and is merged there.
    /// Sanitised bytes are packed eight to a word and mixed a word at a time.
    static func familyHash(_ b: UnsafeRawBufferPointer, _ name: Range<Int>, _ kind: MetricKind) -> UInt64 {
        var hasher = WordHasher()
        if let first = name.first, b[first] &- UInt8(ascii: "0") < 10 { hasher.feed(UInt8(ascii: "_")) }
        var i = name.lowerBound
        while i < name.upperBound {
            // Eight bytes at a time, sanitised in the word (the same hash as byte by byte).
            if hasher.atWordBoundary, name.upperBound - i >= 8 {
                hasher.feedWord(WordHasher.sanitized(UInt64(littleEndian: b.loadUnaligned(fromByteOffset: i, as: UInt64.self))))
                i += 8
                continue
            }
            let c = b[i]
            let allowed = (c | 0x20) &- UInt8(ascii: "a") < 26 || c &- UInt8(ascii: "0") < 10
                || c == UInt8(ascii: "_") || c == UInt8(ascii: ":")
            hasher.feed(allowed ? c : UInt8(ascii: "_"))
            i += 1
        }
        for c in kind.familySuffix.utf8 { hasher.feed(c) }
        return hasher.finish()
    }
}

/// Hashes a byte stream fed one byte at a time, eight bytes to a mixing round.
struct WordHasher {
    private var h: UInt64 = SeriesHash.m1
    private var word: UInt64 = 0
    private var shift: UInt64 = 0
    private var length: UInt64 = 0

    @inline(__always)
    mutating func feed(_ byte: UInt8) {
        word |= UInt64(byte) << shift
        shift += 8
        length += 1
        if shift == 64 {
            h = SeriesHash.mix(word ^ h, SeriesHash.m2)
            word = 0
            shift = 0
        }
    }

    var atWordBoundary: Bool { shift == 0 }

    /// Feeds eight bytes (little-endian) at a word boundary: the same as feeding them one by one.
    @inline(__always)
    mutating func feedWord(_ bytes: UInt64) {
        h = SeriesHash.mix(bytes ^ h, SeriesHash.m2)
        length += 8
    }

    /// Eight name bytes (little-endian) with every byte that is not an ASCII
    /// letter, digit, `_` or `:` made `_`, as `MetricNaming` does one by one.
    @inline(__always)
    static func sanitized(_ x: UInt64) -> UInt64 {
        let high: UInt64 = 0x8080_8080_8080_8080
        let ones: UInt64 = 0x0101_0101_0101_0101
        // With the high bits cleared, adding per byte cannot carry into the next byte:
        // the high bit of (v + 0x80 - lo) says v >= lo, that of (v + 0x7F - hi) says v > hi.
        let v = x & ~high
        @inline(__always) func within(_ v: UInt64, _ lo: UInt8, _ hi: UInt8) -> UInt64 {
            (v &+ ones &* UInt64(0x80 - lo)) & ~(v &+ ones &* UInt64(0x7F - hi)) & high
        }
        let letters = within(v | ones &* 0x20, UInt8(ascii: "a"), UInt8(ascii: "z"))
        let digits = within(v, UInt8(ascii: "0"), UInt8(ascii: "9"))
        let marks = within(v, UInt8(ascii: "_"), UInt8(ascii: "_")) | within(v, UInt8(ascii: ":"), UInt8(ascii: ":"))
        // Bytes from 0x80 up (UTF-8) are never kept.
        let kept = (letters | digits | marks) & ~(x & high)
        let mask = (kept >> 7) &* 0xFF
        return (x & mask) | (ones &* UInt64(UInt8(ascii: "_")) & ~mask)
    }

    @inline(__always)
    func finish() -> UInt64 {
        SeriesHash.avalanche(SeriesHash.mix(word ^ h ^ length, SeriesHash.m1))
    }
}
