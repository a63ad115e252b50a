#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlockCodec

/// A record the write-ahead log can hold: a kind byte and a payload.
package protocol WALEntry {
    var walKind: UInt8 { get }
    /// Appends the payload bytes (without the frame).
    func encodePayload(into out: inout [UInt8])
}

/// The write-ahead log: numbered segment files in `DIR/wal`, each a header
/// and a run of framed records (kind, length, CRC-32, payload), rotated at a
/// size; a checkpoint file stands for every segment up to its number.
/// docs/format/wal.md has the layout. Not thread-safe: the storage engine
/// calls it under its own lock.
package final class WAL {
    package static let magic: [UInt8] = Array("TLYW".utf8)
    package static let version: UInt8 = 1
    package static let headerSize = 8
    package static let frameSize = 9

    package let directory: String
    package let segmentBytes: Int
    package private(set) var segment: Int
    private var fd: Int32
    private var written: Int
    /// Bytes written since the last fsync.
    package private(set) var dirty = false

    /// Opens the log for appending in a new segment after the existing ones.
    package init(directory: String, segmentBytes: Int) throws(StorageError) {
        self.directory = directory
        self.segmentBytes = segmentBytes
        try FileSystem.makeDirectory(directory)
        let last = try WAL.segments(in: directory).last ?? 0
        segment = last + 1
        fd = -1
        written = 0
        try openSegment()
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    package static func segmentName(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    package static func checkpointName(_ number: Int) -> String { "checkpoint." + segmentName(number) }

    /// Segment numbers present, ascending.
    package static func segments(in directory: String) throws(StorageError) -> [Int] {
        try FileSystem.list(directory).compactMap { name in
            name.count == 8 && name.allSatisfy(\.isNumber) ? Int(name) : nil
        }.sorted()
    }

    /// The newest complete checkpoint's number, if any.
    package static func checkpoint(in directory: String) throws(StorageError) -> Int? {
        try FileSystem.list(directory).compactMap { name -> Int? in
            guard name.hasPrefix("checkpoint."), !name.hasSuffix(".tmp") else { return nil }
            return Int(name.dropFirst("checkpoint.".count))
        }.max()
    }

    private func openSegment() throws(StorageError) {
        let path = directory + "/" + WAL.segmentName(segment)
        let newFD = try FileSystem.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try FileSystem.writeAll(newFD, WAL.magic + [WAL.version, 0, 0, 0], path: path)
            try FileSystem.syncDirectory(directory)
        } catch {
            close(newFD)
            unlink(path)
            throw error
        }
        if fd >= 0 {
            try? FileSystem.sync(fd, path: path)
            close(fd)
        }
        fd = newFD
        written = WAL.headerSize
        dirty = true
    }

    /// Appends records as one write. Rotates first when the segment is full.
    package func log(_ records: [some WALEntry]) throws(StorageError) {
        var bytes: [UInt8] = []
        for record in records { WAL.frame(record, into: &bytes) }
        if written > WAL.headerSize && written + bytes.count > segmentBytes {
            try rotate()
        }
        let path = directory + "/" + WAL.segmentName(segment)
        do {
            try FileSystem.writeAll(fd, bytes, path: path)
        } catch {
            // A partial write (disk full) would leave a torn record that replay
            // cuts, with every later record. Cut it now: shrinking a file needs
            // no space. Failing that, start a fresh segment.
            if ftruncate(fd, off_t(written)) != 0 || lseek(fd, off_t(written), SEEK_SET) < 0 {
                _ = try? rotate()
            }
            throw error
        }
        written += bytes.count
        dirty = true
    }

    /// Frames one record: kind, payload length, CRC-32 of kind and payload, payload.
    package static func frame(_ record: some WALEntry, into bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(record.walKind)
        bytes.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
        record.encodePayload(into: &bytes)
        let length = UInt32(bytes.count - start - frameSize)
        let crc = bytes.withUnsafeBytes { raw in
            let kindCRC = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<(start + 1)]))
            return CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[(start + frameSize)...]), initial: kindCRC)
        }
        withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange((start + 1)..<(start + 5), with: $0) }
        withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange((start + 5)..<(start + 9), with: $0) }
    }

    package func sync() throws(StorageError) {
        guard dirty else { return }
        try FileSystem.sync(fd, path: directory + "/" + WAL.segmentName(segment))
        dirty = false
    }

    /// Closes the current segment and starts the next; returns the number of
    /// the segment closed.
    @discardableResult
    package func rotate() throws(StorageError) -> Int {
        let closed = segment
        segment += 1
        do {
            try openSegment()
        } catch {
            segment -= 1
            throw error
        }
        return closed
    }

    /// Writes a checkpoint standing for every segment up to `through`, then
    /// deletes those segments (but those from `keepFrom` on, which a
    /// forwarder still reads) and older checkpoints. The checkpoint is
    /// written to a temporary name, fsynced and renamed, so a crash leaves
    /// either the old state or the new one. Replay reads only segments after
    /// the checkpoint, so kept ones are not applied twice.
    package func checkpoint(through: Int, records: [some WALEntry], keepFrom: Int? = nil) throws(StorageError) {
        let writer = try beginCheckpoint(through: through)
        try writer.add(records)
        try completeCheckpoint(try writer.finish(), keepFrom: keepFrom)
    }

    /// Starts a checkpoint for the segments up to `through`, to be filled a
    /// piece at a time and put in place by `completeCheckpoint`. Writing it
    /// touches nothing of the log's own state: appends may go on meanwhile.
    package func beginCheckpoint(through: Int) throws(StorageError) -> CheckpointWriter {
        try CheckpointWriter(directory: directory, through: through)
    }

    /// Puts a finished checkpoint in place, as `checkpoint(through:records:keepFrom:)` does.
    package func completeCheckpoint(_ writer: CheckpointWriter.Finished, keepFrom: Int? = nil) throws(StorageError) {
        try FileSystem.rename(writer.temporary, directory + "/" + writer.name)
        try FileSystem.syncDirectory(directory)
        for number in try WAL.segments(in: directory) where number <= writer.through && number < (keepFrom ?? .max) {
            try FileSystem.removeTree(directory + "/" + WAL.segmentName(number))
        }
        for entry in try FileSystem.list(directory) where entry.hasPrefix("checkpoint.") && entry != writer.name {
            try FileSystem.removeTree(directory + "/" + entry)
        }
    }
}
