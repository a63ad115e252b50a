#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DurableFiles
import Logging
import TelemetryModel

/// A destination's read position in a WAL, kept in
/// `DATA/remote_write/NAME/position` (or `DATA/loki_push/NAME/position`) as
/// one line, `SEGMENT OFFSET`.
///
/// Saved after every acknowledged round of sends by writing a temporary
/// file and renaming it over the old one, so a crash or kill -9 leaves the
/// old position or the new one, never a torn one. The rename reaches the
/// disk at most a second later (an fsync then): a power cut may cost a
/// second of resends, never a sample.
struct PositionFile {
    let directory: String
    var path: String { directory + "/position" }
    private var lastSync: UInt64 = 0

    init(directory: String) {
        self.directory = directory
    }

    /// Where a forwarder (`kind`, for the log) starts: its saved position,
    /// or, for a new destination, the end of the WAL as it is now, saved at
    /// once so that a restart does not skip what is logged meanwhile; nil
    /// (logged) when the position can be neither read nor saved.
    mutating func begin(walDirectory: String, kind: String, url: String, logger: Logger) -> WALPosition? {
        if let position = load() {
            logger.info("\(kind) resumes from its saved WAL position", metadata: ["position": "\(position)"])
            return position
        }
        do {
            let end = try WALTail.end(directory: walDirectory)
            try save(end, now: monotonicNanos())
            logger.info("\(kind) starts with what is stored from now on", metadata: ["url": "\(url)"])
            return end
        } catch {
            logger.error("\(kind) cannot read or save its position; not sending", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The saved position, or nil when there is none (a new destination).
    func load() -> WALPosition? {
        guard let text = PushClient.readSecret(path) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count == 2, let segment = Int(fields[0]), let offset = Int(fields[1]), segment >= 0, offset >= 0 else { return nil }
        return WALPosition(segment: segment, offset: offset)
    }

    mutating func save(_ position: WALPosition, now: UInt64) throws(StorageError) {
        // DATA/remote_write, then DATA/remote_write/NAME.
        try FileSystem.makeDirectory(String(directory[..<directory.lastIndex(of: "/")!]))
        try FileSystem.makeDirectory(directory)
        let temporary = path + ".tmp"
        let fd = try FileSystem.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        try FileSystem.writeAll(fd, Array("\(position.segment) \(position.offset)\n".utf8), path: temporary)
        let sync = now &- lastSync >= 1_000_000_000
        if sync { try FileSystem.sync(fd, path: temporary) }
        try FileSystem.rename(temporary, path)
        if sync {
            try FileSystem.syncDirectory(directory)
            lastSync = now
        }
    }
}
