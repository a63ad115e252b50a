import DurableFiles
import TelemetryModel

/// Reads the metrics store's write-ahead log from a position onwards while
/// it is being written: the series and samples records, in the order they
/// were logged (which is each series' time order: the log holds only
/// stored samples). Forwarders read it instead of keeping a copy of what
/// they must send. Segment walking, damage and gaps are `WALTail`'s; this
/// decodes the records. Not thread-safe: one reader, one task.
public final class WALFollower {
    /// One record, decoded.
    public enum Entry: Sendable {
        case series(SeriesRef, Labels)
        case samples([RefSample])
    }

    /// What one `read` returned.
    public struct Batch: Sendable {
        public var entries: [Entry] = []
        public var samples = 0
        /// Where the next read starts: after the last entry returned.
        public var position: WALPosition
        /// Nothing more was written yet.
        public var caughtUp = false
        /// Damage skipped and segments found missing, for the log.
        public var problems: [String] = []
    }

    private let tail: WALTail
    public var position: WALPosition { tail.position }

    /// `directory` is the store's `wal` folder.
    public init(directory: String, from position: WALPosition) {
        tail = WALTail(directory: directory, from: position)
    }

    /// Reads whole records until about `maxSamples` samples are returned or
    /// the log has no more for now.
    public func read(maxSamples: Int, maxBytes: Int = 256 << 10) throws(StorageError) -> Batch {
        var entries: [Entry] = []
        let progress = try tail.read(maxUnits: maxSamples, maxBytes: maxBytes) { kind, payload in
            switch try? WALRecord.decode(kind: kind, payload) {
            case .series(let ref, let labels)?:
                entries.append(.series(SeriesRef(raw: ref), labels))
                return 0
            case .samples(let samples)?:
                entries.append(.samples(samples))
                return samples.count
            case .chunk?:
                return 0
            case nil:
                return nil
            }
        }
        return Batch(
            entries: entries, samples: progress.units, position: progress.position, caughtUp: progress.caughtUp,
            problems: progress.problems)
    }

    /// The series records a reader starting at `position` needs to know the
    /// references it will meet: those of the newest checkpoint, then those
    /// of every segment before `position`, in log order (a later record for
    /// a reference replaces an earlier one).
    public static func seriesBefore(_ position: WALPosition, directory: String) throws(StorageError) -> [(SeriesRef, Labels)] {
        var out: [(SeriesRef, Labels)] = []
        try WALTail.recordsBefore(position, directory: directory) { kind, payload in
            guard kind == WALRecord.Kind.series.rawValue else { return }
            if case .series(let ref, let labels)? = try? WALRecord.decode(kind: kind, payload) {
                out.append((SeriesRef(raw: ref), labels))
            }
        }
        return out
    }
}
