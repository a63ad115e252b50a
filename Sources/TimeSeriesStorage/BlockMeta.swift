import DurableFiles
import Foundation

/// A block's `meta.json`: what it holds and how it came to be. Layout and
/// field meanings: docs/format/block.md.
public struct BlockMeta: Codable, Sendable, Equatable {
    public static let currentVersion = 1

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
        guard meta.version == currentVersion else { throw StorageError(.unsupportedVersion(meta.version), path: path) }
        return meta
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Encoding plain integers and strings cannot fail.
        return Array((try? encoder.encode(self)) ?? Data())
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
