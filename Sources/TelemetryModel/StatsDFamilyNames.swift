/// The names and kinds of the families made from StatsD lines, by the hash
/// of the name, with the names' bytes in one arena: a family costs its bytes
/// and one 16-byte table entry. (A `String` in a dictionary cost a heap
/// object for every name over 15 bytes, about 110 bytes a family; with ids
/// in names, every series is a family of its own.) Not thread-safe: the
/// catalog guards it.
struct StatsDFamilyNames {
    /// Per hash: the name's offset in `bytes` (36 bits), its length (20 bits), the kind (8 bits).
    private var byHash: [Int: UInt64] = [:]
    private var bytes: [UInt8] = []
    /// Bytes of names forgotten since the last compaction.
    private var garbage = 0

    /// Names longer than this are not recorded (their family has no metadata).
    static let maxNameLength = (1 << 20) - 1

    var count: Int { byHash.count }

    /// Records a family unless its hash is known already.
    mutating func insert(hash: Int, name: String, kind: MetricKind) {
        guard byHash[hash] == nil else { return }
        let length = name.utf8.count
        guard length <= Self.maxNameLength, bytes.count + length < 1 << 36 else { return }
        let offset = bytes.count
        bytes.append(contentsOf: name.utf8)
        byHash[hash] = UInt64(offset) << 28 | UInt64(length) << 8 | UInt64(kind.rawValue)
    }

    mutating func remove(hash: Int) {
        guard let packed = byHash.removeValue(forKey: hash) else { return }
        garbage += Self.unpack(packed).length
        if garbage >= 1 << 16, garbage * 2 > bytes.count { compact() }
    }

    /// Calls `body` with every family's name and kind.
    func forEach(_ body: (String, MetricKind) -> Void) {
        bytes.withUnsafeBytes { raw in
            for packed in byHash.values {
                let (offset, length, kind) = Self.unpack(packed)
                body(String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length]), as: UTF8.self), kind)
            }
        }
    }

    private static func unpack(_ packed: UInt64) -> (offset: Int, length: Int, kind: MetricKind) {
        // Only `insert` packs, with a kind's own raw value.
        (Int(packed >> 28), Int(packed >> 8 & 0xF_FFFF), MetricKind(rawValue: UInt8(truncatingIfNeeded: packed)) ?? .gauge)
    }

    /// Rewrites the arena with the live names only.
    private mutating func compact() {
        var compacted: [UInt8] = []
        compacted.reserveCapacity(bytes.count - garbage)
        byHash = byHash.mapValues { packed in
            let (offset, length, kind) = Self.unpack(packed)
            let at = compacted.count
            compacted.append(contentsOf: bytes[offset..<offset + length])
            return UInt64(at) << 28 | UInt64(length) << 8 | UInt64(kind.rawValue)
        }
        bytes = compacted
        garbage = 0
    }
}
