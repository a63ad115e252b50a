import BlockCodec
import DurableFiles

/// What `tally verify` checks of a log store, from its files alone (no
/// lock is taken: it only reads).
public enum LogStoreInspection {
    /// Checks every segment byte by byte (header, each chunk's checksum and
    /// contents, the index's checksum, the footer) and every record of the
    /// WAL; segments set aside as damaged at an earlier start are listed too.
    /// Returns the number of segments and each damage with its file and offset.
    public static func verify(directory: String) throws(StorageError) -> (segments: Int, problems: [StorageError]) {
        var problems: [StorageError] = []
        var count = 0
        let segmentDirectory = directory + "/segments"
        if FileSystem.isDirectory(segmentDirectory) {
            for name in try FileSystem.list(segmentDirectory).sorted() {
                let path = segmentDirectory + "/" + name
                if name.hasSuffix(".seg.damaged") {
                    problems.append(StorageError(.corrupt("set aside as damaged when the store last opened"), path: path))
                    continue
                }
                guard name.hasSuffix(".seg"), let number = Int(name.dropLast(4)) else { continue }
                count += 1
                do throws(StorageError) {
                    try LogSegment(path: path, number: number).verify()
                } catch {
                    problems.append(error)
                }
            }
        }
        do throws(StorageError) {
            let report = try WALReplay.run(directory: directory + "/wal", repair: false) { kind, payload in
                decodes(kind: kind, payload)
            }
            if let damage = report.repaired {
                problems.append(StorageError(.corrupt(damage.reason), path: damage.path, offset: damage.offset))
            }
        } catch {
            problems.append(error)
        }
        return (count, problems)
    }

    /// Whether a WAL record decodes whole.
    private static func decodes(kind: UInt8, _ payload: UnsafeRawBufferPointer) -> Bool {
        switch kind {
        case LogWALRecord.streamKind:
            return (try? LogWALRecord.decodeStream(payload)) != nil
        case LogWALRecord.entriesKind:
            return (try? LogWALRecord.forEachEntry(payload) { _, _, _, _, _ in }) != nil
        default:
            return false
        }
    }
}
