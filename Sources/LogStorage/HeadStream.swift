import TelemetryModel

/// A chunk cut from a stream's open entries: raw until it is compressed
/// (outside the store's lock), then compressed until a segment takes it.
struct HeadChunk: Sendable {
    enum Body: Sendable {
        case raw(ChunkEntries)
        case compressed(ChunkMeta, [UInt8])
    }

    /// Tells this chunk from the stream's others when its compressed form is swapped in.
    let serial: Int
    var minTime: Int64
    var maxTime: Int64
    var body: Body

    var footprint: Int {
        switch body {
        case .raw(let entries): entries.bytes.count + entries.count * 28
        case .compressed(_, let bytes): bytes.count
        }
    }
}

/// One stream in the head: its labels, its entries not yet cut, and the
/// chunks cut since the last segment was written.
struct HeadStream: Sendable {
    let id: UInt32
    let labels: Labels
    /// The label bytes as a `LogBatch` lays them out: the stream's identity on the ingest path.
    let key: [UInt8]
    /// Its retention, out-of-order window and segments, from its labels.
    let policy: StreamPolicy
    var open = OpenChunk()
    var chunks: [HeadChunk] = []
    /// The newest entry's time, for the out-of-order window.
    var newest = Int64.min
    /// Wall-clock time of the last append (nanoseconds).
    var lastAppend: Int64 = 0
    /// Whether the stream's record is in the WAL.
    var logged = false

    init(id: UInt32, labels: Labels, key: [UInt8], policy: StreamPolicy) {
        self.id = id
        self.labels = labels
        self.key = key
        self.policy = policy
    }

    var footprint: Int { open.footprint + chunks.reduce(0) { $0 + $1.footprint } }

    /// Appends an entry already in the WAL. Returns how much the stream's
    /// footprint grew and the bytes now in its open chunk (to decide a cut).
    mutating func append(
        time: Int64, line: UnsafeRawBufferPointer, timeText: Range<Int>?, fields: UnsafeRawBufferPointer, now: Int64
    ) -> (grown: Int, openBytes: Int) {
        let before = open.footprint
        open.append(time: time, line: line, timeText: timeText) { $0.append(contentsOf: fields) }
        newest = max(newest, time)
        lastAppend = now
        return (open.footprint - before, open.bytes.count)
    }

    /// Moves the open chunk's entries, sorted, into a new cut chunk numbered `serial`.
    mutating func cutOpenChunk(serial: Int) {
        let entries = open.sortedEntries()
        chunks.append(HeadChunk(serial: serial, minTime: open.minTime, maxTime: open.maxTime, body: .raw(entries)))
        open = OpenChunk()
    }
}
