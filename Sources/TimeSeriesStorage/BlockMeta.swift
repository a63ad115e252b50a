import BlockCodec
import DurableFiles
import Foundation

/// A block's `meta.json`: what it holds and how it came to be. Layout and
/// field meanings: docs/format/block.md.
public struct BlockMeta: Codable, Sendable, Equatable {
    /// 2 adds the checksum; blocks of version 1, written before it, are still read.
    public static let currentVersion = 2
    static let readableVersions = 1...2
    /// The file's last key: CRC-32 of every byte of the file with these 8 hex digits as zeros.
    static let checksumMarker = Array(#""checksum" : "crc32:"#.utf8)

    public struct Stats: Codable, Sendable, Equatable {
        public var series: Int
        public var samples: Int
        public var chunks: Int
        public var groups: Int
        /// Chunk bytes before zlib (the block chunk encodings alone).
        public var encodedBytes: Int
        /// Chunk bytes on disk, after zlib where it paid (plus group frames).
        public var chunkFileBytes: Int
        public var indexBytes: Int
    }

    public struct Compaction: Codable, Sendable, Equatable {
        /// 1 for a block cut from the head or imported raw; one more per merge.
        public var level: Int
        /// The blocks merged into this one.
        public var sources: [String]
    }

    public var version: Int
    public var ulid: String
    /// The first and last sample times (milliseconds, inclusive).
    public var minTime: Int64
    public var maxTime: Int64
    public var stats: Stats
    public var compaction: Compaction

    static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> BlockMeta {
        let meta: BlockMeta
        do {
            meta = try JSONDecoder().decode(BlockMeta.self, from: Data(bytes))
        } catch {
            throw StorageError(.corrupt("meta.json does not decode: \(error)"), path: path)
        }
        guard readableVersions.contains(meta.version) else { throw StorageError(.unsupportedVersion(meta.version), path: path) }
        if meta.version >= 2 { try checkChecksum(bytes, path: path) }
        return meta
    }

    /// Any byte changed after the file was written, whitespace included, fails the check.
    private static func checkChecksum(_ bytes: [UInt8], path: String) throws(StorageError) {
        guard let at = checksumDigits(in: bytes) else {
            throw StorageError(.corrupt("meta.json has no checksum"), path: path, offset: 0)
        }
        guard let stored = UInt32(String(decoding: bytes[at..<at + 8], as: UTF8.self), radix: 16) else {
            throw StorageError(.corrupt("meta.json's checksum is not 8 hex digits"), path: path, offset: at)
        }
        var zeroed = bytes
        zeroed.replaceSubrange(at..<at + 8, with: Array(repeating: UInt8(ascii: "0"), count: 8))
        let actual = CRC32.checksum(zeroed)
        guard actual == stored else {
            throw StorageError(
                .corrupt("meta.json checksum mismatch (crc32 \(hex(actual)), recorded \(hex(stored))): the file changed after it was written"),
                path: path, offset: 0)
        }
    }

    /// Where the checksum's 8 hex digits start: after the last marker, if they fit.
    private static func checksumDigits(in bytes: [UInt8]) -> Int? {
        let marker = checksumMarker
        guard bytes.count >= marker.count + 8 else { return nil }
        for start in stride(from: bytes.count - marker.count - 8, through: 0, by: -1) where bytes[start] == marker[0] {
            if Array(bytes[start..<start + marker.count]) == marker { return start + marker.count }
        }
        return nil
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// The JSON, then the checksum as its last key.
    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Encoding plain integers and strings cannot fail.
        var bytes = Array((try? encoder.encode(self)) ?? Data())
        // Pretty-printed JSON ends with "\n}": the checksum goes in as one more key before it.
        guard version >= 2, bytes.suffix(2) == Array("\n}".utf8) else { return bytes }
        bytes.removeLast(2)
        bytes += Array(",\n  ".utf8) + Self.checksumMarker
        let at = bytes.count
        bytes += Array("00000000\"\n}\n".utf8)
        let digits = Array(Self.hex(CRC32.checksum(bytes)).utf8)
        bytes.replaceSubrange(at..<at + 8, with: digits)
        return bytes
    }
}

/// Block identifiers: ULIDs (48 bits of milliseconds, 80 random bits, in
/// Crockford base 32), so that names sort by creation time.
enum ULID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    static func make(millis: Int64) -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        let time = UInt64(max(0, millis))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: time >> UInt64(8 * (5 - i))) }
        for i in 6..<16 { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        // 26 characters of 5 bits cover 130 bits: the 128 of the id after two zero bits.
        var chars: [UInt8] = []
        for index in 0..<26 {
            var value = 0
            for bit in (index * 5 - 2)..<(index * 5 + 3) {
                let set = bit >= 0 && (bytes[bit >> 3] >> UInt8(7 - (bit & 7))) & 1 == 1
                value = value << 1 | (set ? 1 : 0)
            }
            chars.append(alphabet[value])
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
