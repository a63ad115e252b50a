/// A fast 64-bit hash over bytes, for series identity and shard routing.
/// It reads eight bytes at a time and mixes with multiply-xorshift rounds
/// (in the spirit of wyhash); it is not cryptographic, and collisions are
/// resolved by comparing the key bytes, so quality only affects speed.
@usableFromInline
enum SeriesHash {
    @usableFromInline static let m1: UInt64 = 0x9E37_79B9_7F4A_7C15
    @usableFromInline static let m2: UInt64 = 0xBF58_476D_1CE4_E5B9

    @inlinable
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// Hashes `count` bytes at `pointer`, continuing from `seed`.
    @inlinable
    static func hash(_ pointer: UnsafeRawPointer, _ count: Int, seed: UInt64) -> UInt64 {
        var h = seed ^ m1 ^ UInt64(truncatingIfNeeded: count)
        var i = 0
        while i + 16 <= count {
            let a = pointer.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let b = pointer.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
            h = mix(a ^ m1, b ^ h)
            i += 16
        }
        if i + 8 <= count {
            h = mix(pointer.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ m2, h ^ m1)
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < count {
            tail |= UInt64(pointer.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        return avalanche(mix(h ^ tail ^ m2, m1 ^ UInt64(truncatingIfNeeded: count)))
    }

    /// MurmurHash3's 64-bit finaliser: every input bit flips each output bit
    /// with probability near one half, which HyperLogLog's registers need.
    @inlinable
    static func avalanche(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    /// Hashes a byte range of a buffer.
    @inlinable
    static func hash(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, seed: UInt64) -> UInt64 {
        guard let base = bytes.baseAddress, !range.isEmpty else { return mix(seed ^ m2, m1) }
        return hash(base + range.lowerBound, range.count, seed: seed)
    }
}
