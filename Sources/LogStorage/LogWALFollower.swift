import DurableFiles
import TelemetryModel

/// Reads the log store's write-ahead log from a position onwards while it
/// is being written: stream records and entries, in the order they were
/// logged (which is the order the store accepted them). The Loki push
/// forwarder reads it instead of keeping a copy of what it must send.
/// Segment walking, damage and gaps are `WALTail`'s; this decodes the
/// records. Not thread-safe: one reader, one task.
public final class LogWALFollower {
    /// One record: a stream named before its first entries, or a run of
    /// entries still encoded (read them with `forEachEntry`).
    public enum Record: Sendable {
        case stream(id: UInt32, labels: Labels)
        case entries([UInt8])
    }

    /// What one `read` returned.
    public struct Batch: Sendable {
        public var records: [Record] = []
        /// Entry payload bytes returned.
        public var bytes = 0
        /// Where the next read starts: after the last record returned.
        public var position: WALPosition
        /// Nothing more was written yet.
        public var caughtUp = false
        /// Damage skipped and segments found missing, for the log.
        public var problems: [String] = []
    }

    private let tail: WALTail
    public var position: WALPosition { tail.position }

    /// `directory` is the store's `wal` folder (`LogStore.walDirectory`).
    public init(directory: String, from position: WALPosition) {
        tail = WALTail(directory: directory, from: position)
    }

    /// Reads whole records until about `maxBytes` of entries are returned
    /// or the log has no more for now.
    public func read(maxBytes: Int) throws(StorageError) -> Batch {
        var records: [Record] = []
        let progress = try tail.read(maxUnits: maxBytes) { kind, payload in
            switch kind {
            case LogWALRecord.streamKind:
                guard let (id, labels) = try? LogWALRecord.decodeStream(payload) else { return nil }
                records.append(.stream(id: id, labels: labels))
                return 0
            case LogWALRecord.entriesKind:
                guard (try? LogWALRecord.forEachEntry(payload, { _, _, _, _, _ in })) != nil else { return nil }
                records.append(.entries(Array(payload)))
                return payload.count
            default:
                return nil
            }
        }
        return Batch(
            records: records, bytes: progress.units, position: progress.position, caughtUp: progress.caughtUp,
            problems: progress.problems)
    }

    /// Calls `body` with each entry of an entries record: its stream's id,
    /// its time (nanoseconds), its line and the fields stored beside it.
    public static func forEachEntry(
        _ payload: [UInt8], _ body: (_ stream: UInt32, _ nanos: Int64, _ line: UnsafeRawBufferPointer, _ fields: EncodedFields) -> Void
    ) {
        payload.withUnsafeBytes { raw in
            // Checked when read: the payload decodes.
            try? LogWALRecord.forEachEntry(raw) { id, time, _, line, fields in body(id, time, line, EncodedFields(raw: fields)) }
        }
    }

    /// The stream records a reader starting at `position` needs to know the
    /// ids it will meet: those of the newest checkpoint, then those of every
    /// segment before `position`, in log order (a later record for an id
    /// replaces an earlier one).
    public static func streamsBefore(_ position: WALPosition, directory: String) throws(StorageError) -> [(UInt32, Labels)] {
        var out: [(UInt32, Labels)] = []
        try WALTail.recordsBefore(position, directory: directory) { kind, payload in
            guard kind == LogWALRecord.streamKind, let stream = try? LogWALRecord.decodeStream(payload) else { return }
            out.append(stream)
        }
        return out
    }
}
