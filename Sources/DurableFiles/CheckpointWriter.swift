#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A WAL checkpoint being written to its temporary file, records added in
/// as many pieces as the writer likes and written out a megabyte at a time,
/// so that a checkpoint of millions of series is never whole in memory.
/// `finish` completes the file and `WAL.completeCheckpoint` puts it in place.
package final class CheckpointWriter {
    package let through: Int
    let temporary: String
    let name: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private static let flushBytes = 1 << 20

    init(directory: String, through: Int) throws(StorageError) {
        self.through = through
        name = WAL.checkpointName(through)
        temporary = directory + "/" + name + ".tmp"
        fd = try FileSystem.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        buffer = WAL.magic + [WAL.version, 0, 0, 0]
    }

    deinit {
        // Abandoned (an error on the way): the partial file goes.
        if fd >= 0 {
            close(fd)
            unlink(temporary)
        }
    }

    /// Adds records after those added before.
    package func add(_ records: [some WALEntry]) throws(StorageError) {
        for record in records {
            WAL.frame(record, into: &buffer)
            if buffer.count >= Self.flushBytes { try flush() }
        }
    }

    private func flush() throws(StorageError) {
        try FileSystem.writeAll(fd, buffer, path: temporary)
        buffer.removeAll(keepingCapacity: true)
    }

    /// A checkpoint file written whole, waiting to be put in place.
    package struct Finished: Sendable {
        let temporary: String
        let name: String
        let through: Int
    }

    /// Writes what is left and fsyncs the file.
    package func finish() throws(StorageError) -> Finished {
        try flush()
        try FileSystem.sync(fd, path: temporary)
        close(fd)
        fd = -1
        return Finished(temporary: temporary, name: name, through: through)
    }
}
