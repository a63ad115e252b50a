#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a data directory (`flock` on `DIR/lock`), held for
/// the life of the process so that two tallies never write the same store.
/// The lock file records the holder's pid for the error message; the kernel
/// releases the lock when the process dies, so a stale file never blocks.
public final class DirectoryLock: Sendable {
    private let fd: Int32
    public let path: String

    public init(directory: String) throws(StorageError) {
        path = directory + "/lock"
        let fd = try FileSystem.open(path, flags: O_RDWR | O_CREAT)
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? FileSystem.read(fd, offset: 0, count: (try? FileSystem.size(fd, path: path)) ?? 0, path: path))
                .map { String(decoding: $0, as: UTF8.self).trimmingSpaces } ?? ""
            close(fd)
            let who = holder.isEmpty ? "another process" : "another tally (pid \(holder))"
            throw StorageError(.locked("the data directory is in use by \(who); stop it or choose another --data-dir"), path: directory)
        }
        _ = ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
