import Synchronization
import DurableFiles

/// What a destination's shards have in flight, shared by the reader that
/// hands out work and the shards that settle it.
///
/// The reader cuts the WAL into chunks, numbered in order, each ending at a
/// WAL position; a chunk's samples go to the shards in parts. A chunk is
/// settled when each of its parts is (acknowledged, or refused for good);
/// the position that may be saved is the end of the last chunk settled with
/// every chunk before it, so a restart resends only unsettled work.
final class SendTracker: Sendable {
    struct State {
        var nextChunk = 0
        /// Parts still unsettled, by chunk.
        var open: [Int: Int] = [:]
        var ends: [Int: WALPosition] = [:]
        /// Every chunk below this is settled.
        var settledBelow = 0
        var saveable: WALPosition?
        var samplesInFlight = 0
        var sent = 0
        var failed = 0
        var bytes = 0
        var newest: Int64?
        var overDiskCap = false
    }

    private let state = Mutex(State())

    /// Registers a chunk of `parts` parts (0 for one with no samples to
    /// send) ending at `end`; returns its number.
    func open(parts: Int, samples: Int, end: WALPosition) -> Int {
        state.withLock { state in
            let chunk = state.nextChunk
            state.nextChunk += 1
            state.ends[chunk] = end
            state.open[chunk] = parts
            state.samplesInFlight += samples
            Self.advance(&state)
            return chunk
        }
    }

    /// A part settled: `sent` acknowledged, `failed` refused for good.
    func settle(chunk: Int, samples: Int, sent: Int, failed: Int, bytes: Int, newest: Int64?) {
        state.withLock { state in
            state.open[chunk, default: 1] -= 1
            state.samplesInFlight -= samples
            state.sent += sent
            state.failed += failed
            state.bytes += bytes
            if let newest { state.newest = max(state.newest ?? newest, newest) }
            Self.advance(&state)
        }
    }

    func markOverDiskCap() {
        state.withLock { $0.overDiskCap = true }
    }

    private static func advance(_ state: inout State) {
        while let left = state.open[state.settledBelow], left <= 0 {
            state.saveable = state.ends[state.settledBelow]
            state.open[state.settledBelow] = nil
            state.ends[state.settledBelow] = nil
            state.settledBelow += 1
        }
    }

    /// Takes the counts settled since the last call and the position that may now be saved.
    func collect() -> (sent: Int, failed: Int, bytes: Int, newest: Int64?, saveable: WALPosition?, inFlight: Int, overDiskCap: Bool) {
        state.withLock { state in
            defer {
                state.sent = 0
                state.failed = 0
                state.bytes = 0
                state.newest = nil
                state.saveable = nil
            }
            return (state.sent, state.failed, state.bytes, state.newest, state.saveable, state.samplesInFlight, state.overDiskCap)
        }
    }
}
