import BlockCodec
import TelemetryModel

/// Rebuilds the head from the WAL at start: stream records recreate
/// streams, entry records refill their open entries, and chunks are cut and
/// compressed as in normal operation.
struct HeadReplay {
    let options: LogStoreOptions
    var streams: [UInt32: HeadStream] = [:]
    var nextSerial = 0
    /// Entries naming a stream the WAL never defined (a damaged checkpoint would do it).
    var orphans = 0

    init(options: LogStoreOptions) {
        self.options = options
    }

    /// Applies one record; false when it does not decode.
    mutating func apply(kind: UInt8, _ payload: UnsafeRawBufferPointer) -> Bool {
        switch kind {
        case LogWALRecord.streamKind:
            guard let (id, labels) = try? LogWALRecord.decodeStream(payload) else { return false }
            if streams[id] == nil {
                streams[id] = HeadStream(id: id, labels: labels, key: LogStore.key(labels), policy: StreamPolicy(labels, options: options))
            }
            return true
        case LogWALRecord.entriesKind:
            do {
                try LogWALRecord.forEachEntry(payload) { id, time, timeText, line, fields in
                    guard streams[id] != nil else {
                        orphans += 1
                        return
                    }
                    streams[id]!.open.append(time: time, line: line, timeText: timeText) { $0.append(contentsOf: fields) }
                    streams[id]!.newest = max(streams[id]!.newest, time)
                    if streams[id]!.open.bytes.count >= options.chunkTargetBytes { cut(id) }
                }
                return true
            } catch {
                return false
            }
        default:
            return false
        }
    }

    private mutating func cut(_ id: UInt32) {
        let open = streams[id]!.open
        let (meta, bytes) = LogChunkCodec.compress(open.sortedEntries(), level: options.compressionLevel)
        streams[id]!.chunks.append(HeadChunk(serial: nextSerial, minTime: open.minTime, maxTime: open.maxTime, body: .compressed(meta, bytes)))
        nextSerial += 1
        streams[id]!.open = OpenChunk()
    }
}
