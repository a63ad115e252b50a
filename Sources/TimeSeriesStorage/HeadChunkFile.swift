#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import Prometheus
import Synchronization

/// Where a closed head chunk lives in the head chunk file, and what the head
/// needs to know about it without reading it back: 24 bytes in memory
/// instead of the chunk itself.
struct HeadChunkRef: Sendable {
    /// Segment number in the high 32 bits, byte offset in the low 32.
    let position: UInt64
    let minTime: Int64
    /// `maxTime - minTime`.
    let span: UInt32
    /// Bytes of the chunk (its CRC-32 follows them in the file).
    let length: UInt16
    let count: UInt16

    /// The most bytes a head chunk may have; the head cuts a chunk before it
    /// grows past this.
    static let maxLength = Int(UInt16.max)
    /// The longest span a head chunk may have (milliseconds).
    static let maxSpan = Int64(UInt32.max)

    var segment: UInt32 { UInt32(truncatingIfNeeded: position >> 32) }
    var offset: Int { Int(position & 0xFFFF_FFFF) }
    var maxTime: Int64 { minTime + Int64(span) }
}

/// One file of the head chunk file. Its descriptor closes when the last
/// holder lets go, so deleting the segment never takes bytes from under a
/// query that copied a reference to it.
final class HeadChunkSegment: Sendable {
    let number: UInt32
    let path: String
    let fd: Int32

    init(number: UInt32, path: String, fd: Int32) {
        self.number = number
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }
}

/// A head chunk copied out under the head's lock and read after it: either a
/// closed chunk in the head chunk file, or the bytes of an open chunk.
enum HeadChunkCopy: Sendable {
    case stored(HeadChunkSegment, HeadChunkRef)
    case open(bytes: [UInt8], count: Int, minTime: Int64, maxTime: Int64)

    var count: Int {
        switch self {
        case .stored(_, let ref): Int(ref.count)
        case .open(_, let count, _, _): count
        }
    }

    var minTime: Int64 {
        switch self {
        case .stored(_, let ref): ref.minTime
        case .open(_, _, let minTime, _): minTime
        }
    }
}

/// The head's closed chunks, written out of memory to `chunks_head/` as
/// they close (docs/format/chunks.md, "Head chunk file"), so a series costs
/// the head its open chunk and 24 bytes per closed one. The file is a cache
/// of the WAL, never its replacement: it is not fsynced, and it is emptied at
/// every start while the WAL replay rebuilds it. Segments are deleted once
/// every chunk in them has been persisted to a block.
///
/// Writes gather in a buffer and reach the file in large appends; a failed
/// append (disk full) keeps the buffer, counts the error and is retried, so
/// no chunk is lost while the disk is full. All I/O is blocking: callers are
/// storage threads and the aggregation flush, never an event loop.
final class HeadChunkFile: Sendable {
    let directory: String
    private let segmentBytes: Int
    private let flushBytes: Int
    private let errors: Counter?
    private let state: Mutex<State>

    private struct State {
        var active: HeadChunkSegment
        /// Bytes of the active segment already in the file.
        var written: Int
        /// Bytes after `written`, not yet in the file.
        var buffer: [UInt8] = []
        /// Segments by number, and how many live chunks each holds.
        var segments: [UInt32: HeadChunkSegment] = [:]
        var live: [UInt32: Int] = [:]
        var failing = false
    }

    /// Empties (or creates) `directory` and opens its first segment.
    init(directory: String, segmentBytes: Int = 64 << 20, flushBytes: Int = 1 << 20, errors: Counter? = nil) throws(StorageError) {
        self.directory = directory
        self.segmentBytes = min(max(segmentBytes, 1 << 16), Int(UInt32.max))
        self.flushBytes = max(flushBytes, 1)
        self.errors = errors
        if FileSystem.exists(directory) { try FileSystem.removeTree(directory) }
        try FileSystem.makeDirectory(directory)
        let first = try HeadChunkFile.openSegment(directory, number: 1)
        var state = State(active: first, written: 0)
        state.segments[1] = first
        state.live[1] = 0
        self.state = Mutex(state)
    }

    private static func openSegment(_ directory: String, number: UInt32) throws(StorageError) -> HeadChunkSegment {
        let path = directory + "/" + WAL.segmentName(Int(number))
        let fd = try FileSystem.open(path, flags: O_RDWR | O_CREAT | O_TRUNC)
        return HeadChunkSegment(number: number, path: path, fd: fd)
    }

    /// Stores a closed chunk and returns where it went. The caller keeps
    /// `bytes` no longer than `HeadChunkRef.maxLength`.
    func append(_ bytes: [UInt8], count: Int, minTime: Int64, maxTime: Int64) -> HeadChunkRef {
        precondition(bytes.count <= HeadChunkRef.maxLength && count <= Int(UInt16.max) && maxTime - minTime <= HeadChunkRef.maxSpan)
        return state.withLock { state in
            let offset = state.written + state.buffer.count
            state.buffer.append(contentsOf: bytes)
            let crc = bytes.withUnsafeBytes { CRC32.checksum($0) }
            withUnsafeBytes(of: crc.littleEndian) { state.buffer.append(contentsOf: $0) }
            let ref = HeadChunkRef(
                position: UInt64(state.active.number) << 32 | UInt64(offset), minTime: minTime,
                span: UInt32(maxTime - minTime), length: UInt16(bytes.count), count: UInt16(count))
            state.live[state.active.number, default: 0] += 1
            if state.buffer.count >= flushBytes * (state.failing ? 8 : 1) || offset + state.buffer.count >= segmentBytes {
                flush(&state)
            }
            return ref
        }
    }

    /// Writes the buffer to the active segment and starts a new segment when
    /// this one is full. On failure the buffer stays and grows until the
    /// next attempt.
    private func flush(_ state: inout State) {
        do throws(StorageError) {
            if !state.buffer.isEmpty {
                let (fd, at, path) = (state.active.fd, state.written, state.active.path)
                let result = state.buffer.withUnsafeBytes { raw in
                    Result { () throws(StorageError) in try FileSystem.writeAll(fd, raw, at: at, path: path) }
                }
                try result.get()
                state.written += state.buffer.count
                state.buffer.removeAll(keepingCapacity: state.buffer.capacity <= flushBytes * 2)
            }
            state.failing = false
            if state.written >= segmentBytes {
                let next = try HeadChunkFile.openSegment(directory, number: state.active.number &+ 1)
                let previous = state.active.number
                state.active = next
                state.written = 0
                state.segments[next.number] = next
                state.live[next.number] = 0
                if state.live[previous] == 0 { remove(previous, &state) }
            }
        } catch {
            errors?.increment()
            state.failing = true
        }
    }

    /// Forgets a chunk that left the head; a segment whose chunks have all
    /// left is deleted.
    func release(_ ref: HeadChunkRef) {
        state.withLock { state in
            let number = ref.segment
            guard let live = state.live[number] else { return }
            state.live[number] = live - 1
            if live - 1 <= 0 && number != state.active.number { remove(number, &state) }
        }
    }

    private func remove(_ number: UInt32, _ state: inout State) {
        guard let segment = state.segments.removeValue(forKey: number) else { return }
        state.live[number] = nil
        unlink(segment.path)
    }

    /// Copies for reading outside the head's lock; each holds its segment open.
    func copies<Refs: Sequence>(of refs: Refs) -> [HeadChunkCopy] where Refs.Element == HeadChunkRef {
        state.withLock { state in
            refs.compactMap { ref in state.segments[ref.segment].map { .stored($0, ref) } }
        }
    }

    /// The bytes of a chunk, checked against their CRC-32.
    func bytes(of copy: HeadChunkCopy) throws(StorageError) -> [UInt8] {
        switch copy {
        case .open(let bytes, _, _, _):
            return bytes
        case .stored(let segment, let ref):
            let length = Int(ref.length) + 4
            let buffered = state.withLock { state -> [UInt8]? in
                guard segment === state.active, ref.offset >= state.written else { return nil }
                let start = ref.offset - state.written
                return Array(state.buffer[start..<start + length])
            }
            var framed: [UInt8]
            if let buffered {
                framed = buffered
            } else {
                framed = try FileSystem.read(segment.fd, offset: ref.offset, count: length, path: segment.path)
            }
            let stored = framed[framed.count - 4..<framed.count].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            framed.removeLast(4)
            guard framed.withUnsafeBytes({ CRC32.checksum($0) }) == stored else {
                throw StorageError(.corrupt("head chunk checksum mismatch"), path: segment.path, offset: ref.offset)
            }
            return framed
        }
    }

    /// Bytes in the file and in the buffer, for statistics.
    var storedBytes: Int {
        state.withLock { state in
            state.segments.values.reduce(0) { total, segment in
                total + (segment === state.active ? state.written : ((try? FileSystem.size(segment.fd, path: segment.path)) ?? 0))
            } + state.buffer.count
        }
    }
}
