#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Aggregation
import BlockCodec
import DurableFiles

/// One file of the sketch archive: the rollups of one hour, or of part of
/// it (docs/format/sketches.md):
///
///     "TLYK" | u8 version (1) | 3 zero bytes | f64 relative accuracy (LE)
///     | AggregateRequest (AggregateWire: one sketch per family, no tags)
///     | u32 CRC-32 of every byte before it (LE)
///
/// Written to `NAME.tmp`, fsynced, renamed into place, the directory fsynced:
/// a crash leaves the whole file or none.
enum SketchFile {
    static let magic: [UInt8] = Array("TLYK".utf8)
    static let version: UInt8 = 1
    static let headerSize = 16

    static func write(path: String, rollups: [SketchRollup], relativeAccuracy: Double) throws(StorageError) {
        var bytes = magic + [version, 0, 0, 0]
        FixedWidth.append(relativeAccuracy.bitPattern, to: &bytes)
        bytes += SketchRollup.encode(rollups, relativeAccuracy: relativeAccuracy)
        FixedWidth.append(CRC32.checksum(bytes), to: &bytes)
        let temporary = path + ".tmp"
        do throws(StorageError) {
            try FileSystem.writeFile(temporary, bytes)
            try FileSystem.rename(temporary, path)
        } catch {
            unlink(temporary)
            throw error
        }
        try FileSystem.syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]))
    }

    /// The file's rollups and the accuracy they were built with; fails with
    /// the file and offset of what is damaged.
    static func read(path: String) throws(StorageError) -> (relativeAccuracy: Double, rollups: [SketchRollup]) {
        let bytes = try FileSystem.readFile(path)
        guard bytes.count >= headerSize + 4 else { throw StorageError(.corrupt("shorter than a sketch file's header"), path: path, offset: 0) }
        guard Array(bytes[0..<4]) == magic else { throw StorageError(.corrupt("not a sketch file"), path: path, offset: 0) }
        guard bytes[4] == version else { throw StorageError(.unsupportedVersion(Int(bytes[4])), path: path, offset: 4) }
        let body = bytes.count - 4
        let stored = bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: body, as: UInt32.self)) }
        guard CRC32.checksum(Array(bytes[0..<body])) == stored else {
            throw StorageError(.corrupt("checksum mismatch"), path: path, offset: body)
        }
        let accuracy = bytes.withUnsafeBytes { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))) }
        guard accuracy > 0, accuracy < 1 else { throw StorageError(.corrupt("relative accuracy \(accuracy) is not in (0, 1)"), path: path, offset: 8) }
        do throws(AggregateWire.Refusal) {
            return (accuracy, try SketchRollup.decode(Array(bytes[headerSize..<body]), relativeAccuracy: accuracy))
        } catch {
            throw StorageError(.corrupt("\(error)"), path: path, offset: headerSize)
        }
    }
}
