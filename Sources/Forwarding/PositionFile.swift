#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TimeSeriesStorage

/// A destination's read position in the WAL, kept in
/// `DATA/remote_write/NAME/position` as one line, `SEGMENT OFFSET`.
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

    /// The saved position, or nil when there is none (a new destination).
    func load() -> WALPosition? {
        guard let text = RemoteWriteClient.readSecret(path) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count == 2, let segment = Int(fields[0]), let offset = Int(fields[1]), segment >= 0, offset >= 0 else { return nil }
        return WALPosition(segment: segment, offset: offset)
    }

    mutating func save(_ position: WALPosition, now: UInt64) throws(ForwardingError) {
        try makeDirectories(directory)
        let temporary = path + ".tmp"
        let text = "\(position.segment) \(position.offset)\n"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ForwardingError.io("cannot write \(temporary)", errno) }
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        let sync = now &- lastSync >= 1_000_000_000
        if sync { _ = fsync(fd) }
        close(fd)
        guard written == text.utf8.count else { throw ForwardingError.io("cannot write \(temporary)", errno) }
        guard rename(temporary, path) == 0 else { throw ForwardingError.io("cannot rename \(temporary)", errno) }
        if sync {
            let dir = open(directory, O_RDONLY)
            if dir >= 0 {
                _ = fsync(dir)
                close(dir)
            }
            lastSync = now
        }
    }
}

/// `mkdir -p`.
func makeDirectories(_ path: String) throws(ForwardingError) {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
        prefix += component
        if mkdir(prefix, 0o755) != 0, errno != EEXIST {
            throw ForwardingError.io("cannot create \(path)", errno)
        }
        prefix += "/"
    }
}

/// A forwarder's problem with its own files or settings.
public struct ForwardingError: Error, CustomStringConvertible, Sendable {
    public var description: String

    static func io(_ what: String, _ code: Int32) -> ForwardingError {
        ForwardingError(description: "\(what): \(String(cString: strerror(code)))")
    }
}
