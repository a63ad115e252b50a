import TelemetryModel

/// A reusable buffer of parsed metric records, the unit that travels through
/// a shard's ring: a receive loop fills one per shard, pushes it, and the
/// shard returns it to the pool once applied. Records are fixed headers
/// followed by the key bytes (name, then tags), so nothing is allocated per line.
///
/// Record layout (native byte order, unaligned):
/// ```
/// 0  u64 hash of kind+name+tags      8  f64 value (a set: the member's hash)
/// 16 f64 weight (1 / sample rate)    24 u32 tags length
/// 28 u16 name length                 30 u8 kind   31 u8 flags (bit 0: gauge delta,
///                                                 bit 1: merge attachment `value`)
/// 32 name bytes, then tag bytes
/// ```
///
/// Ownership moves with the batch: exactly one thread reads or writes a batch
/// at a time (the producer until the ring push, the shard after the pop, the
/// pool in between), and the ring's release/acquire ordering publishes the
/// bytes; that is what makes the unchecked `Sendable` sound.
public final class RecordBatch: @unchecked Sendable {
    static let headerSize = 32
    /// The capacity a batch starts with; a batch is pushed when its next record does not fit.
    public static let defaultCapacity = 64 * 1024

    var storage: UnsafeMutableRawPointer
    var capacity: Int
    /// Bytes used.
    var used: Int = 0
    /// Records held.
    public internal(set) var recordCount: Int = 0
    /// Forwarded state that merge records refer to by index (an agent's
    /// sketches and estimated sets); empty for batches of lines.
    var attachments: [AggregateState] = []

    public init(capacity: Int = RecordBatch.defaultCapacity) {
        self.capacity = max(capacity, 256)
        storage = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Empties the batch for reuse, keeping its memory.
    public func reset() {
        used = 0
        recordCount = 0
        if !attachments.isEmpty { attachments.removeAll() }
    }

    public var isEmpty: Bool { recordCount == 0 }

    /// Whether a record with a key of `keyLength` bytes fits without growing.
    func fits(keyLength: Int) -> Bool {
        used + Self.headerSize + keyLength <= capacity
    }

    /// Appends one record. Grows only for a record larger than the whole batch.
    func append(
        hash: UInt64, value: Double, weight: Double, kind: MetricKind, delta: Bool,
        line: UnsafeRawBufferPointer, name: Range<Int>, tags: Range<Int>
    ) {
        let keyLength = name.count + tags.count
        if !fits(keyLength: keyLength) { grow(to: used + Self.headerSize + keyLength) }
        let p = storage + used
        p.storeBytes(of: hash, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: value, toByteOffset: 8, as: Double.self)
        p.storeBytes(of: weight, toByteOffset: 16, as: Double.self)
        p.storeBytes(of: UInt32(tags.count), toByteOffset: 24, as: UInt32.self)
        p.storeBytes(of: UInt16(name.count), toByteOffset: 28, as: UInt16.self)
        p.storeBytes(of: kind.rawValue, toByteOffset: 30, as: UInt8.self)
        p.storeBytes(of: delta ? 1 : 0, toByteOffset: 31, as: UInt8.self)
        if let base = line.baseAddress {
            Self.copyKey(to: p + Self.headerSize, from: base + name.lowerBound, count: name.count)
            Self.copyKey(to: p + Self.headerSize + name.count, from: base + tags.lowerBound, count: tags.count)
        }
        used += Self.headerSize + keyLength
        recordCount += 1
    }

    /// Copies a name or tags: short keys (most) word by word in line, where
    /// a `memmove` call would cost more than the copy; long ones by `memmove`.
    @inline(__always)
    static func copyKey(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
        guard count <= 64 else {
            destination.copyMemory(from: source, byteCount: count)
            return
        }
        var i = 0
        while i + 8 <= count {
            destination.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            destination.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }

    @usableFromInline
    func grow(to minimum: Int) {
        var newCapacity = capacity * 2
        while newCapacity < minimum { newCapacity *= 2 }
        let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newStorage.copyMemory(from: storage, byteCount: used)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }

    /// Appends a record that merges forwarded state into its series.
    func appendMerge(
        hash: UInt64, kind: MetricKind, state: AggregateState, key: UnsafeRawBufferPointer, name: Range<Int>, tags: Range<Int>
    ) {
        attachments.append(state)
        append(hash: hash, value: Double(attachments.count - 1), weight: 1, kind: kind, delta: false, line: key, name: name, tags: tags)
        (storage + used - Self.headerSize - name.count - tags.count).storeBytes(of: 2, toByteOffset: 31, as: UInt8.self)
    }

    /// Calls `body` with each record, in order.
    public func forEachRecord(_ body: (MetricRecord) -> Void) {
        var offset = 0
        while offset < used {
            let p = UnsafeRawPointer(storage + offset)
            let tagsLength = Int(p.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
            let nameLength = Int(p.loadUnaligned(fromByteOffset: 28, as: UInt16.self))
            let record = MetricRecord(
                hash: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                value: p.loadUnaligned(fromByteOffset: 8, as: Double.self),
                weight: p.loadUnaligned(fromByteOffset: 16, as: Double.self),
                kind: MetricKind(rawValue: p.load(fromByteOffset: 30, as: UInt8.self)) ?? .counter,
                isDelta: p.load(fromByteOffset: 31, as: UInt8.self) & 1 != 0,
                isMerge: p.load(fromByteOffset: 31, as: UInt8.self) & 2 != 0,
                key: UnsafeRawBufferPointer(start: p + Self.headerSize, count: nameLength + tagsLength),
                nameLength: nameLength
            )
            body(record)
            offset += Self.headerSize + nameLength + tagsLength
        }
    }
}

/// One record of a batch, as the shard sees it. `key` points into the batch.
public struct MetricRecord {
    public var hash: UInt64
    public var value: Double
    public var weight: Double
    public var kind: MetricKind
    public var isDelta: Bool
    /// The record merges the batch's attachment number `value` (forwarded state).
    public var isMerge: Bool
    /// Name bytes followed by tag bytes.
    public var key: UnsafeRawBufferPointer
    public var nameLength: Int

    init(hash: UInt64, value: Double, weight: Double, kind: MetricKind, isDelta: Bool, isMerge: Bool = false,
         key: UnsafeRawBufferPointer, nameLength: Int) {
        self.isMerge = isMerge
        self.hash = hash
        self.value = value
        self.weight = weight
        self.kind = kind
        self.isDelta = isDelta
        self.key = key
        self.nameLength = nameLength
    }
}
