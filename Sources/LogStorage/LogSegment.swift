#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec
import DurableFiles
import TelemetryModel

/// One stream's chunks in a segment.
struct SegmentStream: Sendable {
    var labels: Labels
    var chunks: [ChunkMeta]
}

/// An immutable segment file of compressed chunks and the index that finds
/// them (docs/format/logs.md):
/// ```
/// "TLYS" | version u8 | 3 reserved
/// chunks, back to back
/// index: uvarint streams; per stream: uvarint labels, (uvarint len, name, uvarint len, value)…,
///        uvarint chunks, per chunk: uvarint offset, uvarint length, u32 CRC, zigzag min time,
///        uvarint (max - min), uvarint entries, uvarint inflated length
/// footer: u64 index offset | u32 index length | u32 index CRC | i64 min time | i64 max time | "TLYS"
/// ```
/// The file descriptor stays open while the segment is in use, so a segment
/// removed by retention can still be read by a query that holds it.
/// One stream's chunks as a segment is written: its labels and its compressed chunks, oldest first.
typealias SegmentContents = (labels: Labels, chunks: [(meta: ChunkMeta, bytes: [UInt8])])

final class LogSegment: Sendable {
    static let magic: [UInt8] = Array("TLYS".utf8)
    static let version: UInt8 = 1
    static let headerSize = 8
    static let footerSize = 36

    let path: String
    let number: Int
    let streams: [SegmentStream]
    let minTime: Int64
    let maxTime: Int64
    let sizeBytes: Int
    /// Where the chunks end and the index begins.
    let indexOffset: Int
    private let fd: Int32

    /// Opens a segment and reads its index.
    init(path: String, number: Int) throws(StorageError) {
        self.path = path
        self.number = number
        let fd = try FileSystem.open(path, flags: O_RDONLY)
        do throws(StorageError) {
            let size = try FileSystem.size(fd, path: path)
            guard size >= Self.headerSize + Self.footerSize else {
                throw StorageError(.corrupt("segment shorter than its header and footer"), path: path)
            }
            let header = try FileSystem.read(fd, offset: 0, count: Self.headerSize, path: path)
            guard Array(header[0..<4]) == Self.magic else { throw StorageError(.corrupt("not a log segment"), path: path, offset: 0) }
            guard header[4] == Self.version else { throw StorageError(.unsupportedVersion(Int(header[4])), path: path, offset: 4) }
            if let reserved = (5..<8).first(where: { header[$0] != 0 }) {
                throw StorageError(.corrupt("reserved header byte is not zero"), path: path, offset: reserved)
            }
            let footer = try FileSystem.read(fd, offset: size - Self.footerSize, count: Self.footerSize, path: path)
            let parsed = try footer.withUnsafeBytes { raw in
                Result { () throws(StorageError) in try Self.parseFooter(raw, fileSize: size, path: path) }
            }.get()
            let index = try FileSystem.read(fd, offset: parsed.indexOffset, count: parsed.indexLength, path: path)
            guard CRC32.checksum(index) == parsed.indexCRC else {
                throw StorageError(.corrupt("segment index checksum mismatch"), path: path, offset: parsed.indexOffset)
            }
            do throws(CodecError) {
                streams = try index.withUnsafeBytes { raw in
                    Result { () throws(CodecError) in try Self.parseIndex(raw, chunksEnd: parsed.indexOffset) }
                }.get()
            } catch {
                throw StorageError(.corrupt("segment index: \(error)"), path: path, offset: parsed.indexOffset)
            }
            minTime = parsed.minTime
            maxTime = parsed.maxTime
            sizeBytes = size
            indexOffset = parsed.indexOffset
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }

    private static func parseFooter(
        _ raw: UnsafeRawBufferPointer, fileSize: Int, path: String
    ) throws(StorageError) -> (indexOffset: Int, indexLength: Int, indexCRC: UInt32, minTime: Int64, maxTime: Int64) {
        // `raw` is exactly the footer's 36 bytes, so these loads are in range.
        func load<T: FixedWidthInteger>(_: T.Type, _ at: Int) -> T { T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self)) }
        let indexOffset = Int(truncatingIfNeeded: load(UInt64.self, 0))
        let indexLength = Int(load(UInt32.self, 8))
        guard Array(raw[32..<36]) == magic else {
            throw StorageError(.corrupt("segment footer missing (a torn write?)"), path: path, offset: fileSize - footerSize)
        }
        guard indexOffset >= headerSize, indexLength <= fileSize - footerSize, indexOffset == fileSize - footerSize - indexLength else {
            throw StorageError(.corrupt("segment footer points outside the file"), path: path, offset: fileSize - footerSize)
        }
        return (indexOffset, indexLength, load(UInt32.self, 12), load(Int64.self, 16), load(Int64.self, 24))
    }

    private static func parseIndex(_ raw: UnsafeRawBufferPointer, chunksEnd: Int) throws(CodecError) -> [SegmentStream] {
        var offset = 0
        let streamCount = try LogChunkCodec.length(raw, &offset)
        var streams: [SegmentStream] = []
        streams.reserveCapacity(min(streamCount, 1 << 16))
        for _ in 0..<streamCount {
            let labelCount = try LogChunkCodec.length(raw, &offset)
            var labels: [Label] = []
            for _ in 0..<labelCount {
                let name = try string(raw, &offset)
                let value = try string(raw, &offset)
                labels.append(Label(name, value))
            }
            let chunkCount = try LogChunkCodec.length(raw, &offset)
            var chunks: [ChunkMeta] = []
            chunks.reserveCapacity(min(chunkCount, 1 << 16))
            for _ in 0..<chunkCount {
                let at = offset
                let chunkOffset = try LogChunkCodec.length(raw, &offset)
                let length = try LogChunkCodec.length(raw, &offset)
                let crc = try FixedWidth.read(UInt32.self, raw, at: &offset)
                let minTime = try Varint.readSigned(raw, at: &offset)
                let span = try Varint.read(raw, at: &offset)
                let count = try LogChunkCodec.length(raw, &offset)
                let rawLength = try LogChunkCodec.length(raw, &offset)
                guard chunkOffset >= headerSize, chunkOffset + length <= chunksEnd, span <= UInt64(Int64.max) else {
                    throw CodecError(.inconsistent("chunk outside the segment"), offset: at)
                }
                chunks.append(ChunkMeta(
                    minTime: minTime, maxTime: minTime &+ Int64(span), count: count, rawLength: rawLength,
                    length: length, crc: crc, offset: chunkOffset))
            }
            streams.append(SegmentStream(labels: Labels(labels), chunks: chunks))
        }
        guard offset == raw.count else { throw CodecError(.inconsistent("bytes after the index"), offset: offset) }
        return streams
    }

    private static func string(_ raw: UnsafeRawBufferPointer, _ offset: inout Int) throws(CodecError) -> String {
        let length = try LogChunkCodec.length(raw, &offset)
        guard length <= raw.count - offset else { throw CodecError(.truncated, offset: offset) }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length]), as: UTF8.self)
        offset += length
        return text
    }

    /// Checks every byte that opening does not: each chunk's checksum and
    /// contents, that the chunks fill the space between the header and the
    /// index with no gap or overlap, and that the footer's times are theirs.
    /// For `tally verify`; queries check each chunk as they read it.
    func verify() throws(StorageError) {
        var next = Self.headerSize
        var first = Int64.max
        var last = Int64.min
        for meta in streams.flatMap(\.chunks).sorted(by: { $0.offset < $1.offset }) {
            guard meta.offset == next else {
                let what = meta.offset < next ? "two chunks overlap" : "bytes between two chunks belong to none"
                throw StorageError(.corrupt(what), path: path, offset: min(meta.offset, next))
            }
            _ = try read(meta)
            next = meta.offset + meta.length
            first = min(first, meta.minTime)
            last = max(last, meta.maxTime)
        }
        guard next == indexOffset else {
            throw StorageError(.corrupt("bytes between the last chunk and the index belong to none"), path: path, offset: next)
        }
        let expected = first == .max ? (Int64(0), Int64(0)) : (first, last)
        guard (minTime, maxTime) == expected else {
            throw StorageError(.corrupt("footer times \(minTime)...\(maxTime) are not the chunks' \(expected.0)...\(expected.1)"),
                               path: path, offset: sizeBytes - Self.footerSize + 16)
        }
    }

    /// The time range a damaged segment's footer gives, when the footer is
    /// still recognisable; nil when it is not (the range is then unknown).
    static func footerTimes(path: String) -> ClosedRange<Int64>? {
        guard let fd = try? FileSystem.open(path, flags: O_RDONLY) else { return nil }
        defer { close(fd) }
        guard let size = try? FileSystem.size(fd, path: path), size >= headerSize + footerSize,
              let footer = try? FileSystem.read(fd, offset: size - footerSize, count: footerSize, path: path),
              Array(footer[32..<36]) == magic
        else { return nil }
        let (low, high) = footer.withUnsafeBytes { raw in
            (Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: Int64.self)),
             Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: Int64.self)))
        }
        return low <= high ? low...high : nil
    }

    /// Reads, checks and indexes one chunk.
    func read(_ meta: ChunkMeta) throws(StorageError) -> ChunkEntries {
        let compressed = try FileSystem.read(fd, offset: meta.offset, count: meta.length, path: path)
        do throws(CodecError) {
            return try compressed.withUnsafeBytes { raw in
                Result { () throws(CodecError) in try LogChunkCodec.decompress(raw, meta: meta) }
            }.get()
        } catch {
            throw StorageError(.corrupt("chunk: \(error)"), path: path, offset: meta.offset)
        }
    }

    /// One chunk's compressed bytes, checked against its CRC, to copy into another segment.
    func compressedChunk(_ meta: ChunkMeta) throws(StorageError) -> [UInt8] {
        let bytes = try FileSystem.read(fd, offset: meta.offset, count: meta.length, path: path)
        guard CRC32.checksum(bytes) == meta.crc else {
            throw StorageError(.corrupt("chunk checksum mismatch"), path: path, offset: meta.offset)
        }
        return bytes
    }

    // MARK: Writing

    /// Writes a segment: to `path.tmp`, fsynced, then renamed into place and
    /// the directory fsynced, so a crash leaves either no segment or a whole one.
    static func write(
        path: String, streams: [SegmentContents]
    ) throws(StorageError) {
        let temporary = path + ".tmp"
        let fd = try FileSystem.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var minTime = Int64.max
        var maxTime = Int64.min
        do throws(StorageError) {
            var written = 0
            var pending = magic + [version, 0, 0, 0]
            var index: [UInt8] = []
            Varint.append(UInt64(streams.count), to: &index)
            for stream in streams {
                Varint.append(UInt64(stream.labels.count), to: &index)
                for label in stream.labels {
                    appendString(label.name, to: &index)
                    appendString(label.value, to: &index)
                }
                Varint.append(UInt64(stream.chunks.count), to: &index)
                for chunk in stream.chunks {
                    let offset = written + pending.count
                    pending.append(contentsOf: chunk.bytes)
                    if pending.count >= 1 << 20 {
                        try FileSystem.writeAll(fd, pending, path: temporary)
                        written += pending.count
                        pending.removeAll(keepingCapacity: true)
                    }
                    let meta = chunk.meta
                    Varint.append(UInt64(offset), to: &index)
                    Varint.append(UInt64(meta.length), to: &index)
                    FixedWidth.append(meta.crc, to: &index)
                    Varint.appendSigned(meta.minTime, to: &index)
                    Varint.append(UInt64(meta.maxTime - meta.minTime), to: &index)
                    Varint.append(UInt64(meta.count), to: &index)
                    Varint.append(UInt64(meta.rawLength), to: &index)
                    minTime = min(minTime, meta.minTime)
                    maxTime = max(maxTime, meta.maxTime)
                }
            }
            let indexOffset = written + pending.count
            pending.append(contentsOf: index)
            FixedWidth.append(UInt64(indexOffset), to: &pending)
            FixedWidth.append(UInt32(index.count), to: &pending)
            FixedWidth.append(CRC32.checksum(index), to: &pending)
            FixedWidth.append(minTime == .max ? 0 : minTime, to: &pending)
            FixedWidth.append(maxTime == .min ? 0 : maxTime, to: &pending)
            pending.append(contentsOf: magic)
            try FileSystem.writeAll(fd, pending, path: temporary)
            try FileSystem.sync(fd, path: temporary)
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        do throws(StorageError) {
            try FileSystem.rename(temporary, path)
        } catch {
            unlink(temporary)
            throw error
        }
        try FileSystem.syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]))
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        Varint.append(UInt64(text.utf8.count), to: &out)
        out.append(contentsOf: text.utf8)
    }
}
