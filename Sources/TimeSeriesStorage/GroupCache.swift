import Synchronization

/// Inflated chunk groups kept for queries, bounded in bytes; the least
/// recently used are evicted first. Shared by every open block.
final class GroupCache: Sendable {
    struct Key: Hashable {
        var block: String
        var offset: Int64
    }

    private struct Entry {
        var bytes: [UInt8]
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Bytes of the groups held.
    var byteCount: Int { state.withLock { $0.bytes } }

    func get(_ key: Key) -> [UInt8]? {
        state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            state.clock += 1
            entry.lastUse = state.clock
            state.entries[key] = entry
            return entry.bytes
        }
    }

    func put(_ key: Key, _ bytes: [UInt8]) {
        guard bytes.count <= capacity else { return }
        state.withLock { state in
            state.clock += 1
            if let old = state.entries[key] { state.bytes -= old.bytes.count }
            state.entries[key] = Entry(bytes: bytes, lastUse: state.clock)
            state.bytes += bytes.count
            while state.bytes > capacity {
                // Evict the least recently used: a scan, over at most a few thousand groups.
                guard let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) else { break }
                state.bytes -= oldest.value.bytes.count
                state.entries[oldest.key] = nil
            }
        }
    }

    /// Forgets a deleted block's groups.
    func drop(block: String) {
        state.withLock { state in
            for key in state.entries.keys where key.block == block {
                state.bytes -= state.entries[key]!.bytes.count // the key was just listed
                state.entries[key] = nil
            }
        }
    }
}
