#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a write-ahead log from a position onwards while it is being
/// written, handing each whole record's kind and payload to a decoder of
/// the store that wrote it. The one walker of segments under the store's
/// forwarders (metrics to remote_write, logs to Loki).
///
/// A record is read only once it is whole: at the end of the newest
/// segment a record cut short is one still being written, so the reader
/// stops there and comes back. In an older segment (one the log has moved
/// past) a damaged or cut record ends that segment: the reader reports it
/// and goes on with the next. A segment that is gone (deleted under a
/// disk cap) is reported as a gap. Not thread-safe: one reader, one task.
public final class WALTail {
    /// What one `read` did.
    public struct Progress: Sendable {
        /// Units (samples, entries) the decoder counted.
        public var units = 0
        /// Where the next read starts: after the last record handed over.
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
        case enough
    }

    /// Hands whole records to `decode` until it has counted about
    /// `maxUnits` units or the log has no more for now. `decode` returns
    /// the units a record held, or nil when its payload does not decode
    /// (which ends an older segment as damage does).
    public func read(
        maxUnits: Int, maxBytes: Int = 256 << 10, _ decode: (_ kind: UInt8, _ payload: UnsafeRawBufferPointer) -> Int?
    ) throws(StorageError) -> Progress {
        var progress = Progress(position: position)
        var readSize = maxBytes
        while progress.units < maxUnits {
            // Listed before reading: if a later segment exists now, this one can no longer grow.
            let segments = try WAL.segments(in: directory)
            guard let newest = segments.last else {
                progress.caughtUp = true
                break
            }
            guard segments.contains(position.segment) else {
                guard let next = segments.first(where: { $0 > position.segment }) else {
                    progress.caughtUp = true
                    break
                }
                if position.segment >= 1, position.offset > 0 || next > position.segment + 1 {
                    progress.problems.append(
                        "segments \(WAL.segmentName(position.segment)) to \(WAL.segmentName(next - 1)) are gone; reading on from \(WAL.segmentName(next))")
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
                        progress.caughtUp = true
                        break
                    }
                    progress.problems.append("\(path): header cut short; segment skipped")
                    moveTo(nextSegment)
                    continue
                }
                let header = try FileSystem.read(fd, offset: 0, count: WAL.headerSize, path: path)
                guard header.withUnsafeBytes({ WALFrame.headerProblem($0) }) == nil else {
                    progress.problems.append("\(path): not a WAL segment of this version; segment skipped")
                    if isNewest {
                        progress.caughtUp = true
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
                    progress.caughtUp = true
                    break
                }
                moveTo(nextSegment)
                continue
            }
            let bytes = try FileSystem.read(fd, offset: position.offset, count: min(available, readSize), path: path)
            let (consumed, stop) = bytes.withUnsafeBytes { parse($0, maxUnits: maxUnits, progress: &progress, decode) }
            position.offset += consumed
            readSize = maxBytes
            switch stop {
            case nil, .enough?:
                continue
            case .needMore(let needed)?:
                if needed <= available {
                    // The record is there, larger than one read: read it whole next.
                    readSize = max(maxBytes, needed)
                    continue
                }
                if isNewest {
                    // Still being written.
                    progress.caughtUp = true
                    break
                }
                progress.problems.append("\(path) at byte \(position.offset): record cut short; the rest of the segment is skipped")
                moveTo(nextSegment)
            case .damaged(let reason)?:
                if isNewest {
                    // The writer may still be at it; once the log moves on, it is skipped.
                    progress.caughtUp = true
                    break
                }
                progress.problems.append("\(path) at byte \(position.offset): \(reason); the rest of the segment is skipped")
                moveTo(nextSegment)
            }
            if progress.caughtUp { break }
        }
        progress.position = position
        return progress
    }

    /// Hands whole records from the start of `raw` to `decode`; returns the
    /// bytes used and why it stopped early, if it did.
    private func parse(
        _ raw: UnsafeRawBufferPointer, maxUnits: Int, progress: inout Progress, _ decode: (UInt8, UnsafeRawBufferPointer) -> Int?
    ) -> (Int, Stop?) {
        var offset = 0
        while offset < raw.count {
            if progress.units >= maxUnits { return (offset, .enough) }
            switch WALFrame.read(raw, at: offset) {
            case .incomplete(let needed):
                return (offset, .needMore(needed))
            case .damaged(let reason):
                return (offset, .damaged(reason))
            case .record(let kind, let payload, let next):
                guard let units = decode(kind, payload) else { return (offset, .damaged("record does not decode")) }
                progress.units += units
                offset = next
            }
        }
        return (offset, nil)
    }

    private func moveTo(_ segment: Int) {
        position = WALPosition(segment: segment, offset: 0)
    }

    /// Hands `body` every record a reader starting at `position` may need
    /// to know the references it will meet: those of the newest checkpoint,
    /// then those of every segment before `position`, in log order.
    public static func recordsBefore(
        _ position: WALPosition, directory: String, _ body: (_ kind: UInt8, _ payload: UnsafeRawBufferPointer) -> Void
    ) throws(StorageError) {
        if let checkpoint = try WAL.checkpoint(in: directory) {
            try scan(directory + "/" + WAL.checkpointName(checkpoint), upTo: .max, body)
        }
        for segment in try WAL.segments(in: directory) where segment <= position.segment {
            try scan(directory + "/" + WAL.segmentName(segment), upTo: segment == position.segment ? position.offset : .max, body)
        }
    }

    /// Hands every whole record of a file before `limit` to `body`.
    private static func scan(_ path: String, upTo limit: Int, _ body: (UInt8, UnsafeRawBufferPointer) -> Void) throws(StorageError) {
        let bytes = try FileSystem.readFile(path)
        bytes.withUnsafeBytes { raw in
            guard WALFrame.headerProblem(raw) == nil else { return }
            var offset = WAL.headerSize
            while offset < min(raw.count, limit), case .record(let kind, let payload, let next) = WALFrame.read(raw, at: offset), next <= limit {
                body(kind, payload)
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
