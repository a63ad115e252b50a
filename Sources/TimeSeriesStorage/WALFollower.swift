#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import TelemetryModel

/// A place in the write-ahead log: a segment's number and a byte offset in
/// it. What a forwarder keeps on disk to resume where it left off.
public struct WALPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var segment: Int
    public var offset: Int

    public init(segment: Int, offset: Int) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (a: WALPosition, b: WALPosition) -> Bool {
        (a.segment, a.offset) < (b.segment, b.offset)
    }

    public var description: String { "\(WAL.segmentName(segment))@\(offset)" }
}

/// Reads the write-ahead log from a position onwards while it is being
/// written: the series and samples records, in the order they were logged
/// (which is each series' time order: the log holds only stored samples).
/// Forwarders read it instead of keeping a copy of what they must send.
///
/// A record is read only once it is whole: at the end of the newest
/// segment a record cut short is one still being written, so the reader
/// stops there and comes back. In an older segment (one the log has moved
/// past) a damaged or cut record ends that segment: the reader reports it
/// and goes on with the next. A segment that is gone (deleted under a
/// disk cap) is reported as a gap. Not thread-safe: one reader, one task.
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

    public let directory: String
    public private(set) var position: WALPosition
    private var fd: Int32 = -1
    private var openSegment = -1

    /// `directory` is the store's `wal` folder.
    public init(directory: String, from position: WALPosition) {
        self.directory = directory
        self.position = position
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// The end of the log as it is now: where a reader that wants only what
    /// is logged from now on starts.
    public static func end(directory: String) throws(StorageError) -> WALPosition {
        guard let last = try WAL.segments(in: directory).last else { return WALPosition(segment: 1, offset: 0) }
        let path = directory + "/" + WAL.segmentName(last)
        let fd = try FileSystem.open(path, flags: O_RDONLY)
        defer { close(fd) }
        return WALPosition(segment: last, offset: try FileSystem.size(fd, path: path))
    }

    /// Why parsing stopped before the end of the bytes read.
    private enum Stop {
        /// The next record is not all there: this many bytes from where parsing stopped hold it.
        case needMore(Int)
        case damaged(String)
        case enoughSamples
    }

    /// Reads whole records until about `maxSamples` samples are returned or
    /// the log has no more for now.
    public func read(maxSamples: Int, maxBytes: Int = 256 << 10) throws(StorageError) -> Batch {
        var batch = Batch(position: position)
        var readSize = maxBytes
        while batch.samples < maxSamples {
            // Listed before reading: if a later segment exists now, this one can no longer grow.
            let segments = try WAL.segments(in: directory)
            guard let newest = segments.last else {
                batch.caughtUp = true
                break
            }
            guard segments.contains(position.segment) else {
                guard let next = segments.first(where: { $0 > position.segment }) else {
                    batch.caughtUp = true
                    break
                }
                if position.segment >= 1, position.offset > 0 || next > position.segment + 1 {
                    batch.problems.append("segments \(WAL.segmentName(position.segment)) to \(WAL.segmentName(next - 1)) are gone; reading on from \(WAL.segmentName(next))")
                }
                moveTo(next)
                continue
            }
            let isNewest = position.segment == newest
            let nextSegment = segments.first { $0 > position.segment } ?? position.segment + 1
            let path = directory + "/" + WAL.segmentName(position.segment)
            if openSegment != position.segment {
                if fd >= 0 { close(fd) }
                fd = try FileSystem.open(path, flags: O_RDONLY)
                openSegment = position.segment
            }
            let size = try FileSystem.size(fd, path: path)
            if position.offset < WAL.headerSize {
                guard size >= WAL.headerSize else {
                    if isNewest {
                        batch.caughtUp = true
                        break
                    }
                    batch.problems.append("\(path): header cut short; segment skipped")
                    moveTo(nextSegment)
                    continue
                }
                let header = try FileSystem.read(fd, offset: 0, count: WAL.headerSize, path: path)
                guard header.withUnsafeBytes({ WALFrame.headerProblem($0) }) == nil else {
                    batch.problems.append("\(path): not a WAL segment of this version; segment skipped")
                    if isNewest {
                        batch.caughtUp = true
                        break
                    }
                    moveTo(nextSegment)
                    continue
                }
                position.offset = WAL.headerSize
            }
            let available = size - position.offset
            guard available > 0 else {
                if isNewest {
                    batch.caughtUp = true
                    break
                }
                moveTo(nextSegment)
                continue
            }
            let bytes = try FileSystem.read(fd, offset: position.offset, count: min(available, readSize), path: path)
            let (consumed, stop) = bytes.withUnsafeBytes { parse($0, maxSamples: maxSamples, into: &batch) }
            position.offset += consumed
            readSize = maxBytes
            switch stop {
            case nil, .enoughSamples?:
                continue
            case .needMore(let needed)?:
                if needed <= available {
                    // The record is there, larger than one read: read it whole next.
                    readSize = max(maxBytes, needed)
                    continue
                }
                if isNewest {
                    // Still being written.
                    batch.caughtUp = true
                    break
                }
                batch.problems.append("\(path) at byte \(position.offset): record cut short; the rest of the segment is skipped")
                moveTo(nextSegment)
            case .damaged(let reason)?:
                if isNewest {
                    // The writer may still be at it; once the log moves on, it is skipped.
                    batch.caughtUp = true
                    break
                }
                batch.problems.append("\(path) at byte \(position.offset): \(reason); the rest of the segment is skipped")
                moveTo(nextSegment)
            }
            if batch.caughtUp { break }
        }
        batch.position = position
        return batch
    }

    /// Decodes whole records from the start of `raw`; returns the bytes used
    /// and why it stopped early, if it did.
    private func parse(_ raw: UnsafeRawBufferPointer, maxSamples: Int, into batch: inout Batch) -> (Int, Stop?) {
        var offset = 0
        while offset < raw.count {
            if batch.samples >= maxSamples { return (offset, .enoughSamples) }
            switch WALFrame.read(raw, at: offset) {
            case .incomplete(let needed):
                return (offset, .needMore(needed))
            case .damaged(let reason):
                return (offset, .damaged(reason))
            case .record(let kind, let payload, let next):
                switch try? WALRecord.decode(kind: kind, payload) {
                case .series(let ref, let labels)?:
                    batch.entries.append(.series(SeriesRef(raw: ref), labels))
                case .samples(let samples)?:
                    batch.entries.append(.samples(samples))
                    batch.samples += samples.count
                case .chunk?:
                    break
                case nil:
                    return (offset, .damaged("record does not decode"))
                }
                offset = next
            }
        }
        return (offset, nil)
    }

    private func moveTo(_ segment: Int) {
        position = WALPosition(segment: segment, offset: 0)
    }

    /// The series records a reader starting at `position` needs to know the
    /// references it will meet: those of the newest checkpoint, then those
    /// of every segment before `position`, in log order (a later record for
    /// a reference replaces an earlier one).
    public static func seriesBefore(_ position: WALPosition, directory: String) throws(StorageError) -> [(SeriesRef, Labels)] {
        var out: [(SeriesRef, Labels)] = []
        let collect: (UInt8, UnsafeRawBufferPointer) -> Bool = { kind, payload in
            guard kind == WALRecord.Kind.series.rawValue else { return true }
            if case .series(let ref, let labels)? = try? WALRecord.decode(kind: kind, payload) {
                out.append((SeriesRef(raw: ref), labels))
            }
            return true
        }
        if let checkpoint = try WAL.checkpoint(in: directory) {
            try scan(directory + "/" + WAL.checkpointName(checkpoint), upTo: .max, collect)
        }
        for segment in try WAL.segments(in: directory) where segment <= position.segment {
            try scan(directory + "/" + WAL.segmentName(segment), upTo: segment == position.segment ? position.offset : .max, collect)
        }
        return out
    }

    /// Hands every whole record of a file before `limit` to `body`.
    private static func scan(_ path: String, upTo limit: Int, _ body: (UInt8, UnsafeRawBufferPointer) -> Bool) throws(StorageError) {
        let bytes = try FileSystem.readFile(path)
        bytes.withUnsafeBytes { raw in
            guard WALFrame.headerProblem(raw) == nil else { return }
            var offset = WAL.headerSize
            while offset < min(raw.count, limit),
                  case .record(let kind, let payload, let next) = WALFrame.read(raw, at: offset), next <= limit, body(kind, payload)
            {
                offset = next
            }
        }
    }

    /// Bytes of the segments from `position`'s onwards: the log a reader
    /// there still has to read (what `max_disk_usage` caps).
    public static func bytesFrom(_ position: WALPosition, directory: String) throws(StorageError) -> Int {
        var total = 0
        for segment in try WAL.segments(in: directory) where segment >= position.segment {
            total += FileSystem.treeSize(directory + "/" + WAL.segmentName(segment))
        }
        return max(0, total - (position.offset > 0 ? position.offset : 0))
    }
}
